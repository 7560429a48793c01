"""The per-call conditions every measure counts, and the SQL that aggregates them.

``call_rows(where)`` selects the calls once, with each per-call condition evaluated once into a
boolean column (``x.queued``, ``x.answered``...), and ``raw_measure_selects()`` aggregates
those columns as the measure registry (``backend.call_measures``) declares. Both the summary
refresh and the raw-scan report path use them, so the summaries and a full scan give the same
numbers by construction.

Enum columns of ``call_records`` hold enum *names* (SQLAlchemy's default); the rows here and
the summaries carry line *values* ("114", "hotline") like ``skills.line``.
"""

from __future__ import annotations

from backend.call_measures import CALL_MEASURES, MEASURE_NAMES
from backend.models.calls import Disposition, Line
from reports.kpi import (
    DEFAULT_SHORT_ABANDON_SECONDS,
    DEFAULT_SL_THRESHOLD_SECONDS,
    SATISFIED_MIN_SCORE,
)

LINE_VALUE = (
    "CASE c.line "
    + " ".join(f"WHEN '{member.name}' THEN '{member.value}'" for member in Line)
    + " END"
)


def _d(member: Disposition) -> str:
    return f"'{member.name}'"


# Thresholds: the queue's setting, then its line's default, then the skill's own threshold,
# then the global default.
T = (
    "COALESCE(qs.sl_threshold_seconds, ls.sl_threshold_seconds, sk.sl_threshold_seconds, "
    f"{DEFAULT_SL_THRESHOLD_SECONDS})"
)
SHORT = (
    f"COALESCE(qs.short_abandon_seconds, ls.short_abandon_seconds, {DEFAULT_SHORT_ABANDON_SECONDS})"
)
INBOUND = "c.direction = 'INBOUND'"
QUEUED = f"({INBOUND} AND c.queued_at IS NOT NULL)"
ABANDON_DISPOSITIONS = f"({_d(Disposition.ABANDONED_QUEUE)}, {_d(Disposition.SHORT_ABANDON)})"
HANDLED = "(c.agent_id IS NOT NULL AND c.answered_at IS NOT NULL)"
SURVEYED = f"({HANDLED} AND c.satisfaction IS NOT NULL)"

FLAGS: dict[str, str] = {
    "inbound": INBOUND,
    "ivr_abandoned": f"{INBOUND} AND c.disposition = {_d(Disposition.ABANDONED_IVR)}",
    "self_service": f"{INBOUND} AND c.disposition = {_d(Disposition.SELF_SERVICE)}",
    "queued": QUEUED,
    "answered": f"{QUEUED} AND c.answered_at IS NOT NULL",
    "abandoned": (
        f"{QUEUED} AND c.answered_at IS NULL AND c.disposition IN {ABANDON_DISPOSITIONS}"
    ),
    "callback_requested": f"{QUEUED} AND c.disposition = {_d(Disposition.CALLBACK)}",
    "handled": HANDLED,
    "surveyed": SURVEYED,
    "satisfied": f"{SURVEYED} AND c.satisfaction >= {SATISFIED_MIN_SCORE}",
    "recorded": "(r.id IS NOT NULL AND r.status <> 'MISSING')",
    "stored": "(r.id IS NOT NULL AND r.status NOT IN ('MISSING', 'DELETED'))",
    "is_transfer": f"(c.transferred OR c.disposition = {_d(Disposition.TRANSFERRED)})",
    "is_callback": "c.parent_call_id IS NOT NULL",
}


def call_rows(where: str) -> str:
    """A subquery ``x``: one row per call matching ``where`` (over ``c``), flags evaluated."""
    flags = ",\n    ".join(f"({expr}) AS {name}" for name, expr in FLAGS.items())
    return f"""(
  SELECT c.call_id, c.caller_number, c.started_at, c.agent_id, {LINE_VALUE} AS line, c.skill,
    c.intent, c.disposition,
    c.answered_at IS NOT NULL AS picked_up, c.wait_seconds AS wait, c.talk_seconds AS talk,
    c.hold_seconds AS hold, c.wrapup_seconds AS wrapup, c.satisfaction,
    r.duration_seconds AS rec_seconds, r.size_bytes AS rec_bytes,
    {T} AS t, {SHORT} AS short,
    {flags}
  FROM call_records c
  LEFT JOIN recordings r ON r.id = c.recording_id
  LEFT JOIN skills sk ON sk.code = c.skill
  LEFT JOIN report_queue_settings qs ON qs.line = ({LINE_VALUE}) AND qs.skill = c.skill
  LEFT JOIN report_queue_settings ls ON ls.line = ({LINE_VALUE}) AND ls.skill = ''
  WHERE {where}
) x"""


def raw_measure_selects() -> list[str]:
    """``<aggregate> AS <measure>`` for every measure, over ``call_rows(...)``."""
    return [f"{m.sql} AS {m.name}" for m in CALL_MEASURES]


def summary_measure_selects(alias: str) -> list[str]:
    return [f"COALESCE(sum({alias}.{name}), 0) AS {name}" for name in MEASURE_NAMES]
