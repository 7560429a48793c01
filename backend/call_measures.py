"""The additive call measures, declared once: each field of ``CallTotals`` is a measure.

A field gives the measure's name, its Python type and, in its metadata, its SQL: the aggregate
over the per-call rows ``x`` of ``reports.measures.call_rows`` (one row per call, each per-call
condition already evaluated into a boolean column such as ``x.answered``). From this one
declaration come:

- ``CallTotals``, the numbers every KPI formula (``reports.kpi``) reads;
- ``CALL_MEASURES``, from which ``backend.models.reporting`` builds the summary-table columns
  and ``reports.measures`` the SQL that fills them and that the raw-scan path runs, so the
  summaries and a full scan give the same numbers by construction.

Adding a measure: a field here, a migration adding its column to both call summaries
(``report_call_stats`` and ``report_agent_call_stats``), and a flag in ``reports.measures``
if it needs a per-call condition not there yet.

Pure: no SQLAlchemy, no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any, Literal

Column = Literal["integer", "bigint", "float"]
WAIT_EDGE_PREFIX = "waits_le_"


def count(condition: str) -> Any:
    """A count of the calls meeting ``condition``."""
    return field(default=0, metadata={"sql": f"count(*) FILTER (WHERE {condition})"})


def total(value: str, condition: str, *, column: Column = "float") -> Any:
    """The sum of ``value`` over the calls meeting ``condition`` (0 when there are none)."""
    zero: float = 0 if column != "float" else 0.0
    sql = f"COALESCE(sum({value}) FILTER (WHERE {condition}), 0)"
    return field(default=zero, metadata={"sql": sql, "column": column})


def waits_within() -> Any:
    """Queued calls that waited at most the edge the field's name ends with, in seconds: a
    percentile read from the summaries is "at most <edge> seconds"."""
    return field(default=0, metadata={"wait_edge": True})


@dataclass(frozen=True)
class CallTotals:
    """Additive call counts and second sums for one group (period, line, skill or agent)."""

    inbound: int = count("x.inbound")
    ivr_abandoned: int = count("x.ivr_abandoned")
    self_service: int = count("x.self_service")
    offered: int = count("x.queued")
    answered: int = count("x.answered")
    answered_within_t: int = count("x.answered AND x.wait <= x.t")
    abandoned: int = count("x.abandoned")
    short_abandoned: int = count("x.abandoned AND x.wait < x.short")
    abandoned_within_t: int = count("x.abandoned AND x.wait <= x.t")
    callback_requested: int = count("x.callback_requested")
    callback_made: int = count("x.is_callback")
    callback_connected: int = count("x.is_callback AND x.picked_up")
    transferred: int = count("x.answered AND x.is_transfer")
    handled: int = count("x.handled")
    surveyed: int = count("x.surveyed")
    satisfied: int = count("x.satisfied")
    satisfaction_points: int = total("x.satisfaction", "x.surveyed", column="integer")
    recorded: int = count("x.recorded")
    missing_recording: int = count("NOT x.recorded")
    waits_le_5: int = waits_within()
    waits_le_10: int = waits_within()
    waits_le_15: int = waits_within()
    waits_le_20: int = waits_within()
    waits_le_30: int = waits_within()
    waits_le_45: int = waits_within()
    waits_le_60: int = waits_within()
    waits_le_90: int = waits_within()
    waits_le_120: int = waits_within()
    waits_le_180: int = waits_within()
    waits_le_300: int = waits_within()
    waits_le_600: int = waits_within()
    wait_answered_seconds: float = total("x.wait", "x.answered")
    wait_offered_seconds: float = total("x.wait", "x.queued")
    talk_seconds: float = total("x.talk", "x.handled")
    hold_seconds: float = total("x.hold", "x.handled")
    wrapup_seconds: float = total("x.wrapup", "x.handled")
    recording_seconds: float = total("x.rec_seconds", "x.stored")
    recording_bytes: int = total("x.rec_bytes", "x.stored", column="bigint")

    def __add__(self, other: CallTotals) -> CallTotals:
        return CallTotals(
            **{f.name: getattr(self, f.name) + getattr(other, f.name) for f in fields(self)}
        )

    @classmethod
    def from_mapping(cls, row: Mapping[str, Any]) -> CallTotals:
        """Totals from a result row; missing or NULL measures count as zero."""
        values: dict[str, Any] = {
            f.name: (float if f.type == "float" else int)(row.get(f.name) or 0) for f in fields(cls)
        }
        return cls(**values)

    @property
    def handle_seconds(self) -> float:
        return self.talk_seconds + self.hold_seconds + self.wrapup_seconds

    def waits_within(self) -> list[tuple[int, int]]:
        """(edge seconds, offered calls that waited at most that long), ascending."""
        return [(edge, getattr(self, f"{WAIT_EDGE_PREFIX}{edge}")) for edge in WAIT_EDGES]


@dataclass(frozen=True)
class Measure:
    name: str
    column: Column  # the type of its summary-table column
    sql: str  # its aggregate over the call rows ``x``


def _measure(f: Any) -> Measure:
    if f.metadata.get("wait_edge"):
        edge = int(f.name.removeprefix(WAIT_EDGE_PREFIX))
        return Measure(f.name, "integer", f"count(*) FILTER (WHERE x.queued AND x.wait <= {edge})")
    column: Column = f.metadata.get("column", "integer")
    return Measure(f.name, column, f.metadata["sql"])


CALL_MEASURES: tuple[Measure, ...] = tuple(_measure(f) for f in fields(CallTotals))
MEASURE_NAMES: tuple[str, ...] = tuple(m.name for m in CALL_MEASURES)
# Upper edges (seconds) of the cumulative queue-wait counts, ascending.
WAIT_EDGES: tuple[int, ...] = tuple(
    int(f.name.removeprefix(WAIT_EDGE_PREFIX))
    for f in fields(CallTotals)
    if f.metadata.get("wait_edge")
)
