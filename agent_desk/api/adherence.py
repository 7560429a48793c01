"""Live schedule adherence for the wallboard: today's shifts (local day) measured up to now
against the agents' state history, per agent and team, and the alerts: agents late or absent
at the start of their shift (``backend.adherence.measure``). The wallboard re-reads it on
every agent event and every 30 s; alerts go up in the wallboard's alert banner beside the
centre's own (``backend.alerts``), and a new one also pops a notice.

"Now" is the desk's ACD clock (``AppState.clock``), the clock agents' changes are stamped by.
The history is written by the controller's history writer within about a second of a change,
so a change made this very second may show on the next read.
"""

# No ``from __future__ import annotations``: FastAPI evaluates these annotations at runtime.

import asyncio
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from fastapi import APIRouter
from pydantic import BaseModel, Field

from agent_desk.api.supervisor import AlertOnBoard
from agent_desk.deps import StateDep, WallboardUser
from agent_desk.errors import error_responses
from agent_desk.myday import local_midnight
from agent_desk.state import AppState
from backend.adherence.load import Adherence, AgentInfo, adherence
from backend.adherence.measure import LATE, LATE_GRACE, STATUS_LABELS, ShiftAdherence, Totals

router = APIRouter(tags=["班组长"], responses=error_responses(401, 403))


class Rates(BaseModel):
    scheduled_seconds: float
    signed_in_seconds: float
    ready_seconds: float
    sign_in_rate: float | None
    adherence: float | None

    @classmethod
    def of(cls, t: Totals) -> "Rates":
        return cls(
            scheduled_seconds=t.scheduled, signed_in_seconds=t.signed_in,
            ready_seconds=t.ready, sign_in_rate=t.sign_in_rate, adherence=t.adherence,
        )  # fmt: skip


class ShiftOnBoard(Rates):
    agent_id: int
    number: str
    name: str
    team: str
    starts_at: datetime
    ends_at: datetime
    status: str
    status_label: str
    late_minutes: float
    alert: bool


class TeamOnBoard(Rates):
    team: str
    late: int
    absent: int


class AdherenceBoard(BaseModel):
    shifts: list[ShiftOnBoard]
    teams: list[TeamOnBoard]
    alerts: list[ShiftOnBoard]
    banner: list[AlertOnBoard] = Field(description="同一提醒，按班组监控顶部提醒栏的格式")
    server_time: float


def banner_alert(s: ShiftOnBoard, tz: ZoneInfo) -> AlertOnBoard:
    """An alert in the wallboard's alert banner (``backend.alerts``' shape): late is a
    warning, absent critical."""
    start = s.starts_at.astimezone(tz)
    late = f" {s.late_minutes:g} 分钟" if s.status == LATE else ""
    return AlertOnBoard(
        code=f"adherence:{s.agent_id}:{int(s.starts_at.timestamp())}",
        level="warning" if s.status == LATE else "critical",
        message=f"排班提醒：{s.name}（{s.number}，{s.team}）{start:%H:%M} 班次{s.status_label}{late}",
        since=(s.starts_at + LATE_GRACE).timestamp(),
    )


def _shift_out(s: ShiftAdherence, who: AgentInfo) -> ShiftOnBoard:
    return ShiftOnBoard(
        **Rates.of(Totals(1, s.scheduled, s.signed_in, s.ready)).model_dump(),
        agent_id=s.agent_id,
        number=who.number,
        name=who.name,
        team=who.team,
        starts_at=s.starts_at,
        ends_at=s.ends_at,
        status=s.status,
        status_label=STATUS_LABELS[s.status],
        late_minutes=round(s.late_seconds / 60, 1),
        alert=s.alert,
    )


def _board(found: Adherence, now: datetime, tz: ZoneInfo) -> AdherenceBoard:
    shifts = [_shift_out(s, found.agents[s.agent_id]) for s in found.shifts]
    teams = [
        TeamOnBoard(**Rates.of(t).model_dump(), team=team, late=t.late, absent=t.absent)
        for team, t in sorted(found.by_team.items())
    ]
    alerts = [s for s in shifts if s.alert]
    return AdherenceBoard(
        shifts=shifts,
        teams=teams,
        alerts=alerts,
        banner=[banner_alert(s, tz) for s in alerts],
        server_time=now.timestamp(),
    )


def today_adherence(state: AppState) -> AdherenceBoard:
    now = datetime.fromtimestamp(state.clock(), UTC)
    midnight = local_midnight(now, state.tz)
    with state.session_factory() as db:
        return _board(adherence(db, midnight, midnight + timedelta(days=1), now), now, state.tz)


@router.get(
    "/api/supervisor/adherence", summary="排班遵从（今日）：排班、签入、就绪，迟到与缺勤提醒"
)
async def adherence_today(state: StateDep, user: WallboardUser) -> AdherenceBoard:
    return await asyncio.to_thread(today_adherence, state)
