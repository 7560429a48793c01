"""The agents' side of the ACD store: profiles, state changes, wrap-up timers, outbound
calls, and the controllers' heartbeats."""

from __future__ import annotations

from dataclasses import replace

from backend.acd.model import (
    AgentProfile,
    AgentView,
    agent_from_hash,
    ms_text,
    seconds_of,
    skills_text,
    status_fields,
)
from backend.acd.states import (
    AgentState,
    AgentStatus,
    Transition,
    dial_out,
    restored,
    transition,
    wrapup_due,
)
from backend.acd.store_core import MAX_RETRIES, StoreCore
from backend.errors import Conflict


class AgentStore(StoreCore):
    """Agents: profiles, legal state changes, wrap-up timers, outbound calls."""

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

    async def restore_agent(
        self,
        profile: AgentProfile,
        to: AgentState,
        *,
        at: float,
        reason: str = "",
        call_id: str = "",
    ) -> bool:
        """Put back an agent the store lost (Redis came back empty) as he last was; False
        when the store already knows him (he signed in again, or another controller restored
        him first: theirs stands)."""
        if await self.agent(profile.agent_id) is not None:
            return False
        view = await self.register_agent(profile)
        for _ in range(MAX_RETRIES):
            if view.status.state != AgentState.LOGGED_OUT:
                return False
            t = restored(view.status, to, at=at, reason=reason, call_id=call_id)
            if await self._apply(agent=self._transition_op(view, t, "rebuild")) == "ok":
                return True
            view = await self._require_agent(profile.agent_id)
        raise Conflict(f"agent {profile.agent_id} changed too often")

    async def agent_by_number(self, number: str) -> AgentView | None:
        """The signed-in agent with this 工号 (a phone's channel names only the number)."""
        for view in await self.agents():
            if view.profile.number == number:
                return view
        return None

    async def staffed_count(self, skill: str) -> int:
        return int(await self._redis.scard(self.key("staffed", skill)))

    async def ready_count(self, skill: str) -> int:
        return int(await self._redis.zcard(self.key("ready", skill)))

    async def heartbeat(self) -> None:
        """This controller is alive (its waiting callers' sessions exist)."""
        await self._redis.hset(self.key("controllers"), self.controller_id, ms_text(self.now()))

    async def live_controllers(self, stale_after: float) -> set[str]:
        beats = await self._redis.hgetall(self.key("controllers"))
        cutoff = self.now() - stale_after
        return {name for name, at in beats.items() if seconds_of(at) >= cutoff}
