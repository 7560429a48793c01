"""The ACD's view rebuilt after Redis came back empty (killed with nothing saved).

Redis holds the whole ACD (``backend/acd/store.py``); a Redis that keeps nothing on disk
comes back with no agents and no queues. What survives is elsewhere: the callers still on
the line are in their controllers' memory (``HeldCalls``), and every agent's last state is
in PostgreSQL's agent-state history (``ivr/acd/history.py``). Each dispatcher round
(``Dispatcher``, every few seconds under the supervisor) calls ``Rebuilder.run_once``:

- held calls: every caller this controller holds whose entry is gone is entered again with
  his first entry time and priority, so the queue's order is what it was. Every controller
  does this for its own callers every round; entering twice keeps the first entry.
- agents: once per loss, noticed by the marker key ``P:acd:epoch`` being missing. One
  controller (``SET NX`` on ``P:acd:rebuild-lock``) puts back every active agent the store
  does not know and whose last recorded state was signed in: ready as ready (his idle order
  kept), a break as that break, and one last seen with a call (reserved, ringing, talking,
  holding, wrap-up) on that call: busy, never offered a second one. The AMI resync
  (``ivr/resync/agents.py``) releases him to ready within a round once Asterisk shows
  neither his call nor his phone. Then it writes the marker. An agent who signed in again
  meanwhile keeps what he chose.

A fresh Redis looks the same as a lost one. Only a controller that saw the marker before
restores agents; one that starts on a Redis without it writes it and restores nothing (a
new deployment, a test's new key prefix, or every process restarted together, after which
agents sign in again). State changes still in Redis's
event stream and not yet written to PostgreSQL when Redis died are lost; the agent is put
back as the history last saw him.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from datetime import datetime

from redis.asyncio import Redis
from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload, sessionmaker

from backend.acd.model import AgentProfile
from backend.acd.states import AgentState
from backend.acd.store import AcdStore
from backend.models.agents import Agent, AgentStateChange

log = logging.getLogger("ivr.acd")

LOCK_SECONDS = 60  # a controller killed mid-rebuild leaves the lock this long at most
# The last recorded state -> the state an agent is put back in.
BUSY = frozenset({"reserved", "ringing", "on_call", "on_hold", "wrap_up"})


@dataclass(frozen=True)
class HeldCall:
    """A caller waiting in a queue whose AGI session this controller holds."""

    call_id: str
    skill: str
    priority: int
    line: str
    entered_at: float  # epoch seconds of his first entry


class HeldCalls:
    """The callers this controller's sessions hold while they wait for an agent (not while
    an agent's phone rings or they talk: such a call is not put back in line)."""

    def __init__(self) -> None:
        self._calls: dict[str, HeldCall] = {}

    def hold(self, call: HeldCall) -> None:
        self._calls[call.call_id] = call

    def drop(self, call_id: str) -> None:
        self._calls.pop(call_id, None)

    def waiting(self) -> list[HeldCall]:
        return sorted(self._calls.values(), key=lambda c: (c.entered_at, c.call_id))


@dataclass(frozen=True)
class LastState:
    profile: AgentProfile
    state: str
    reason: str
    call_id: str
    at: float


@dataclass(frozen=True)
class RebuildReport:
    calls_requeued: tuple[str, ...] = ()
    agents_restored: tuple[int, ...] = ()


class Rebuilder:
    def __init__(
        self, store: AcdStore, held: HeldCalls, session_factory: sessionmaker[Session]
    ) -> None:
        self._store = store
        self._held = held
        self._sessions = session_factory
        # Only a loss this controller lived through is rebuilt: a marker it never saw may
        # be a first start on a new Redis (or a test's new key prefix over an old database),
        # where the agents' old states are not today's.
        self._seen_marker = False

    @property
    def _redis(self) -> Redis:
        return self._store.redis

    async def run_once(self) -> RebuildReport:
        requeued = await self._requeue_held()
        restored: tuple[int, ...] = ()
        if await self._redis.exists(self._store.key("epoch")):
            self._seen_marker = True
        elif self._seen_marker:
            restored = await self._restore_agents()
        else:
            await self._redis.set(self._store.key("epoch"), self._marker(), nx=True)
            self._seen_marker = True
        if requeued or restored:
            log.warning(
                "ACD view rebuilt: %d waiting calls entered again, agents %s restored",
                len(requeued),
                list(restored),
            )
        return RebuildReport(tuple(requeued), restored)

    async def _requeue_held(self) -> list[str]:
        held = self._held.waiting()
        if not held:
            return []
        async with self._redis.pipeline(transaction=False) as pipe:
            for call in held:
                pipe.exists(self._store.key("call", call.call_id))
            present = await pipe.execute()
        requeued = []
        for call, exists in zip(held, present, strict=True):
            if exists:
                continue
            await self._store.enqueue(
                call.call_id, call.skill, call.priority, line=call.line, entered_at=call.entered_at
            )
            requeued.append(call.call_id)
        return requeued

    async def _restore_agents(self) -> tuple[int, ...]:
        """Once per loss, by one controller: the agents back, then the marker."""
        lock = self._store.key("rebuild-lock")
        me = self._store.controller_id
        if not await self._redis.set(lock, me, nx=True, ex=LOCK_SECONDS):
            return ()  # another controller is at it; the next round sees its marker
        try:
            restored = []
            for last in await asyncio.to_thread(last_states, self._sessions):
                if await self._restore(last):
                    restored.append(last.profile.agent_id)
            await self._redis.set(self._store.key("epoch"), self._marker())
            return tuple(restored)
        finally:
            if await self._redis.get(lock) == me:
                await self._redis.delete(lock)

    def _marker(self) -> str:
        return f"{self._store.controller_id} {time.time():.3f}"

    async def _restore(self, last: LastState) -> bool:
        known = set(self._store.skills)
        skills = {s: level for s, level in last.profile.skills.items() if s in known}
        profile = AgentProfile(
            last.profile.agent_id,
            last.profile.number,
            last.profile.interface,
            skills,
            last.profile.auto_answer,
        )
        if last.state in BUSY:
            to, at = AgentState.ON_CALL, last.at
        elif last.state in (AgentState.READY, AgentState.NOT_READY):
            to, at = AgentState(last.state), last.at
        else:
            return False  # signed out
        return await self._store.restore_agent(
            profile, to, at=at, reason=last.reason, call_id=last.call_id
        )


def last_states(factory: sessionmaker[Session]) -> list[LastState]:
    """Every active agent's last recorded state, with his profile as PostgreSQL has it."""
    newest = (
        select(AgentStateChange.agent_id, func.max(AgentStateChange.id).label("id"))
        .group_by(AgentStateChange.agent_id)
        .subquery()
    )
    query = (
        select(Agent, AgentStateChange)
        .join(newest, newest.c.agent_id == Agent.id)
        .join(AgentStateChange, AgentStateChange.id == newest.c.id)
        .where(Agent.active)
        .options(selectinload(Agent.skills))
        .order_by(Agent.id)
    )
    with factory() as db:
        return [
            LastState(
                AgentProfile(
                    agent.id,
                    agent.number,
                    agent.interface,
                    {s.skill_code: s.level for s in agent.skills},
                    agent.auto_answer,
                ),
                change.state,
                change.reason,
                change.call_id,
                _seconds(change.at),
            )
            for agent, change in db.execute(query).all()
        ]


def _seconds(at: datetime) -> float:
    return at.timestamp()
