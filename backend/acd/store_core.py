"""The ACD store's core: its keys, its two reads, and the one atomic write every change goes
through.

A change is planned from what was read (an agent's state transition, a call's new fields),
then sent to the APPLY Lua script as a compare-and-set: the agent's version and the call's
status and holder must still be what was read, or nothing is written and the caller reads
again (at most ``MAX_RETRIES`` times).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from redis.asyncio import Redis

from backend.acd import scripts
from backend.acd.model import (
    AgentView,
    QueuedCall,
    agent_from_hash,
    call_from_hash,
    ms_text,
    status_fields,
)
from backend.acd.policy import SkillConfig, agent_score
from backend.acd.states import AgentState, AgentStatus, Transition, transition
from backend.errors import ConfigError, Conflict, NotFound

MAX_RETRIES = 20
FINISHED_CALL_TTL = 24 * 3600  # finished call hashes stay a day for late AMI events
NOT_STAFFED = frozenset({AgentState.LOGGED_OUT, AgentState.NOT_READY})


class StoreCore:
    """Keys, reads and compare-and-set writes shared by the store's parts."""

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

    @property
    def redis(self) -> Redis:
        return self._redis

    def key(self, *parts: str) -> str:
        return ":".join((self._prefix, *parts))

    @property
    def events_key(self) -> str:
        return self.key("events")

    def now(self) -> float:
        return self._clock()

    async def agent(self, agent_id: int) -> AgentView | None:
        raw = await self._redis.hgetall(self.key("agent", str(agent_id)))
        return agent_from_hash(agent_id, raw) if raw else None

    async def call(self, call_id: str) -> QueuedCall | None:
        raw = await self._redis.hgetall(self.key("call", call_id))
        return call_from_hash(call_id, raw) if raw else None

    async def _require_agent(self, agent_id: int) -> AgentView:
        view = await self.agent(agent_id)
        if view is None:
            raise NotFound(f"坐席 {agent_id} 不存在", code="no-such-agent")
        return view

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
            "before": str(t.before.state),  # the state left: login, pause, resume are told apart
            "skills": ",".join(sorted(skills)),  # the queues he is a member of (the queue_log)
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
