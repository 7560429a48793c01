"""Wallboard data: agents by state with time in state, queues with the longest wait, and
today's service level (answered within T over offered minus short abandons, as reports do)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from agent_desk.myday import local_midnight
from backend.acd.model import AgentView, QueuedCall
from backend.acd.states import REASON_LABELS, STATE_LABELS
from backend.models.agents import Agent, Skill
from backend.models.calls import CallRecord, Disposition
from reports.kpi import CallTotals, SlFormula, service_level

SL_FORMULA_TEXT = "阈值内接通数 ÷（进入队列数 − 短时放弃数）"
ABANDONED = (Disposition.ABANDONED_QUEUE, Disposition.SHORT_ABANDON)


def agent_rows(
    views: list[AgentView], names: dict[int, tuple[str, str]], now: float
) -> list[dict[str, Any]]:
    rows = []
    for view in views:
        status = view.status
        name, team = names.get(status.agent_id, ("", ""))
        rows.append(
            {
                "agent_id": status.agent_id,
                "number": view.profile.number,
                "name": name,
                "team": team,
                "state": status.state.value,
                "state_label": STATE_LABELS[status.state],
                "reason": status.reason,
                "reason_label": REASON_LABELS.get(status.reason, status.reason),
                "since": status.since,
                "seconds_in_state": max(0.0, now - status.since) if status.since else 0.0,
                "call_id": status.call_id,
            }
        )
    return sorted(rows, key=lambda r: r["number"])


def queue_rows(
    skills: dict[str, str], waiting: list[QueuedCall], now: float
) -> list[dict[str, Any]]:
    by_skill: dict[str, list[QueuedCall]] = {code: [] for code in skills}
    for call in waiting:
        by_skill.setdefault(call.skill, []).append(call)
    return [
        {
            "skill": code,
            "name": skills.get(code, code),
            "waiting": len(calls),
            "longest_wait_seconds": max((now - c.entered_at for c in calls), default=0.0),
        }
        for code, calls in sorted(by_skill.items())
    ]


def agent_names(db: Session) -> dict[int, tuple[str, str]]:
    return {a.id: (a.name, a.team) for a in db.scalars(select(Agent))}


def skill_names(db: Session) -> dict[str, str]:
    return {s.code: s.name for s in db.scalars(select(Skill))}


def service_level_today(db: Session, now: datetime, tz: ZoneInfo) -> dict[str, Any]:
    threshold = func.coalesce(Skill.sl_threshold_seconds, 20)
    offered, within, short = db.execute(
        select(
            func.count(CallRecord.id),
            func.count(
                case(
                    (
                        (CallRecord.answered_at.is_not(None))
                        & (CallRecord.wait_seconds <= threshold),
                        1,
                    )
                )
            ),
            func.count(case((CallRecord.disposition == Disposition.SHORT_ABANDON, 1))),
        )
        .select_from(CallRecord)
        .outerjoin(Skill, Skill.code == CallRecord.skill)
        .where(CallRecord.started_at >= local_midnight(now, tz), CallRecord.queued_at.is_not(None))
    ).one()
    totals = CallTotals(offered=offered, answered_within_t=within, short_abandoned=short)
    value = service_level(totals, SlFormula.OFFERED_MINUS_SHORT)
    return {
        "value": value,
        "offered": offered,
        "answered_within_threshold": within,
        "short_abandoned": short,
        "formula": SL_FORMULA_TEXT,
    }
