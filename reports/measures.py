"""The per-call definition of every measure, as SQL.

``call_rows(where)`` selects the calls once, with each per-call condition evaluated once into a
boolean column (``x.queued``, ``x.answered``...), and ``raw_measure_selects()`` aggregates
those columns. Both the summary refresh and the raw-scan report path use them, so the
summaries and a full scan give the same numbers by construction.

Enum columns of ``call_records`` hold enum *names* (SQLAlchemy's default); the rows here and
the summaries carry line *values* ("114", "hotline") like ``skills.line``.
"""

from __future__ import annotations

from backend.models.calls import Disposition, Line
from backend.models.reporting import COUNT_MEASURES, SUM_MEASURES, WAIT_EDGES
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

FLAGS: dict[str, str] = {
    "inbound": INBOUND,
    "queued": QUEUED,
    "answered": f"{QUEUED} AND c.answered_at IS NOT NULL",
    "abandoned": (
        f"{QUEUED} AND c.answered_at IS NULL AND c.disposition IN {ABANDON_DISPOSITIONS}"
    ),
    "handled": HANDLED,
    "surveyed": f"{HANDLED} AND c.satisfaction IS NOT NULL",
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


# measure -> condition counted (over the flags of ``x``)
COUNT_CONDITIONS: dict[str, str] = {
    "inbound": "x.inbound",
    "ivr_abandoned": f"x.inbound AND x.disposition = {_d(Disposition.ABANDONED_IVR)}",
    "self_service": f"x.inbound AND x.disposition = {_d(Disposition.SELF_SERVICE)}",
    "offered": "x.queued",
    "answered": "x.answered",
    "answered_within_t": "x.answered AND x.wait <= x.t",
    "abandoned": "x.abandoned",
    "short_abandoned": "x.abandoned AND x.wait < x.short",
    "abandoned_within_t": "x.abandoned AND x.wait <= x.t",
    "callback_requested": f"x.queued AND x.disposition = {_d(Disposition.CALLBACK)}",
    "callback_made": "x.is_callback",
    "callback_connected": "x.is_callback AND x.picked_up",
    "transferred": "x.answered AND x.is_transfer",
    "handled": "x.handled",
    "surveyed": "x.surveyed",
    "satisfied": f"x.surveyed AND x.satisfaction >= {SATISFIED_MIN_SCORE}",
    "recorded": "x.recorded",
    "missing_recording": "NOT x.recorded",
    **{f"waits_le_{edge}": f"x.queued AND x.wait <= {edge}" for edge in WAIT_EDGES},
}

# measure -> (value summed, condition)
SUM_VALUES: dict[str, tuple[str, str]] = {
    "satisfaction_points": ("x.satisfaction", "x.surveyed"),
    "wait_answered_seconds": ("x.wait", "x.answered"),
    "wait_offered_seconds": ("x.wait", "x.queued"),
    "talk_seconds": ("x.talk", "x.handled"),
    "hold_seconds": ("x.hold", "x.handled"),
    "wrapup_seconds": ("x.wrapup", "x.handled"),
    "recording_seconds": ("x.rec_seconds", "x.stored"),
    "recording_bytes": ("x.rec_bytes", "x.stored"),
}


def raw_measure_selects() -> list[str]:
    """``<aggregate> AS <measure>`` for every measure, over ``call_rows(...)``."""
    selects = []
    for name in (*COUNT_MEASURES, *SUM_MEASURES):
        if name in SUM_VALUES:
            value, condition = SUM_VALUES[name]
            selects.append(f"COALESCE(sum({value}) FILTER (WHERE {condition}), 0) AS {name}")
        else:
            selects.append(f"count(*) FILTER (WHERE {COUNT_CONDITIONS[name]}) AS {name}")
    return selects


def summary_measure_selects(alias: str) -> list[str]:
    return [
        f"COALESCE(sum({alias}.{name}), 0) AS {name}" for name in (*COUNT_MEASURES, *SUM_MEASURES)
    ]
