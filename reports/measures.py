"""The per-call definition of every measure, as SQL over ``call_records c``.

Both the summary refresh and the raw-scan report path aggregate these expressions, so the
summaries and a full scan give the same numbers by construction. Enum columns of
``call_records`` hold enum *names* (SQLAlchemy's default); the summaries hold line *values*
("114", "hotline") like ``skills.line`` and ``recordings.line``.
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

# Joins that resolve the per-queue thresholds: queue setting, then line default, then the
# skill's own threshold, then the global default.
CALL_FROM = f"""
call_records c
LEFT JOIN recordings r ON r.id = c.recording_id
LEFT JOIN skills sk ON sk.code = c.skill
LEFT JOIN report_queue_settings qs ON qs.line = ({LINE_VALUE}) AND qs.skill = c.skill
LEFT JOIN report_queue_settings ls ON ls.line = ({LINE_VALUE}) AND ls.skill = ''
"""

T = (
    "COALESCE(qs.sl_threshold_seconds, ls.sl_threshold_seconds, sk.sl_threshold_seconds, "
    f"{DEFAULT_SL_THRESHOLD_SECONDS})"
)
SHORT = (
    f"COALESCE(qs.short_abandon_seconds, ls.short_abandon_seconds, {DEFAULT_SHORT_ABANDON_SECONDS})"
)


def _d(member: Disposition) -> str:
    return f"'{member.name}'"


INBOUND = "c.direction = 'INBOUND'"
QUEUED = f"({INBOUND} AND c.queued_at IS NOT NULL)"
ANSWERED = f"({QUEUED} AND c.answered_at IS NOT NULL)"
ABANDONED = (
    f"({QUEUED} AND c.answered_at IS NULL AND c.disposition IN "
    f"({_d(Disposition.ABANDONED_QUEUE)}, {_d(Disposition.SHORT_ABANDON)}))"
)
HANDLED = "(c.agent_id IS NOT NULL AND c.answered_at IS NOT NULL)"
SURVEYED = f"({HANDLED} AND c.satisfaction IS NOT NULL)"
RECORDED = "(r.id IS NOT NULL AND r.status <> 'MISSING')"
STORED = "(r.id IS NOT NULL AND r.status NOT IN ('MISSING', 'DELETED'))"

# measure -> condition counted, for the count measures
COUNT_CONDITIONS: dict[str, str] = {
    "inbound": INBOUND,
    "ivr_abandoned": f"{INBOUND} AND c.disposition = {_d(Disposition.ABANDONED_IVR)}",
    "self_service": f"{INBOUND} AND c.disposition = {_d(Disposition.SELF_SERVICE)}",
    "offered": QUEUED,
    "answered": ANSWERED,
    "answered_within_t": f"{ANSWERED} AND c.wait_seconds <= {T}",
    "abandoned": ABANDONED,
    "short_abandoned": f"{ABANDONED} AND c.wait_seconds < {SHORT}",
    "abandoned_within_t": f"{ABANDONED} AND c.wait_seconds <= {T}",
    "callback_requested": f"{QUEUED} AND c.disposition = {_d(Disposition.CALLBACK)}",
    "callback_made": "c.parent_call_id IS NOT NULL",
    "callback_connected": "c.parent_call_id IS NOT NULL AND c.answered_at IS NOT NULL",
    "transferred": (
        f"{ANSWERED} AND (c.transferred OR c.disposition = {_d(Disposition.TRANSFERRED)})"
    ),
    "handled": HANDLED,
    "surveyed": SURVEYED,
    "satisfied": f"{SURVEYED} AND c.satisfaction >= {SATISFIED_MIN_SCORE}",
    "recorded": RECORDED,
    "missing_recording": f"NOT {RECORDED}",
    **{f"waits_le_{edge}": f"{QUEUED} AND c.wait_seconds <= {edge}" for edge in WAIT_EDGES},
}

# measure -> (value summed, condition)
SUM_VALUES: dict[str, tuple[str, str]] = {
    "satisfaction_points": ("c.satisfaction", SURVEYED),
    "wait_answered_seconds": ("c.wait_seconds", ANSWERED),
    "wait_offered_seconds": ("c.wait_seconds", QUEUED),
    "talk_seconds": ("c.talk_seconds", HANDLED),
    "hold_seconds": ("c.hold_seconds", HANDLED),
    "wrapup_seconds": ("c.wrapup_seconds", HANDLED),
    "recording_seconds": ("r.duration_seconds", STORED),
    "recording_bytes": ("r.size_bytes", STORED),
}


def raw_measure_selects() -> list[str]:
    """``<aggregate> AS <measure>`` for every measure, over ``call_records c``."""
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
