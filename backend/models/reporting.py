"""Summary tables the reports read for closed periods, refreshed incrementally from raw records.

Every call measure is a plain additive number (counts and sums of seconds), so any period,
line, skill or agent total is a SUM over summary rows. The same measure names are computed
per call by ``reports.measures`` (the SQL that fills these tables and that the raw-scan path
uses), so both paths agree by construction.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Float, Index, Integer, LargeBinary, String, text
from sqlalchemy.orm import Mapped, mapped_column

from backend.models.base import Base, utcnow
from backend.models.calls import CallRecord

# Upper edges (seconds) of the cumulative queue-wait counts ``waits_le_<edge>``; a percentile
# read from summaries is "at most <edge> seconds".
WAIT_EDGES: tuple[int, ...] = (5, 10, 15, 20, 30, 45, 60, 90, 120, 180, 300, 600)

COUNT_MEASURES: tuple[str, ...] = (
    "inbound",
    "ivr_abandoned",
    "self_service",
    "offered",
    "answered",
    "answered_within_t",
    "abandoned",
    "short_abandoned",
    "abandoned_within_t",
    "callback_requested",
    "callback_made",
    "callback_connected",
    "transferred",
    "handled",
    "surveyed",
    "satisfied",
    "satisfaction_points",
    "recorded",
    "missing_recording",
    *(f"waits_le_{edge}" for edge in WAIT_EDGES),
)
SUM_MEASURES: tuple[str, ...] = (
    "wait_answered_seconds",
    "wait_offered_seconds",
    "talk_seconds",
    "hold_seconds",
    "wrapup_seconds",
    "recording_seconds",
    "recording_bytes",
)
MEASURES: tuple[str, ...] = COUNT_MEASURES + SUM_MEASURES


def _count() -> Mapped[int]:
    return mapped_column(Integer, default=0)


def _seconds() -> Mapped[float]:
    return mapped_column(Float, default=0.0)


class CallMeasures:
    """The additive call measures, shared by the per-queue and the per-agent summaries."""

    inbound: Mapped[int] = _count()
    ivr_abandoned: Mapped[int] = _count()
    self_service: Mapped[int] = _count()
    offered: Mapped[int] = _count()
    answered: Mapped[int] = _count()
    answered_within_t: Mapped[int] = _count()
    abandoned: Mapped[int] = _count()
    short_abandoned: Mapped[int] = _count()
    abandoned_within_t: Mapped[int] = _count()
    callback_requested: Mapped[int] = _count()
    callback_made: Mapped[int] = _count()
    callback_connected: Mapped[int] = _count()
    transferred: Mapped[int] = _count()
    handled: Mapped[int] = _count()
    surveyed: Mapped[int] = _count()
    satisfied: Mapped[int] = _count()
    satisfaction_points: Mapped[int] = _count()
    recorded: Mapped[int] = _count()
    missing_recording: Mapped[int] = _count()
    waits_le_5: Mapped[int] = _count()
    waits_le_10: Mapped[int] = _count()
    waits_le_15: Mapped[int] = _count()
    waits_le_20: Mapped[int] = _count()
    waits_le_30: Mapped[int] = _count()
    waits_le_45: Mapped[int] = _count()
    waits_le_60: Mapped[int] = _count()
    waits_le_90: Mapped[int] = _count()
    waits_le_120: Mapped[int] = _count()
    waits_le_180: Mapped[int] = _count()
    waits_le_300: Mapped[int] = _count()
    waits_le_600: Mapped[int] = _count()
    wait_answered_seconds: Mapped[float] = _seconds()
    wait_offered_seconds: Mapped[float] = _seconds()
    talk_seconds: Mapped[float] = _seconds()
    hold_seconds: Mapped[float] = _seconds()
    wrapup_seconds: Mapped[float] = _seconds()
    recording_seconds: Mapped[float] = _seconds()
    recording_bytes: Mapped[int] = mapped_column(BigInteger, default=0)


class ReportCallStats(CallMeasures, Base):
    """Calls per 15 minutes (UTC-aligned, hence also Beijing-aligned), line and skill."""

    __tablename__ = "report_call_stats"

    bucket_start: Mapped[datetime] = mapped_column(primary_key=True)
    line: Mapped[str] = mapped_column(String(16), primary_key=True)  # "114" / "hotline"
    skill: Mapped[str] = mapped_column(String(32), primary_key=True)


class ReportAgentCallStats(CallMeasures, Base):
    """Calls per Beijing day, agent, line and skill (only calls that reached an agent).

    ``bucket_start`` is the UTC instant of the local midnight.
    """

    __tablename__ = "report_agent_call_stats"
    __table_args__ = (Index("ix_report_agent_call_stats_agent", "agent_id", "bucket_start"),)

    bucket_start: Mapped[datetime] = mapped_column(primary_key=True)
    agent_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    line: Mapped[str] = mapped_column(String(16), primary_key=True)
    skill: Mapped[str] = mapped_column(String(32), primary_key=True)


class ReportAgentStateStats(Base):
    """Seconds each agent spent in each state (and reason) per hour."""

    __tablename__ = "report_agent_state_stats"
    __table_args__ = (Index("ix_report_agent_state_stats_agent", "agent_id", "bucket_start"),)

    bucket_start: Mapped[datetime] = mapped_column(primary_key=True)
    agent_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    state: Mapped[str] = mapped_column(String(16), primary_key=True)
    reason: Mapped[str] = mapped_column(String(32), primary_key=True)
    seconds: Mapped[float] = mapped_column(Float, default=0.0)


class ReportIntentStats(Base):
    """Inbound calls per hour, line and recognised intent (the intent mix)."""

    __tablename__ = "report_intent_stats"

    bucket_start: Mapped[datetime] = mapped_column(primary_key=True)
    line: Mapped[str] = mapped_column(String(16), primary_key=True)
    intent: Mapped[str] = mapped_column(String(32), primary_key=True)
    calls: Mapped[int] = mapped_column(Integer, default=0)


class ReportRefreshMark(Base):
    """How far the summaries are complete: reports read raw records after this instant."""

    __tablename__ = "report_refresh_marks"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    refreshed_through: Mapped[datetime] = mapped_column()
    refreshed_at: Mapped[datetime] = mapped_column(default=utcnow)


class ReportQueueSetting(Base):
    """Per-queue report definitions; ``skill = ''`` is the line's default.

    ``sl_formula`` names one of ``reports.kpi.SlFormula``. A missing threshold falls back to
    the skill's ``sl_threshold_seconds`` and then 20 s.
    """

    __tablename__ = "report_queue_settings"

    line: Mapped[str] = mapped_column(String(16), primary_key=True)
    skill: Mapped[str] = mapped_column(String(32), primary_key=True)
    sl_threshold_seconds: Mapped[int | None] = mapped_column(Integer, default=None)
    short_abandon_seconds: Mapped[int] = mapped_column(Integer, default=5)
    sl_formula: Mapped[str] = mapped_column(String(32), default="offered_minus_short")


class ReportArchive(Base):
    """A generated periodic report file, kept for download."""

    __tablename__ = "report_archives"
    __table_args__ = (Index("ix_report_archives_kind_period", "kind", "period_start"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))  # "halfyear_114", "service_monthly", ...
    period_start: Mapped[datetime] = mapped_column()
    period_end: Mapped[datetime] = mapped_column()
    fmt: Mapped[str] = mapped_column(String(8))  # "pdf", "xlsx", "csv"
    filename: Mapped[str] = mapped_column(String(128))
    content: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


# The abandoned-call list (newest first, a page of 200) walks this backwards instead of
# scanning a year of calls. Declared here, beside the report that needs it.
QUEUE_GIVE_UPS = ("ABANDONED_QUEUE", "SHORT_ABANDON", "CALLBACK")
Index(
    "ix_call_records_queue_give_ups",
    CallRecord.started_at,
    postgresql_where=text(
        "disposition IN (" + ", ".join(f"'{name}'" for name in QUEUE_GIVE_UPS) + ")"
    ),
)
# Whether an abandoned caller was called back: callbacks carry their origin's call id.
Index(
    "ix_call_records_callback_parent",
    CallRecord.parent_call_id,
    postgresql_where=text("parent_call_id IS NOT NULL"),
)
