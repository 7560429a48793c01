"""Call records, the IVR path of each call, and the recordings index. These feed every report."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Enum,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from backend.lines import LINES
from backend.models.base import Base, utcnow

# The lines of the registry (backend/data/lines.yaml): values are the line codes, member names
# are what call_records.line stores (APPOINTMENT_114, HOTLINE), so a line's code may be renamed
# in the registry while its recorded calls keep their line.
Line = enum.StrEnum("Line", [(spec.db_name, spec.code) for spec in LINES])  # type: ignore[misc]


class Disposition(enum.StrEnum):
    IN_PROGRESS = "in_progress"
    ANSWERED = "answered"
    ABANDONED_QUEUE = "abandoned_queue"
    SHORT_ABANDON = "short_abandon"
    ABANDONED_IVR = "abandoned_ivr"
    SELF_SERVICE = "self_service"
    VOICEMAIL = "voicemail"
    CALLBACK = "callback"  # caller left the queue for a callback
    TRANSFERRED = "transferred"
    FALLBACK = "fallback"  # the controller was unreachable; dialplan fallback served it
    # The controller serving the call was lost mid-call (killed, or Asterisk restarted): the
    # dialplan took the caller on to the fallback and the resync closed the record.
    CONTROLLER_LOST = "controller_lost"
    # Outbound calls that were not answered (an answered one is ANSWERED):
    NO_ANSWER = "no_answer"  # the far end rang out
    BUSY = "busy"
    FAILED = "failed"  # the carrier could not reach the number (unavailable, congestion)
    CANCELLED = "cancelled"  # the agent hung up before the far end answered
    REFUSED = "refused"  # the dial policy refused the number: nothing was dialled


class Direction(enum.StrEnum):
    INBOUND = "inbound"
    OUTBOUND = "outbound"


class CallRecord(Base):
    __tablename__ = "call_records"
    __table_args__ = (
        Index("ix_call_records_line_start", "line", "started_at"),
        Index("ix_call_records_agent_start", "agent_id", "started_at"),
        # Only the open records: the resync (ivr/resync/) looks for those every few seconds.
        Index("ix_call_records_open", "started_at", postgresql_where=text("ended_at IS NULL")),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    call_id: Mapped[str] = mapped_column(String(64), unique=True)  # Asterisk linkedid
    line: Mapped[Line] = mapped_column(Enum(Line, native_enum=False, length=16))
    direction: Mapped[Direction] = mapped_column(
        Enum(Direction, native_enum=False, length=16), default=Direction.INBOUND
    )
    # Personal data: the number is kept encrypted (caller_enc) with a keyed hash for look-ups
    # (repeat callers, a caller's history); caller_number holds only the masked form.
    caller_number: Mapped[str] = mapped_column(String(32), default="")
    caller_enc: Mapped[str] = mapped_column(String(255), default="")
    caller_hash: Mapped[str] = mapped_column(String(64), default="", index=True)
    did: Mapped[str] = mapped_column(String(32), default="")
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    ivr_seconds: Mapped[float] = mapped_column(Float, default=0.0)
    queued_at: Mapped[datetime | None] = mapped_column(default=None)
    answered_at: Mapped[datetime | None] = mapped_column(default=None)
    ended_at: Mapped[datetime | None] = mapped_column(default=None)
    wait_seconds: Mapped[float] = mapped_column(Float, default=0.0)
    talk_seconds: Mapped[float] = mapped_column(Float, default=0.0)
    hold_seconds: Mapped[float] = mapped_column(Float, default=0.0)
    wrapup_seconds: Mapped[float] = mapped_column(Float, default=0.0)
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id"), default=None)
    skill: Mapped[str] = mapped_column(String(32), default="")
    priority: Mapped[int] = mapped_column(Integer, default=0)
    disposition: Mapped[Disposition] = mapped_column(
        Enum(Disposition, native_enum=False, length=24), default=Disposition.IN_PROGRESS
    )
    intent: Mapped[str] = mapped_column(String(32), default="")
    elderly: Mapped[bool] = mapped_column(Boolean, default=False)
    transferred: Mapped[bool] = mapped_column(Boolean, default=False)
    satisfaction: Mapped[int | None] = mapped_column(Integer, default=None)  # 1..5 survey
    # The survey after the agent hung up (the caller still on the line), inside the call:
    # ended_at is the caller's channel end. NULL / "" when no survey was offered.
    survey_started_at: Mapped[datetime | None] = mapped_column(default=None)
    survey_seconds: Mapped[float] = mapped_column(Float, default=0.0, server_default="0")
    # backend.flows.schema.SurveyOutcome's value
    survey_outcome: Mapped[str] = mapped_column(String(16), default="", server_default="")
    parent_call_id: Mapped[str | None] = mapped_column(String(64), default=None)  # callbacks
    recording_id: Mapped[int | None] = mapped_column(ForeignKey("recordings.id"), default=None)
    # Why the call was kept off file on purpose ("disk_full": recordings/pause.py); empty when
    # it was recorded, so a lost recording is never mistaken for one.
    unrecorded: Mapped[str] = mapped_column(String(32), default="", server_default="")
    wrapup_code: Mapped[str] = mapped_column(String(32), default="")
    wrapup_notes: Mapped[str] = mapped_column(String(1000), default="")


class IvrStep(Base):
    """One node visited in the IVR: what was played, pressed or said, and how long it took."""

    __tablename__ = "ivr_steps"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    call_id: Mapped[str] = mapped_column(String(64), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    node: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(32))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    seconds: Mapped[float] = mapped_column(Float, default=0.0)
    input: Mapped[str] = mapped_column(String(128), default="")  # keys or recognised text
    outcome: Mapped[str] = mapped_column(String(64), default="")
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class RecordingStatus(enum.StrEnum):
    RECORDING = "recording"  # Asterisk still writes it: never served as complete
    COMPLETE = "complete"
    REPAIRED = "repaired"  # header rewritten after a crash left it broken
    MISSING = "missing"
    DELETED = "deleted"  # removed by retention; the row stays as the deletion's record


class Recording(Base):
    __tablename__ = "recordings"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    call_id: Mapped[str] = mapped_column(String(64), index=True)
    path: Mapped[str] = mapped_column(String(512), unique=True)  # relative to recordings dir
    status: Mapped[RecordingStatus] = mapped_column(
        Enum(RecordingStatus, native_enum=False, length=16), default=RecordingStatus.RECORDING
    )
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    duration_seconds: Mapped[float] = mapped_column(Float, default=0.0)
    size_bytes: Mapped[int] = mapped_column(BigInteger, default=0)
    sha256: Mapped[str] = mapped_column(String(64), default="")
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id"), default=None)
    line: Mapped[str] = mapped_column(String(16), default="")
    category: Mapped[str] = mapped_column(String(32), default="call")  # retention class
