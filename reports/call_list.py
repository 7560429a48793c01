"""The calls behind a report's figure (drill-down): the same per-call conditions the figure
counts (``reports.measures.FLAGS``) over the same scope, so the list has as many calls as the
figure says (up to ``LIST_LIMIT`` shown, the count always whole).

Numbers are shown masked only. Whether a recording may be played is the desk's decision (its
permissions and the team scope): this module says only which recording belongs to a call.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from backend.lines import LINE_LABELS
from reports.measures import call_rows
from reports.periods import ReportFilter
from reports.query import raw_scope

LIST_LIMIT = 500


class CallKind(enum.StrEnum):
    """Which figure's calls: each is a flag of ``reports.measures.FLAGS``."""

    INBOUND = "inbound"
    QUEUED = "queued"
    ANSWERED = "answered"
    ABANDONED = "abandoned"
    CALLBACK_REQUESTED = "callback_requested"
    SELF_SERVICE = "self_service"
    IVR_ABANDONED = "ivr_abandoned"
    HANDLED = "handled"


KIND_LABELS = {
    CallKind.INBOUND: "呼入",
    CallKind.QUEUED: "进入队列",
    CallKind.ANSWERED: "接听",
    CallKind.ABANDONED: "放弃",
    CallKind.CALLBACK_REQUESTED: "选择回拨",
    CallKind.SELF_SERVICE: "IVR自助",
    CallKind.IVR_ABANDONED: "IVR中挂机",
    CallKind.HANDLED: "坐席处理",
}
DISPOSITION_LABELS = {
    "ANSWERED": "已接听",
    "ABANDONED_QUEUE": "排队放弃",
    "SHORT_ABANDON": "短时放弃",
    "ABANDONED_IVR": "IVR中挂机",
    "SELF_SERVICE": "IVR自助",
    "VOICEMAIL": "留言",
    "CALLBACK": "选择回拨",
    "TRANSFERRED": "已转接",
    "IN_PROGRESS": "进行中",
}


@dataclass(frozen=True)
class ListedCall:
    call_id: str
    started_at: datetime  # local, naive
    line: str
    skill: str
    agent: str  # "1001 王芳" or ""
    agent_team: str | None
    caller_number: str  # masked
    wait_seconds: float | None
    talk_seconds: float
    outcome: str
    satisfaction: int | None
    recording_id: int | None  # a stored recording (not missing, not deleted)


@dataclass(frozen=True)
class CallList:
    kind: CallKind
    total: int
    calls: list[ListedCall]


def calls_behind(session: Session, f: ReportFilter, kind: CallKind) -> CallList:
    """The calls of ``kind`` in the filter's range and scope, newest first."""
    start, end = f.utc_range()
    where, params = raw_scope(f)
    where.append("c.started_at >= :start AND c.started_at < :end")
    if f.agent_scoped:
        where.append("c.agent_id IS NOT NULL")  # as the figures' agent-scoped reads
    params.update(start=start, end=end, limit=LIST_LIMIT)
    rows = call_rows(" AND ".join(where))
    total = session.execute(
        text(f"SELECT count(*) FROM {rows} WHERE x.{kind.value}"), params
    ).scalar_one()
    listed = session.execute(
        text(
            f"""SELECT x.call_id, x.started_at AT TIME ZONE :tz AS at, x.line, x.skill,
              a.number AS agent_number, a.name AS agent_name, a.team AS agent_team,
              x.caller_number, x.wait, x.talk, x.disposition, x.satisfaction,
              CASE WHEN x.stored THEN c.recording_id END AS recording_id
            FROM {rows}
            JOIN call_records c ON c.call_id = x.call_id
            LEFT JOIN agents a ON a.id = x.agent_id
            WHERE x.{kind.value}
            ORDER BY x.started_at DESC, x.call_id LIMIT :limit"""
        ),
        params,
    )
    return CallList(kind, int(total), [_listed(r) for r in listed])


def _listed(r: Any) -> ListedCall:
    number = r.agent_number
    return ListedCall(
        call_id=r.call_id,
        started_at=r.at,
        line=LINE_LABELS.get(r.line, r.line),
        skill=r.skill,
        agent=f"{number} {r.agent_name}" if number else "",
        agent_team=r.agent_team,
        caller_number=r.caller_number,
        wait_seconds=r.wait,
        talk_seconds=r.talk or 0.0,
        outcome=DISPOSITION_LABELS.get(r.disposition, r.disposition),
        satisfaction=r.satisfaction,
        recording_id=r.recording_id,
    )
