"""The abandoned-call list a team leader calls back from: callers who gave up in the queue
(after the short-abandon threshold) or asked for a callback, with whether anyone called back.

Numbers are shown only in their masked form (``call_records.caller_number``).
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.orm import Session

from backend.lines import LINE_LABELS
from backend.models.calls import Disposition
from backend.models.reporting import QUEUE_GIVE_UPS
from reports.document import Table
from reports.kpi import DEFAULT_SHORT_ABANDON_SECONDS
from reports.measures import LINE_VALUE
from reports.periods import ReportFilter

LIST_LIMIT = 200
COLUMNS = ["开始时间", "线路", "技能组", "来电号码", "等待(秒)", "结果", "已回拨"]
OUTCOME_LABELS = {Disposition.CALLBACK.name: "选择回拨", "ABANDONED": "排队放弃"}


# The queue's short-abandon threshold for one call (queue row first, then the line's): a
# correlated look-up keeps the list a backward walk of the partial index that stops at 200.
SHORT_FOR_CALL = f"""COALESCE((SELECT q.short_abandon_seconds FROM report_queue_settings q
  WHERE q.line = ({LINE_VALUE}) AND q.skill IN (c.skill, '') ORDER BY q.skill DESC LIMIT 1),
  {DEFAULT_SHORT_ABANDON_SECONDS})"""


def abandoned_calls(session: Session, f: ReportFilter) -> Table:
    start, end = f.utc_range()
    # The disposition test matches the partial index ``ix_call_records_queue_give_ups``.
    give_ups = ", ".join(f"'{name}'" for name in QUEUE_GIVE_UPS)
    callback = Disposition.CALLBACK.name
    where = [
        "c.started_at >= :start AND c.started_at < :end",
        f"c.disposition IN ({give_ups})",
        "c.direction = 'INBOUND' AND c.queued_at IS NOT NULL",
        f"(c.disposition = '{callback}' OR (c.answered_at IS NULL "
        f"AND c.wait_seconds >= {SHORT_FOR_CALL}))",
    ]
    params: dict[str, object] = {"start": start, "end": end, "tz": f.tz_name, "limit": LIST_LIMIT}
    if f.line is not None:
        where.append(f"{LINE_VALUE} = :line")
        params["line"] = f.line
    if f.skill is not None:
        where.append("c.skill = :skill")
        params["skill"] = f.skill
    rows = session.execute(
        text(
            f"""SELECT c.started_at AT TIME ZONE :tz AS at, {LINE_VALUE} AS line, c.skill,
              c.caller_number, c.wait_seconds AS wait, c.disposition,
              EXISTS (SELECT 1 FROM call_records cb WHERE cb.parent_call_id = c.call_id) AS done
            FROM call_records c WHERE {" AND ".join(where)}
            ORDER BY c.started_at DESC, c.id DESC LIMIT :limit"""
        ),
        params,
    )
    return Table(
        "放弃来电清单（可回拨）",
        COLUMNS,
        [
            [
                f"{r.at:%Y-%m-%d %H:%M:%S}",
                LINE_LABELS.get(r.line, r.line),
                r.skill,
                r.caller_number,
                round(r.wait, 1),
                OUTCOME_LABELS.get(r.disposition, OUTCOME_LABELS["ABANDONED"]),
                "是" if r.done else "否",
            ]
            for r in rows
        ],
    )
