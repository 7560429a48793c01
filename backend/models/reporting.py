"""Summary tables the reports read for closed periods, refreshed incrementally from raw records.

Every call measure is a plain additive number (counts and sums of seconds), so any period,
line, skill or agent total is a SUM over summary rows. The measure columns come from the
registry ``backend.call_measures``, which also gives the SQL that fills them (through
``reports.measures``) and the totals the KPI formulas read.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from backend.call_measures import CALL_MEASURES
from backend.models.base import Base, utcnow
from backend.models.calls import CallRecord

MEASURE_TYPES: dict[str, type[Integer | BigInteger | Float]] = {
    "integer": Integer,
    "bigint": BigInteger,
    "float": Float,
}


def _call_stats_table(name: str, *keys: Column[Any], indexes: tuple[Index, ...] = ()) -> Table:
    """A call summary: its key columns, then one column per measure of the registry."""
    measures = [
        Column(m.name, MEASURE_TYPES[m.column](), nullable=False, default=0) for m in CALL_MEASURES
    ]
    bucket = Column("bucket_start", DateTime(timezone=True), primary_key=True)
    return Table(name, Base.metadata, bucket, *keys, *measures, *indexes)


class ReportCallStats(Base):
    """Calls per 15 minutes (UTC-aligned, hence also Beijing-aligned), line and skill."""

    __table__ = _call_stats_table(
        "report_call_stats",
        Column("line", String(16), primary_key=True),  # "114" / "hotline"
        Column("skill", String(32), primary_key=True),
    )


class ReportAgentCallStats(Base):
    """Calls per Beijing day, agent, line and skill (only calls that reached an agent).

    ``bucket_start`` is the UTC instant of the local midnight.
    """

    __table__ = _call_stats_table(
        "report_agent_call_stats",
        Column("agent_id", Integer, primary_key=True),
        Column("line", String(16), primary_key=True),
        Column("skill", String(32), primary_key=True),
        indexes=(Index("ix_report_agent_call_stats_agent", "agent_id", "bucket_start"),),
    )


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
    # One edition per period and format: a periodic job run twice inserts nothing the second
    # time (``reports.archive.archive``).
    __table_args__ = (
        Index("uq_report_archives_edition", "kind", "period_start", "fmt", unique=True),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))  # "halfyear_114", "service_monthly", ...
    period_start: Mapped[datetime] = mapped_column()
    period_end: Mapped[datetime] = mapped_column()
    fmt: Mapped[str] = mapped_column(String(8))  # "pdf", "xlsx", "csv"
    filename: Mapped[str] = mapped_column(String(128))
    content: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ReportMailing(Base):
    """One archived edition to e-mail to one recipient: queued with the edition, retried with
    a growing delay, ``failed`` after the last attempt (``reports.mailing``)."""

    __tablename__ = "report_mailings"
    __table_args__ = (
        Index("uq_report_mailings_edition_recipient", "archive_id", "recipient", unique=True),
        Index(
            "ix_report_mailings_due", "next_attempt_at", postgresql_where=text("status = 'queued'")
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    archive_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("report_archives.id", ondelete="CASCADE")
    )
    recipient: Mapped[str] = mapped_column(String(254))
    status: Mapped[str] = mapped_column(String(16))  # "queued", "sent", "failed"
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(default=None)
    last_error: Mapped[str | None] = mapped_column(String(300), default=None)


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
