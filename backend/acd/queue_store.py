"""The queues' side of the ACD store: calls and callbacks entering and leaving the skills'
queues, their places and wait estimates, and the atomic pick of agent and call."""

from __future__ import annotations

import json
from typing import Any

from backend.acd.estimate import estimate_wait_seconds
from backend.acd.model import (
    IN_QUEUE,
    WITH_AGENT,
    Assignment,
    CallStatus,
    QueuedCall,
    UnknownSkill,
    call_from_hash,
    ms_text,
    seconds_of,
)
from backend.acd.policy import (
    _RANK_WEIGHT,
    LEVEL_MAX,
    PRIORITY_MAX,
    PRIORITY_MIN,
    RoutingDecision,
    SkillConfig,
    call_score,
    clamp_priority,
    to_ms,
)
from backend.acd.states import AgentState
from backend.acd.store_core import FINISHED_CALL_TTL, MAX_RETRIES, StoreCore
from backend.errors import Conflict


class QueueStore(StoreCore):
    """The skills' queues: entries, places, estimates, the pick, leaving."""

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

    async def recent_handle_seconds(self, skill: str) -> list[float]:
        return [float(h) for h in await self._redis.lrange(self.key("handle", skill), 0, -1)]

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
