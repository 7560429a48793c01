"""Agents' availability: the local dates an agent cannot be scheduled (leave, training).

The solver never schedules an agent on such a day and an edit putting one there is refused.
Setting a day off twice keeps one row (an upsert), so a repeated request is harmless.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from backend.audit.records import Actor, record_audit
from backend.errors import NotFound
from backend.models.agents import Agent
from backend.models.workforce import AgentDayOff


def days_off(session: Session, first: date, last: date) -> set[tuple[int, date]]:
    """(agent id, date) of every day off from ``first`` to ``last`` inclusive."""
    rows = session.execute(
        select(AgentDayOff.agent_id, AgentDayOff.day).where(AgentDayOff.day.between(first, last))
    )
    return {(agent_id, day) for agent_id, day in rows}


def set_day_off(
    session: Session, agent_id: int, day: date, reason: str, actor: Actor, now: datetime
) -> None:
    if session.get(Agent, agent_id) is None:
        raise NotFound(f"没有编号为 {agent_id} 的坐席")
    statement = insert(AgentDayOff).values(agent_id=agent_id, day=day, reason=reason[:64])
    session.execute(
        statement.on_conflict_do_update(
            index_elements=["agent_id", "day"], set_={"reason": statement.excluded.reason}
        )
    )
    record_audit(session, actor, "roster.day_off", f"agent:{agent_id}", now,
                 {"day": day.isoformat(), "reason": reason[:64]})  # fmt: skip


def clear_day_off(session: Session, agent_id: int, day: date, actor: Actor, now: datetime) -> None:
    session.execute(
        delete(AgentDayOff).where(AgentDayOff.agent_id == agent_id, AgentDayOff.day == day)
    )
    record_audit(session, actor, "roster.day_off_cleared", f"agent:{agent_id}", now,
                 {"day": day.isoformat()})  # fmt: skip
