"""An agent's presence as the desk changes it: signed in or out, ready, not ready, in the ACD's
Redis store (the controller routes by it). Every change the desk makes is audited; wallboards
see it at once through the ACD's state stream (``agent_desk.live``).

Used by the agent's own routes and by the team leader's (forcing a state).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from pydantic import BaseModel

from agent_desk.auth.audit import add_audit, audit_now
from agent_desk.auth.guard import Caller
from agent_desk.state import AppState
from backend.acd.model import AgentProfile
from backend.acd.states import REASON_LABELS, STATE_LABELS, AgentState
from backend.acd.store import AcdStore
from backend.audit import Actor
from backend.db import transaction
from backend.errors import Refused
from backend.models.agents import Agent


class NotAnAgent(Refused):
    code = "not-an-agent"


class StatusOut(BaseModel):
    """The agent's state as the desk and the wallboard show it."""

    agent_id: int
    number: str
    name: str
    state: str
    state_label: str
    reason: str = ""
    reason_label: str = ""
    since: float = 0.0  # epoch seconds
    call_id: str = ""
    auto_answer: bool = False
    server_time: float


@dataclass(frozen=True)
class AgentRow:
    agent_id: int
    number: str
    name: str
    interface: str
    auto_answer: bool
    skills: dict[str, int]

    @property
    def profile(self) -> AgentProfile:
        return AgentProfile(
            self.agent_id, self.number, self.interface, self.skills, self.auto_answer
        )


def not_an_agent() -> NotAnAgent:
    return NotAnAgent("该账户没有关联的坐席工号")


def load_agent(state: AppState, agent_id: int) -> AgentRow:
    with state.session_factory() as db:
        agent = db.get(Agent, agent_id)
        if agent is None or not agent.active:
            raise not_an_agent()
        skills = {s.skill_code: s.level for s in agent.skills}
        return AgentRow(
            agent.id, agent.number, agent.name, agent.interface, agent.auto_answer, skills
        )


def agent_id_of(caller: Caller) -> int:
    if caller.session.agent_id is None:
        raise not_an_agent()
    return caller.session.agent_id


async def own_row(state: AppState, caller: Caller) -> AgentRow:
    """The signed-in person's own agent (NotAnAgent for an account without one)."""
    return await asyncio.to_thread(load_agent, state, agent_id_of(caller))


async def status_of(acd: AcdStore, row: AgentRow) -> StatusOut:
    view = await acd.agent(row.agent_id)
    state = view.status.state if view else AgentState.LOGGED_OUT
    reason = view.status.reason if view else ""
    return StatusOut(
        agent_id=row.agent_id,
        number=row.number,
        name=row.name,
        state=state.value,
        state_label=STATE_LABELS[state],
        reason=reason,
        reason_label=REASON_LABELS.get(reason, reason),
        since=view.status.since if view else 0.0,
        call_id=view.status.call_id if view else "",
        auto_answer=row.auto_answer,
        server_time=acd.now(),
    )


async def current_status(state: AppState, row: AgentRow) -> StatusOut:
    async with state.acd() as acd:
        return await status_of(acd, row)


async def current_state(state: AppState, agent_id: int) -> AgentState | None:
    """The agent's state in the ACD (None: the ACD has not seen the agent sign in)."""
    async with state.acd() as acd:
        view = await acd.agent(agent_id)
    return view.status.state if view else None


async def call_in_hand(state: AppState, agent_id: int | None) -> str:
    """The call the ACD has the agent on, or in wrap-up of ("" for none, or no agent)."""
    if agent_id is None:
        return ""
    async with state.acd() as acd:
        view = await acd.agent(agent_id)
    return view.status.call_id if view else ""


async def change_state(
    state: AppState,
    row: AgentRow,
    to: AgentState,
    actor: Actor,
    *,
    reason: str = "",
    register: bool = False,
) -> StatusOut:
    """Apply one state change in the ACD, then audit it."""
    async with state.acd() as acd:
        if register or await acd.agent(row.agent_id) is None:
            await acd.register_agent(row.profile)
        t = await acd.change_state(row.agent_id, to, reason=reason, actor=actor.username)
        status = await status_of(acd, row)
    if t.changed:
        # The ACD writes the change to its state stream, which /ws/live relays to wallboards.
        await asyncio.to_thread(
            audit_now,
            state.session_factory,
            actor.username,
            "agent.state",
            target=f"agent:{row.agent_id}",
            source_ip=actor.source_ip,
            details={"from": t.before.state.value, "to": t.after.state.value, "reason": reason},
        )
    return status


async def refresh_profile(state: AppState, agent_id: int) -> StatusOut:
    """Give the ACD the agent's edited profile (interface, skills, auto-answer) if it knows
    the agent (one it has never seen gets it at sign-in); the agent's status."""
    row = await asyncio.to_thread(load_agent, state, agent_id)
    async with state.acd() as acd:
        if await acd.agent(agent_id) is not None:
            await acd.register_agent(row.profile)
        return await status_of(acd, row)


def save_auto_answer(state: AppState, agent_id: int, enabled: bool, actor: Actor) -> None:
    with transaction(state.session_factory) as db:
        agent = db.get(Agent, agent_id)
        if agent is None:
            raise not_an_agent()
        agent.auto_answer = enabled
        add_audit(db, actor.username, "agent.auto_answer", target=f"agent:{agent_id}",
                  source_ip=actor.source_ip, details={"enabled": enabled})  # fmt: skip
