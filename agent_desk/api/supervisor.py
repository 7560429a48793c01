"""The team leader's tools: live wallboard data, forcing an agent's state, listening to a live
call (ChanSpy), the team's day; forcing and listening only on the own team's agents
(``agent_desk.team_agents``). Recordings: ``agent_desk.api.recordings``."""

from __future__ import annotations

import asyncio
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any, Literal

from fastapi import APIRouter
from pydantic import BaseModel, Field

from agent_desk.agent_status import StatusOut, change_state
from agent_desk.call_actions import listen_in
from agent_desk.deps import ForceStateUser, ListenUser, StateDep, WallboardUser
from agent_desk.errors import error_responses
from agent_desk.myday import DayOut, day_out, team_of
from agent_desk.state import AppState
from agent_desk.team_agents import team_agent
from agent_desk.wallboard import (
    agent_names,
    agent_rows,
    queue_rows,
    service_level_today,
    skill_names,
)
from backend.acd.states import AgentState
from backend.alerts import SystemAlerts

router = APIRouter(tags=["班组长"], responses=error_responses(400, 401, 403, 404, 409, 422))


class AgentOnBoard(BaseModel):
    agent_id: int
    number: str
    name: str
    team: str
    state: str
    state_label: str
    reason: str
    reason_label: str
    since: float
    seconds_in_state: float
    call_id: str


class QueueOnBoard(BaseModel):
    skill: str
    name: str
    waiting: int
    longest_wait_seconds: float


class ServiceLevel(BaseModel):
    value: float | None
    offered: int
    answered_within_threshold: int
    short_abandoned: int
    formula: str


class AlertOnBoard(BaseModel):
    code: str
    level: Literal["warning", "critical"]
    message: str
    since: float


class Wallboard(BaseModel):
    agents: list[AgentOnBoard]
    queues: list[QueueOnBoard]
    service_level: ServiceLevel
    server_time: float
    alerts: list[AlertOnBoard] = []  # raised by the centre's processes (backend.alerts)


class ForceBody(BaseModel):
    state: Literal["ready", "not_ready", "logged_out"]
    reason: Literal["break", "training", "meal", "meeting", ""] = ""


class ListenBody(BaseModel):
    agent_id: int = Field(ge=1)
    mode: Literal["listen", "whisper", "barge"] = "listen"


class ListenOut(BaseModel):
    action_id: str


def board_facts(
    state: AppState,
) -> tuple[dict[int, tuple[str, str]], dict[str, str], dict[str, Any]]:
    """Agents' and skills' names, and today's service level, from the database."""
    with state.session_factory() as db:
        now = datetime.now(UTC)
        return agent_names(db), skill_names(db), service_level_today(db, now, state.tz)


@router.get("/api/supervisor/wallboard", summary="实时监控：坐席状态、队列、今日服务水平")
async def wallboard(state: StateDep, user: WallboardUser) -> Wallboard:
    async with state.acd() as acd:
        views = await acd.agents()
        waiting = await acd.waiting_calls()
        now = acd.now()
    names, skills, sl = await asyncio.to_thread(board_facts, state)
    alerts = await asyncio.to_thread(SystemAlerts(state.redis, state.prefix).active)
    return Wallboard(
        agents=[AgentOnBoard(**r) for r in agent_rows(views, names, now)],
        queues=[QueueOnBoard(**q) for q in queue_rows(skills, waiting, now)],
        service_level=ServiceLevel(**sl),
        server_time=now,
        alerts=[AlertOnBoard(**asdict(a)) for a in alerts],
    )


@router.post("/api/supervisor/agents/{agent_id}/state", summary="强制坐席状态（置闲、示忙、签出）")
async def force_state(
    agent_id: int, body: ForceBody, state: StateDep, user: ForceStateUser
) -> StatusOut:
    row = await team_agent(state, user, agent_id, "force_state")
    reason = body.reason or ("break" if body.state == "not_ready" else "")
    return await change_state(state, row, AgentState(body.state), user.actor, reason=reason)


@router.post("/api/supervisor/listen", status_code=202, summary="监听/耳语/强插坐席通话（ChanSpy）")
async def listen(body: ListenBody, state: StateDep, user: ListenUser) -> ListenOut:
    return ListenOut(action_id=await listen_in(state, user, body.agent_id, body.mode))


@router.get("/api/supervisor/team-day", summary="我的班组今日")
def team_day(state: StateDep, user: WallboardUser) -> DayOut:
    with state.session_factory() as db:
        return day_out(db, team_of(db, user.session.user_id), datetime.now(UTC), state.tz)
