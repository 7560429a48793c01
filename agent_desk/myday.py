"""An agent's day (and a team's): calls handled, average talk and wrap-up, bookings,
satisfaction, time in each state. Times are counted from the centre's local midnight."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from backend.acd.states import STATE_LABELS
from backend.models.agents import Agent, AgentStateChange
from backend.models.booking import Booking
from backend.models.calls import CallRecord, Disposition
from backend.models.users import User


class DayItem(BaseModel):
    label: str
    value: str


class DayOut(BaseModel):
    items: list[DayItem]


def local_midnight(now: datetime, tz: ZoneInfo) -> datetime:
    local = now.astimezone(tz)
    return datetime.combine(local.date(), time(0), tz)


def time_in_states(
    changes: Sequence[tuple[datetime, str]], start: datetime, end: datetime, before: str | None
) -> dict[str, float]:
    """Seconds per state between ``start`` and ``end``.

    ``changes`` are (at, state) in time order within the window; ``before`` is the state the
    agent was in at ``start`` (None when logged out or unknown), so a shift that began
    yesterday still counts from midnight.
    """
    totals: dict[str, float] = {}
    state, since = before, start
    for at, new in [*changes, (end, "")]:
        at = min(max(at, start), end)
        if state and state != "logged_out":
            totals[state] = totals.get(state, 0.0) + (at - since).total_seconds()
        state, since = new, at
    return totals


def _avg(total: float, count: int) -> str:
    return f"{total / count:.0f} 秒" if count else "—"


def team_of(db: Session, user_id: int) -> list[int]:
    """The agents of the user's team."""
    user = db.get(User, user_id)
    team = user.team if user else ""
    return list(db.scalars(select(Agent.id).where(Agent.team == team)))


def day_out(db: Session, agent_ids: Sequence[int], now: datetime, tz: ZoneInfo) -> DayOut:
    items = my_day(db, agent_ids, now, tz) if agent_ids else []
    return DayOut(items=[DayItem(**i) for i in items])


def my_day(
    db: Session, agent_ids: Sequence[int], now: datetime, tz: ZoneInfo
) -> list[dict[str, Any]]:
    start = local_midnight(now, tz)
    row = db.execute(
        select(
            func.count(CallRecord.id),
            func.coalesce(func.sum(CallRecord.talk_seconds), 0.0),
            func.coalesce(func.sum(CallRecord.wrapup_seconds), 0.0),
            func.coalesce(func.sum(CallRecord.satisfaction), 0),
            func.count(CallRecord.satisfaction),
        ).where(
            CallRecord.agent_id.in_(agent_ids),
            CallRecord.started_at >= start,
            CallRecord.disposition.in_([Disposition.ANSWERED, Disposition.TRANSFERRED]),
        )
    ).one()
    handled, talk, wrapup, sat_sum, sat_n = (int(row[0] or 0), float(row[1] or 0), float(row[2] or 0),
                                             int(row[3] or 0), int(row[4] or 0))  # fmt: skip
    bookings = db.scalar(
        select(func.count(Booking.id)).where(
            Booking.agent_id.in_(agent_ids), Booking.booked_at >= start
        )
    )
    items: list[dict[str, Any]] = [
        {"label": "接听电话", "value": f"{handled} 通"},
        {"label": "平均通话", "value": _avg(talk, handled)},
        {"label": "平均话后处理", "value": _avg(wrapup, handled)},
        {"label": "预约成功", "value": f"{bookings or 0} 个"},
        {"label": "满意度", "value": f"{sat_sum / sat_n:.1f} / 5" if sat_n else "—"},
    ]
    if len(agent_ids) == 1:
        totals = _state_totals(db, agent_ids[0], start, now)
        for state, label in STATE_LABELS.items():
            if totals.get(state):
                items.append({"label": f"{label}时长", "value": _clock(totals[state])})
    return items


def _state_totals(db: Session, agent_id: int, start: datetime, end: datetime) -> dict[str, float]:
    before = db.scalar(
        select(AgentStateChange.state)
        .where(AgentStateChange.agent_id == agent_id, AgentStateChange.at < start)
        .order_by(AgentStateChange.at.desc(), AgentStateChange.id.desc())
        .limit(1)
    )
    rows = db.execute(
        select(AgentStateChange.at, AgentStateChange.state)
        .where(AgentStateChange.agent_id == agent_id, AgentStateChange.at >= start)
        .order_by(AgentStateChange.at, AgentStateChange.id)
    ).all()
    return time_in_states([(at, state) for at, state in rows], start, end, before)


def _clock(seconds: float) -> str:
    return str(timedelta(seconds=int(seconds)))
