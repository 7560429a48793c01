"""The ACD's shared state in Redis: agents, per-skill queues, reservations, callbacks.

Every controller process builds one ``AcdStore`` on the same Redis and key prefix; all of
them may route any call. Nothing lives only in a process: a restarted controller reads the
agents and the waiting calls back with :meth:`AcdStore.agents` and :meth:`AcdStore.waiting_calls`.

Keys (``P`` is the prefix given to the constructor)::

    P:agents               set of agent ids
    P:agent:<id>           hash: profile (number, interface, skills "booking=8,..") and status
    P:ready:<skill>        zset of ready agents, score = (10 - level, idle since ms)
    P:staffed:<skill>      set of signed-in agents not on a break (for wait estimates)
    P:queue:<skill>        zset of waiting calls, score = (9 - priority, first entry ms)
    P:call:<call id>       hash: skill, priority, entered, score, status, agent_id, ...
                           (a callback's number only encrypted: number_enc)
    P:mailbox:<call id>    list: the agent id once the call is assigned (BLPOP by its owner)
    P:wrapup               zset of agents in wrap-up by the end of their timer
    P:handle:<skill>       list of the last 50 handle times (seconds)
    P:events               stream of agent state changes, written to PostgreSQL by history.py
    P:dial:<attempt key>   set once per dial attempt: a retried originate never rings twice
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import replace
from typing import Any

from redis.asyncio import Redis

from backend.acd import scripts
from backend.acd.estimate import estimate_wait_seconds
from backend.acd.model import (
    IN_QUEUE,
    WITH_AGENT,
    AgentProfile,
    AgentView,
    Assignment,
    CallStatus,
    QueuedCall,
    UnknownSkill,
    agent_from_hash,
    call_from_hash,
    ms_text,
    seconds_of,
    skills_text,
    status_fields,
)
from backend.acd.policy import (
    _RANK_WEIGHT,
    LEVEL_MAX,
    PRIORITY_MAX,
    PRIORITY_MIN,
    RoutingDecision,
    SkillConfig,
    agent_score,
    call_score,
    clamp_priority,
    to_ms,
)
from backend.acd.states import (
    AgentState,
    AgentStatus,
    IllegalTransition,
    NotReadyReason,
    Transition,
    dial_out,
    transition,
    wrapup_due,
)
from backend.errors import ConfigError, Conflict, NotFound

MAX_RETRIES = 20
FINISHED_CALL_TTL = 24 * 3600  # finished call hashes stay a day for late AMI events
NOT_STAFFED = frozenset({AgentState.LOGGED_OUT, AgentState.NOT_READY})

__all__ = ["AcdStore", "AgentProfile", "AgentView", "Assignment", "CallStatus", "QueuedCall"]


class AcdStore:
    def __init__(
        self,
        redis: Redis,
        prefix: str,
        skills: Iterable[SkillConfig],
        *,
        controller_id: str = "controller",
        clock: Callable[[], float] = time.time,
    ) -> None:
        if not redis.connection_pool.connection_kwargs.get("decode_responses"):
            raise ConfigError("redis_url", "the ACD store needs a client with decode_responses")
        self._redis = redis
        self._prefix = f"{prefix}:acd"
        self.skills: dict[str, SkillConfig] = {s.code: s for s in skills}
        self.controller_id = controller_id
        self._clock = clock
        self._pick = redis.register_script(scripts.PICK)
        self._apply_script = redis.register_script(scripts.APPLY)
        self._enqueue = redis.register_script(scripts.ENQUEUE)
        self._dial = redis.register_script(scripts.DIAL)
        self._withdraw = redis.register_script(scripts.WITHDRAW)

    # Keys ----------------------------------------------------------------------------------

    def key(self, *parts: str) -> str:
        return ":".join((self._prefix, *parts))

    @property
    def events_key(self) -> str:
        return self.key("events")

    def now(self) -> float:
        return self._clock()

    # Agents --------------------------------------------------------------------------------

    async def register_agent(self, profile: AgentProfile) -> AgentView:
        """Create or update an agent's profile; a ready agent is re-indexed at new levels."""
        for _ in range(MAX_RETRIES):
            view = await self.agent(profile.agent_id)
            status = view.status if view else AgentStatus(profile.agent_id)
            old_skills = set(view.profile.skills) if view else set()
            after = replace(status, version=status.version + 1)
            fields = status_fields(after) if view is None else {"version": str(after.version)}
            fields |= {
                "number": profile.number,
                "interface": profile.interface,
                "skills": skills_text(profile.skills),
                "auto_answer": "1" if profile.auto_answer else "0",
            }
            op = self._agent_op(status, after, profile.skills, old_skills, fields, event=None)
            if await self._apply(agent=op) == "ok":
                return AgentView(profile, after)
        raise Conflict(f"agent {profile.agent_id} changed too often to register")

    async def agent(self, agent_id: int) -> AgentView | None:
        raw = await self._redis.hgetall(self.key("agent", str(agent_id)))
        return agent_from_hash(agent_id, raw) if raw else None

    async def agents(self) -> list[AgentView]:
        ids = sorted(int(i) for i in await self._redis.smembers(self.key("agents")))
        async with self._redis.pipeline(transaction=False) as pipe:
            for agent_id in ids:
                pipe.hgetall(self.key("agent", str(agent_id)))
            raws = await pipe.execute()
        return [agent_from_hash(i, r) for i, r in zip(ids, raws, strict=True) if r]

    async def change_state(
        self,
        agent_id: int,
        to: AgentState,
        *,
        reason: str = "",
        call_id: str = "",
        actor: str = "system",
        at: float | None = None,
        wrapup_seconds: float = 0.0,
    ) -> Transition:
        """Apply a legal state change (IllegalTransition otherwise), safe against races."""
        for _ in range(MAX_RETRIES):
            view, t = await self._plan(agent_id, to, at, reason, call_id, wrapup_seconds)
            if not t.changed:
                return t
            if await self._apply(agent=self._transition_op(view, t, actor)) == "ok":
                return t
        raise Conflict(f"agent {agent_id} changed too often")

    async def expire_wrapups(self) -> list[Transition]:
        """End every wrap-up whose timer has run out, at the moment the timer ran out."""
        now = self.now()
        due = await self._redis.zrangebyscore(self.key("wrapup"), "-inf", ms_text(now))
        done = []
        for raw_id in due:
            for _ in range(MAX_RETRIES):
                view = await self.agent(int(raw_id))
                t = wrapup_due(view.status, now) if view else None
                if view is None or t is None:
                    await self._redis.zrem(self.key("wrapup"), raw_id)
                    break
                if await self._apply(agent=self._transition_op(view, t, "wrapup-timer")) == "ok":
                    done.append(t)
                    break
        return done

    async def dial_out(self, agent_id: int, call_id: str) -> Transition:
        """The agent starts an outbound call and is on it at once (CannotDialOut when he
        holds a call or is signed out). Compare-and-set: a reservation made for him at the
        same moment wins, and he is told that a call is coming in."""
        for _ in range(MAX_RETRIES):
            view = await self._require_agent(agent_id)
            t = dial_out(view.status, at=self.now(), call_id=call_id)
            if await self._apply(agent=self._transition_op(view, t, "outbound")) == "ok":
                return t
        raise Conflict(f"agent {agent_id} changed too often")

    async def outbound_ended(self, agent_id: int, call_id: str, wrapup_seconds: float) -> bool:
        """The agent's outbound call is over: wrap-up on its timer (ready without one).
        False when he is no longer on that call (he made himself ready meanwhile)."""
        for _ in range(MAX_RETRIES):
            view = await self._require_agent(agent_id)
            status = view.status
            on_it = status.state in (AgentState.ON_CALL, AgentState.ON_HOLD)
            if not on_it or status.call_id != call_id:
                return False
            t = transition(
                status,
                AgentState.WRAP_UP if wrapup_seconds > 0 else AgentState.READY,
                at=self.now(),
                call_id=call_id,
                wrapup_seconds=wrapup_seconds,
            )
            if await self._apply(agent=self._transition_op(view, t, "outbound")) == "ok":
                return True
        raise Conflict(f"agent {agent_id} changed too often")

    # Calls ---------------------------------------------------------------------------------

    async def enqueue(
        self,
        call_id: str,
        skill: str,
        priority: int = 0,
        *,
        line: str = "",
        entered_at: float | None = None,
    ) -> QueuedCall:
        """Put a call in its skill's queue; entering twice keeps the first entry."""
        if skill not in self.skills:
            raise UnknownSkill(f"未知技能组：{skill}")
        entered = self.now() if entered_at is None else entered_at
        priority = clamp_priority(priority)
        score = str(int(call_score(priority, entered)))
        await self._enqueue(
            args=[
                self._prefix,
                call_id,
                skill,
                score,
                "priority",
                str(priority),
                "entered",
                ms_text(entered),
                "line",
                line,
                "owner",
                self.controller_id,
                "callback",
                "0",
                "attempts",
                "0",
            ]
        )
        call = await self.call(call_id)
        assert call is not None
        return call

    async def enqueue_callback(
        self,
        call_id: str,
        skill: str,
        number_enc: str,
        *,
        line: str,
        entered_at: float,
        priority: int = 0,
        parent: str = "",
        attempts: int = 0,
    ) -> QueuedCall:
        """A citizen to call back who is not on the line (a message left out of hours) waits
        in the skill's queue as a callback from the start, at ``entered_at``'s place.
        ``number_enc``: the citizen's number, encrypted; ``parent``: the call the request
        came from; ``attempts``: tries made before (they count against the limit). Entering
        twice keeps the first entry."""
        if skill not in self.skills:
            raise UnknownSkill(f"未知技能组：{skill}")
        priority = clamp_priority(priority)
        await self._enqueue(
            args=[
                self._prefix,
                call_id,
                skill,
                str(int(call_score(priority, entered_at))),
                "priority",
                str(priority),
                "entered",
                ms_text(entered_at),
                "line",
                line,
                "owner",
                self.controller_id,
                # Later pairs of one HSET win: the entry is a callback, not a waiting caller.
                "status",
                CallStatus.CALLBACK,
                "callback",
                "1",
                "number_enc",
                number_enc,
                "parent",
                parent,
                "attempts",
                str(attempts),
            ]
        )
        call = await self.call(call_id)
        assert call is not None
        return call

    async def withdraw_callback(self, call_id: str) -> bool:
        """Take a callback that nobody is dialling out of its queue and forget it (the line
        closed); False when it is being dialled or is over."""
        return bool(await self._withdraw(args=[self._prefix, call_id]))

    async def call(self, call_id: str) -> QueuedCall | None:
        raw = await self._redis.hgetall(self.key("call", call_id))
        return call_from_hash(call_id, raw) if raw else None

    async def waiting_calls(self, skill: str | None = None) -> list[QueuedCall]:
        """Calls in the queues (waiting callers and pending callbacks), in serving order."""
        skills = [skill] if skill else sorted(self.skills)
        ids: list[str] = []
        for s in skills:
            ids += await self._redis.zrange(self.key("queue", s), 0, -1)
        async with self._redis.pipeline(transaction=False) as pipe:
            for call_id in ids:
                pipe.hgetall(self.key("call", call_id))
            raws = await pipe.execute()
        calls = [call_from_hash(i, r) for i, r in zip(ids, raws, strict=True) if r]
        return sorted(calls, key=lambda c: (call_score(c.priority, c.entered_at), c.call_id))

    async def position(self, call_id: str) -> int | None:
        """1-based place in its skill's queue, or None when not waiting."""
        skill = await self._redis.hget(self.key("call", call_id), "skill")
        if not skill:
            return None
        rank = await self._redis.zrank(self.key("queue", skill), call_id)
        return None if rank is None else rank + 1

    async def estimate(self, call_id: str) -> tuple[int, float | None] | None:
        """(position, expected wait in seconds or None when nobody serves the skill)."""
        call = await self.call(call_id)
        position = await self.position(call_id)
        if call is None or position is None:
            return None
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.scard(self.key("staffed", call.skill))
            pipe.lrange(self.key("handle", call.skill), 0, -1)
            staffed, handles = await pipe.execute()
        return position, estimate_wait_seconds(position, staffed, [float(h) for h in handles])

    async def pick(self) -> Assignment | None:
        """Reserve the best ready agent for the best waiting call, atomically, or None."""
        now = self.now()
        plan = [self._queue_plan(config, now) for config in self.skills.values()]
        result = await self._pick(
            args=[self._prefix, ms_text(now), json.dumps(plan), self.controller_id]
        )
        if not result:
            return None
        (call_id, agent, call_skill, via, overflow, ascore, ready, same, idle, prio, entered,
         callback, number, interface) = result  # fmt: skip
        decision = RoutingDecision(
            call_id=call_id,
            agent_id=int(agent),
            agent_number=number,
            skill=via,
            level=LEVEL_MAX - int(float(ascore)) // _RANK_WEIGHT,
            call_skill=call_skill,
            overflow=bool(int(overflow)),
            priority=int(prio),
            waited_seconds=max(0.0, now - seconds_of(entered)),
            idle_seconds=max(0.0, now - seconds_of(idle)),
            ready_count=int(ready),
            same_level_count=int(same),
            callback=callback == "1",
        )
        return Assignment(decision, interface)

    async def offer_to(self, call_id: str, agent_id: int, actor: str = "transfer") -> bool:
        """Reserve one chosen agent for a waiting call (a transfer to that agent), as PICK
        reserves the best one; False when he is not ready or the call no longer waits."""
        for _ in range(MAX_RETRIES):
            call = await self.call(call_id)
            if call is None or call.status not in IN_QUEUE:
                return False
            try:
                view, t = await self._plan(agent_id, AgentState.RESERVED, None, "", call_id, 0.0)
            except (NotFound, IllegalTransition):
                return False  # signed out, or not ready: the call waits for anyone
            fields = {
                "status": CallStatus.RESERVED,
                "agent_id": str(agent_id),
                "reserved_at": ms_text(self.now()),
                "picked_by": self.controller_id,
            }
            call_op = self._call_op(call_id, IN_QUEUE, None, fields, queue="remove")
            call_op["mailbox"] = str(agent_id)
            result = await self._apply(agent=self._transition_op(view, t, actor), call=call_op)
            if result == "ok":
                return True
            if result == "call-conflict":
                return False
        raise Conflict(f"call {call_id} changed too often")

    async def hand_over(self, call_id: str, from_agent: int, to_agent: int) -> bool:
        """The talking agent joined the caller to a colleague (attended transfer): the
        colleague holds the call from now on, the first agent goes to wrap-up.

        False when ``from_agent`` no longer held the call. A colleague who was not ready
        (the consultation reached him on a break) still gets the call, but his own state is
        left as it was: the state machine has no edge for it.
        """
        call = await self.call(call_id)
        if call is None or call.status != CallStatus.CONNECTED or call.agent_id != from_agent:
            return False
        config = self.skills.get(call.skill)
        wrapup = config.wrapup_seconds if config else 0.0
        taken = False
        with contextlib.suppress(NotFound, IllegalTransition):
            taken = (
                await self.change_state(to_agent, AgentState.RESERVED, call_id=call_id)
            ).changed
        for _ in range(MAX_RETRIES):
            agent_op = None
            if taken:
                view, t = await self._plan(to_agent, AgentState.ON_CALL, None, "", call_id, 0.0)
                agent_op = self._transition_op(view, t, "transfer")
            call_op = self._call_op(
                call_id, (CallStatus.CONNECTED,), from_agent, {"agent_id": str(to_agent)}
            )
            result = await self._apply(agent=agent_op, call=call_op)
            if result == "call-conflict":
                return False
            if result == "ok":
                break
        else:
            raise Conflict(f"call {call_id} changed too often")
        # If he signed out meanwhile there is nothing of his to close.
        with contextlib.suppress(IllegalTransition):
            await self.change_state(
                from_agent,
                AgentState.WRAP_UP if wrapup > 0 else AgentState.READY,
                call_id=call_id,
                actor="transfer",
                wrapup_seconds=wrapup,
            )
        return True

    async def agent_by_number(self, number: str) -> AgentView | None:
        """The signed-in agent with this 工号 (a phone's channel names only the number)."""
        for view in await self.agents():
            if view.profile.number == number:
                return view
        return None

    async def wait_for_agent(self, call_id: str, timeout: float) -> int | None:
        """Block up to ``timeout`` s until a controller assigns an agent to this call."""
        got = await self._redis.blpop([self.key("mailbox", call_id)], timeout=timeout)
        return int(got[1]) if got else None

    async def take_assignment(self, call_id: str) -> int | None:
        """The agent assigned to this call, if one was (without waiting)."""
        got = await self._redis.lpop(self.key("mailbox", call_id))
        return int(got) if got else None

    async def has_assignment(self, call_id: str) -> bool:
        return bool(await self._redis.llen(self.key("mailbox", call_id)))

    async def ringing(self, call_id: str, agent_id: int) -> bool:
        return await self._with_call(
            call_id, agent_id, AgentState.RINGING, WITH_AGENT, {"status": CallStatus.RINGING}
        )

    async def connected(self, call_id: str, agent_id: int, *, at: float | None = None) -> bool:
        """The agent answered (``at``: when, if learnt afterwards from ANSWEREDTIME)."""
        at = self.now() if at is None else at
        return await self._with_call(
            call_id,
            agent_id,
            AgentState.ON_CALL,
            WITH_AGENT,
            {"status": CallStatus.CONNECTED, "answered": ms_text(at)},
            at=at,
        )

    async def ring_no_answer(
        self, call_id: str, agent_id: int, reason: str = NotReadyReason.NO_ANSWER
    ) -> bool:
        """Agent to not ready (未接); the call back into its queue at its first entry score."""
        call = await self.call(call_id)
        if call is None:
            return False
        back = CallStatus.CALLBACK if call.callback else CallStatus.WAITING
        return await self._with_call(
            call_id,
            agent_id,
            AgentState.NOT_READY,
            WITH_AGENT,
            {"status": back, "agent_id": "", "dial_key": ""},
            reason=reason,
            queue="add",
            clear_mailbox=True,
        )

    async def call_ended(self, call_id: str, agent_id: int, handle_seconds: float) -> bool:
        """The agent's call is over: wrap-up on the call skill's timer, handle time recorded."""
        call = await self.call(call_id)
        config = self.skills.get(call.skill) if call else None
        wrapup = config.wrapup_seconds if config else 0.0
        return await self._with_call(
            call_id,
            agent_id,
            AgentState.WRAP_UP if wrapup > 0 else AgentState.READY,
            (CallStatus.CONNECTED,),
            {"status": CallStatus.DONE, "ended": ms_text(self.now())},
            wrapup_seconds=wrapup,
            expire=FINISHED_CALL_TTL,
            handle_seconds=handle_seconds,
        )

    async def abandon(self, call_id: str, status: CallStatus = CallStatus.ABANDONED) -> bool:
        """The caller left (hung up, or went to voicemail): out of the queue, agent freed."""
        for _ in range(MAX_RETRIES):
            call = await self.call(call_id)
            if call is None:
                return False
            fields = {"status": status, "ended": ms_text(self.now())}
            if call.status in IN_QUEUE:
                call_op = self._call_op(call_id, IN_QUEUE, None, fields, queue="remove")
                call_op["expire_seconds"] = FINISHED_CALL_TTL
                if await self._apply(call=call_op) == "ok":
                    return True
                continue
            if call.status in WITH_AGENT and call.agent_id is not None:
                if await self._with_call(
                    call_id,
                    call.agent_id,
                    AgentState.READY,
                    WITH_AGENT,
                    fields,
                    clear_mailbox=True,
                    expire=FINISHED_CALL_TTL,
                ):
                    return True
                continue
            return False
        raise Conflict(f"call {call_id} changed too often")

    async def rejoin(self, call_id: str) -> bool:
        """A caller whose entry was released (his controller looked gone) but who is still
        on the line takes his place back, at his first entry score."""
        op = self._call_op(
            call_id,
            (CallStatus.ABANDONED,),
            None,
            {"status": CallStatus.WAITING, "owner": self.controller_id, "agent_id": ""},
            queue="add",
        )
        op["persist"] = True
        return await self._apply(call=op) == "ok"

    async def request_callback(self, call_id: str, number_enc: str) -> bool:
        """The waiting caller asks to be called back: keeps the queue place, flagged callback.
        ``number_enc``: his number as the callback gate admitted it, encrypted.

        False when an agent was reserved for the call in the meantime (connect it instead).
        """
        op = self._call_op(
            call_id,
            (CallStatus.WAITING,),
            None,
            {"status": CallStatus.CALLBACK, "callback": "1", "number_enc": number_enc},
        )
        return await self._apply(call=op) == "ok"

    async def begin_dial(self, call_id: str, agent_id: int) -> str | None:
        """The key of this reservation's dial attempt: the same key until it is settled."""
        key = await self._dial(args=[self._prefix, call_id, str(agent_id)])
        return str(key) if key else None

    async def claim_dial(self, attempt_key: str, ttl_seconds: int = 3600) -> bool:
        """True exactly once per attempt key: only the claimer may send the originate."""
        return bool(
            await self._redis.set(self.key("dial", attempt_key), "1", nx=True, ex=ttl_seconds)
        )

    async def callback_unreached(
        self, call_id: str, agent_id: int, max_attempts: int = 3
    ) -> CallStatus | None:
        """The citizen did not answer the callback: back in place, or given up after N tries.

        Returns the call's new status (CALLBACK: waits again at its place; CALLBACK_FAILED),
        None if the agent no longer held it. The agent did nothing wrong: he goes back to
        ready keeping his idle place.
        """
        call = await self.call(call_id)
        if call is None:
            return None
        status = CallStatus.CALLBACK if call.attempts < max_attempts else CallStatus.CALLBACK_FAILED
        applied = await self._with_call(
            call_id,
            agent_id,
            AgentState.READY,
            (*WITH_AGENT, CallStatus.CONNECTED),
            {"status": status, "agent_id": "", "dial_key": ""},
            queue="add" if status == CallStatus.CALLBACK else None,
            clear_mailbox=True,
        )
        return status if applied else None

    async def recent_handle_seconds(self, skill: str) -> list[float]:
        return [float(h) for h in await self._redis.lrange(self.key("handle", skill), 0, -1)]

    # Controllers coming and going ------------------------------------------------------

    async def heartbeat(self) -> None:
        """This controller is alive (its waiting callers' sessions exist)."""
        await self._redis.hset(self.key("controllers"), self.controller_id, ms_text(self.now()))

    async def live_controllers(self, stale_after: float) -> set[str]:
        beats = await self._redis.hgetall(self.key("controllers"))
        cutoff = self.now() - stale_after
        return {name for name, at in beats.items() if seconds_of(at) >= cutoff}

    async def staffed_count(self, skill: str) -> int:
        return int(await self._redis.scard(self.key("staffed", skill)))

    async def ready_count(self, skill: str) -> int:
        return int(await self._redis.zcard(self.key("ready", skill)))

    # Internals -----------------------------------------------------------------------------

    async def _plan(
        self,
        agent_id: int,
        to: AgentState,
        at: float | None,
        reason: str,
        call_id: str,
        wrapup_seconds: float,
    ) -> tuple[AgentView, Transition]:
        """The agent as he is now, and the change the state machine allows from there."""
        view = await self._require_agent(agent_id)
        at = self.now() if at is None else at
        t = transition(
            view.status, to, at=at, reason=reason, call_id=call_id, wrapup_seconds=wrapup_seconds
        )
        return view, t

    async def _with_call(
        self,
        call_id: str,
        agent_id: int,
        to: AgentState,
        expect: Sequence[str],
        call_fields: Mapping[str, str],
        *,
        reason: str = "",
        wrapup_seconds: float = 0.0,
        queue: str | None = None,
        clear_mailbox: bool = False,
        expire: int | None = None,
        handle_seconds: float | None = None,
        at: float | None = None,
    ) -> bool:
        """Change an agent and the call he holds together; False if he no longer holds it."""
        for _ in range(MAX_RETRIES):
            view, t = await self._plan(agent_id, to, at, reason, call_id, wrapup_seconds)
            call_op = self._call_op(call_id, expect, agent_id, call_fields, queue=queue)
            if clear_mailbox:
                call_op["clear_mailbox"] = True
            if expire:
                call_op["expire_seconds"] = expire
            if handle_seconds is not None:
                call_op["handle_seconds"] = f"{handle_seconds:.3f}"
            agent_op = self._transition_op(view, t, "system") if t.changed else None
            result = await self._apply(agent=agent_op, call=call_op)
            if result == "ok":
                return True
            if result == "call-conflict":
                return False
        raise Conflict(f"agent {agent_id} changed too often")

    def _call_op(
        self,
        call_id: str,
        expect: Sequence[str],
        agent_id: int | None,
        fields: Mapping[str, str],
        *,
        queue: str | None = None,
    ) -> dict[str, Any]:
        op: dict[str, Any] = {
            "id": call_id,
            "expect_status": [str(s) for s in expect],
            "fields": {k: str(v) for k, v in fields.items()},
        }
        if agent_id is not None:
            op["expect_agent"] = str(agent_id)
        if queue:
            op["queue"] = queue
        return op

    def _transition_op(self, view: AgentView, t: Transition, actor: str) -> dict[str, Any]:
        skills = view.profile.skills
        fields = status_fields(t.after)
        event = {
            "state": str(t.after.state),
            "reason": t.after.reason,
            "call_id": t.after.call_id,
            "at": ms_text(t.after.since),
            "actor": actor,
        }
        return self._agent_op(t.before, t.after, skills, set(skills), fields, event)

    def _agent_op(
        self,
        before: AgentStatus,
        after: AgentStatus,
        skills: Mapping[str, int],
        old_skills: set[str],
        fields: Mapping[str, str],
        event: Mapping[str, str] | None,
    ) -> dict[str, Any]:
        ready = after.state == AgentState.READY
        staffed = after.state not in NOT_STAFFED
        all_skills = sorted(old_skills | set(skills))
        op: dict[str, Any] = {
            "id": str(after.agent_id),
            "expect_version": str(before.version),
            "fields": dict(fields),
            "ready_remove": [s for s in all_skills if not ready or s not in skills],
            "ready_add": [
                [s, str(int(agent_score(level, after.idle_since)))]
                for s, level in sorted(skills.items())
                if ready
            ],
            "staffed_remove": [s for s in all_skills if not staffed or s not in skills],
            "staffed_add": sorted(skills) if staffed else [],
            "wrapup_until": ms_text(after.wrapup_until)
            if after.state == AgentState.WRAP_UP
            else "",
        }
        if event is not None:
            op["event"] = dict(event)
        return op

    async def _apply(
        self, *, agent: Mapping[str, Any] | None = None, call: Mapping[str, Any] | None = None
    ) -> str:
        op: dict[str, Any] = {}
        if agent is not None:
            op["agent"] = agent
        if call is not None:
            op["call"] = call
        return str(await self._apply_script(args=[self._prefix, json.dumps(op)]))

    async def _require_agent(self, agent_id: int) -> AgentView:
        view = await self.agent(agent_id)
        if view is None:
            raise NotFound(f"坐席 {agent_id} 不存在", code="no-such-agent")
        return view

    def _queue_plan(self, config: SkillConfig, now: float) -> dict[str, Any]:
        bands: list[list[str]] = []
        if config.overflow_skill and config.overflow_skill in self.skills:
            cutoff = to_ms(now - config.overflow_after_seconds)
            for priority in range(PRIORITY_MAX, PRIORITY_MIN - 1, -1):
                low = (PRIORITY_MAX - priority) * _RANK_WEIGHT
                bands.append([str(low), str(low + max(cutoff, 0))])
        return {
            "skill": config.code,
            "overflow": config.overflow_skill if bands else "",
            "bands": bands,
        }
