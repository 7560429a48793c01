"""Lua scripts that make the multi-key ACD changes atomic in Redis.

The two main scripts:

* ``PICK`` finds the best waiting call that has a ready agent, by the rules of
  :mod:`backend.acd.policy`, and reserves both in one step: two controllers running it at the same
  moment can never give one agent two calls or one call two agents.
* ``APPLY`` is a compare-and-set: the new agent state is computed in Python by the pure state
  machine (:mod:`backend.acd.states`); the script applies it only if the agent's version and the
  call's status are still what Python read, together with the queue and index updates.

Scores are computed in Python and passed as strings: Redis turns Lua numbers into strings
with 14 significant digits, too few to trust for packed scores. Key names are built from a
prefix inside the scripts (agent keys are only known once a call is picked), so this needs a
single Redis or one hash slot, not a sharded cluster.
"""

from __future__ import annotations

PICK = r"""
local P = ARGV[1]
local now = ARGV[2]
local plan = cjson.decode(ARGV[3])
local actor = ARGV[4]
local W = 10000000000000

local cands = {}
for _, q in ipairs(plan) do
  local qkey = P .. ':queue:' .. q.skill
  local head = redis.call('ZRANGE', qkey, 0, 0, 'WITHSCORES')
  if #head > 0 then
    table.insert(cands, {id=head[1], score=tonumber(head[2]), skill=q.skill, via=q.skill, ov=0})
  end
  if q.overflow ~= '' then
    -- The first call of each priority band that has waited long enough: bands run from
    -- the highest priority down, so the first hit is the first eligible call in queue order.
    for _, band in ipairs(q.bands) do
      local hit = redis.call('ZRANGEBYSCORE', qkey, band[1], band[2], 'WITHSCORES', 'LIMIT', 0, 1)
      if #hit > 0 then
        table.insert(cands,
          {id=hit[1], score=tonumber(hit[2]), skill=q.skill, via=q.overflow, ov=1})
        break
      end
    end
  end
end
table.sort(cands, function(a, b)
  if a.score ~= b.score then return a.score < b.score end
  if a.id ~= b.id then return a.id < b.id end
  return a.ov < b.ov
end)

for _, c in ipairs(cands) do
  local rkey = P .. ':ready:' .. c.via
  while true do
    local best = redis.call('ZRANGE', rkey, 0, 0, 'WITHSCORES')
    if #best == 0 then break end
    local agent = best[1]
    local akey = P .. ':agent:' .. agent
    if redis.call('HGET', akey, 'state') ~= 'ready' then
      -- A stale index entry must never hand out a busy agent: drop it and look again.
      redis.call('ZREM', rkey, agent)
    else
      local ascore = tonumber(best[2])
      local ready_count = redis.call('ZCARD', rkey)
      local band = math.floor(ascore / W)
      local same = redis.call('ZCOUNT', rkey, string.format('%.0f', band * W),
        '(' .. string.format('%.0f', (band + 1) * W))
      local since = redis.call('HGET', akey, 'since') or '0'
      local at = now
      if tonumber(since) > tonumber(now) then at = since end
      local version = tonumber(redis.call('HGET', akey, 'version') or '0') + 1
      redis.call('HSET', akey, 'state', 'reserved', 'reason', '', 'call_id', c.id,
        'since', at, 'wrapup_until', '0', 'version', tostring(version))
      local skills = redis.call('HGET', akey, 'skills') or ''
      for s in string.gmatch(skills, '([^,=]+)=%d+') do
        redis.call('ZREM', P .. ':ready:' .. s, agent)
      end
      redis.call('XADD', P .. ':events', 'MAXLEN', '~', '100000', '*', 'agent_id', agent,
        'state', 'reserved', 'reason', '', 'call_id', c.id, 'at', at, 'actor', actor,
        'before', 'ready')
      redis.call('ZREM', P .. ':queue:' .. c.skill, c.id)
      local ckey = P .. ':call:' .. c.id
      redis.call('HSET', ckey, 'status', 'reserved', 'agent_id', agent, 'reserved_at', now,
        'via', c.via, 'picked_by', actor)
      local mbox = P .. ':mailbox:' .. c.id
      redis.call('DEL', mbox)
      redis.call('RPUSH', mbox, agent)
      redis.call('EXPIRE', mbox, 3600)
      return {c.id, agent, c.skill, c.via, c.ov, best[2], ready_count, same,
        redis.call('HGET', akey, 'idle_since') or '0',
        redis.call('HGET', ckey, 'priority') or '0',
        redis.call('HGET', ckey, 'entered') or '0',
        redis.call('HGET', ckey, 'callback') or '0',
        redis.call('HGET', akey, 'number') or '',
        redis.call('HGET', akey, 'interface') or ''}
    end
  end
end
return false
"""

APPLY = r"""
local P = ARGV[1]
local function hset_map(key, map)
  local flat = {}
  for k, v in pairs(map) do table.insert(flat, k); table.insert(flat, v) end
  if #flat > 0 then redis.call('HSET', key, unpack(flat)) end
end
local op = cjson.decode(ARGV[2])
local a = op.agent
local c = op.call
local akey, ckey
if a then
  akey = P .. ':agent:' .. a.id
  if (redis.call('HGET', akey, 'version') or '0') ~= a.expect_version then
    return 'agent-conflict'
  end
end
if c then
  ckey = P .. ':call:' .. c.id
  local status = redis.call('HGET', ckey, 'status') or ''
  if c.expect_status then
    local ok = false
    for _, s in ipairs(c.expect_status) do if s == status then ok = true end end
    if not ok then return 'call-conflict' end
  end
  if c.expect_agent and (redis.call('HGET', ckey, 'agent_id') or '') ~= c.expect_agent then
    return 'call-conflict'
  end
end

if a then
  hset_map(akey, a.fields)
  redis.call('SADD', P .. ':agents', a.id)
  for _, s in ipairs(a.ready_remove) do redis.call('ZREM', P .. ':ready:' .. s, a.id) end
  for _, pair in ipairs(a.ready_add) do
    redis.call('ZADD', P .. ':ready:' .. pair[1], pair[2], a.id)
  end
  -- Staffed = signed in and not on a break: the agents a wait estimate may count on.
  for _, s in ipairs(a.staffed_remove) do redis.call('SREM', P .. ':staffed:' .. s, a.id) end
  for _, s in ipairs(a.staffed_add) do redis.call('SADD', P .. ':staffed:' .. s, a.id) end
  if a.wrapup_until ~= '' then
    redis.call('ZADD', P .. ':wrapup', a.wrapup_until, a.id)
  else
    redis.call('ZREM', P .. ':wrapup', a.id)
  end
  if a.event then
    redis.call('XADD', P .. ':events', 'MAXLEN', '~', '100000', '*', 'agent_id', a.id,
      'state', a.event.state, 'reason', a.event.reason, 'call_id', a.event.call_id,
      'at', a.event.at, 'actor', a.event.actor, 'before', a.event.before or '',
      'skills', a.event.skills or '')
  end
end

if c then
  hset_map(ckey, c.fields)
  local qkey = P .. ':queue:' .. (redis.call('HGET', ckey, 'skill') or '')
  if c.queue == 'add' then
    -- Back in at the score it first entered with: ring-no-answer and callbacks keep their place.
    redis.call('ZADD', qkey, redis.call('HGET', ckey, 'score'), c.id)
  elseif c.queue == 'remove' then
    redis.call('ZREM', qkey, c.id)
  end
  if c.clear_mailbox then redis.call('DEL', P .. ':mailbox:' .. c.id) end
  if c.mailbox then
    -- A reservation made outside PICK (a transfer to one agent): the caller's session
    -- finds the agent in the mailbox as if PICK had chosen him.
    local mbox = P .. ':mailbox:' .. c.id
    redis.call('DEL', mbox)
    redis.call('RPUSH', mbox, c.mailbox)
    redis.call('EXPIRE', mbox, 3600)
  end
  if c.expire_seconds then redis.call('EXPIRE', ckey, c.expire_seconds) end
  if c.persist then redis.call('PERSIST', ckey) end
  if c.handle_seconds then
    local hkey = P .. ':handle:' .. (redis.call('HGET', ckey, 'skill') or '')
    redis.call('LPUSH', hkey, c.handle_seconds)
    redis.call('LTRIM', hkey, 0, 49)
  end
end
return 'ok'
"""

ENQUEUE = r"""
-- KEYS: none; ARGV[1] prefix, ARGV[2] call id, ARGV[3] skill, ARGV[4] score, then field pairs.
local P = ARGV[1]
local ckey = P .. ':call:' .. ARGV[2]
local status = redis.call('HGET', ckey, 'status')
-- A call that is waiting or with an agent keeps its entry; one whose agent is done with it
-- (he transferred it) starts a new stay.
if status and status ~= 'done' then return status end
if status then
  redis.call('DEL', ckey)
  redis.call('DEL', P .. ':mailbox:' .. ARGV[2])
end
local flat = {}
for i = 5, #ARGV do table.insert(flat, ARGV[i]) end
redis.call('HSET', ckey, 'skill', ARGV[3], 'score', ARGV[4], 'status', 'waiting', unpack(flat))
redis.call('ZADD', P .. ':queue:' .. ARGV[3], ARGV[4], ARGV[2])
return 'waiting'
"""

DIAL = r"""
-- ARGV[1] prefix, ARGV[2] call id, ARGV[3] agent id. The open attempt's key, or a new one.
local ckey = ARGV[1] .. ':call:' .. ARGV[2]
local status = redis.call('HGET', ckey, 'status')
if (status ~= 'reserved' and status ~= 'ringing') or redis.call('HGET', ckey, 'agent_id') ~= ARGV[3]
then
  return false
end
local open = redis.call('HGET', ckey, 'dial_key')
if open and open ~= '' then return open end
local n = redis.call('HINCRBY', ckey, 'attempts', 1)
local key = ARGV[2] .. '#' .. n
redis.call('HSET', ckey, 'dial_key', key)
return key
"""

WITHDRAW = r"""
-- ARGV[1] prefix, ARGV[2] call id. A callback still waiting in its queue is removed and
-- forgotten; one that is being dialled (reserved, ringing, connected) or is over stays.
local ckey = ARGV[1] .. ':call:' .. ARGV[2]
if redis.call('HGET', ckey, 'status') ~= 'callback' then return 0 end
redis.call('ZREM', ARGV[1] .. ':queue:' .. (redis.call('HGET', ckey, 'skill') or ''), ARGV[2])
redis.call('DEL', ckey)
return 1
"""
