"""Text messages to citizens (issue 26): the outbox, the gateways' delivery receipts, the
numbers that asked for no reminders, and the administrators' message texts.

The outbox row of a booking's message is written in the booking's own transaction, so a
booking is never without its message nor a message without its booking; ``(event, subject)``
is unique, so a retried request (or a second reminder run) cannot queue a second one.
Numbers are stored only as personal-data ciphertext and keyed hashes (``backend/personal_data``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from backend.models.base import Base, utcnow


class SmsOutbox(Base):
    __tablename__ = "sms_outbox"
    __table_args__ = (
        Index("uq_sms_outbox_event_subject", "event", "subject", unique=True),
        # The sender's scan: only what is still to be sent, oldest due first.
        Index(
            "ix_sms_outbox_due",
            "next_attempt_at",
            postgresql_where=text("status = 'queued'"),
        ),
        Index("ix_sms_outbox_booking", "booking_id"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    event: Mapped[str] = mapped_column(String(32))  # booking-made, reminder, callback-missed...
    subject: Mapped[str] = mapped_column(String(96))  # "booking:12", "resend:12:2", "callback:7"
    booking_id: Mapped[int | None] = mapped_column(ForeignKey("bookings.id"), default=None)
    # Messages not about a booking carry their number (encrypted) and their placeholders;
    # a booking's message reads the patient's number and the booking when it is sent.
    phone_enc: Mapped[str | None] = mapped_column(Text, default=None)
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(16), default="queued")  # queued/sent/skipped/expired
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(default=None)
    gateway: Mapped[str | None] = mapped_column(String(16), default=None)
    gateway_message_id: Mapped[str | None] = mapped_column(String(64), default=None)
    last_error: Mapped[str | None] = mapped_column(String(200), default=None)


class SmsReceipt(Base):
    """A gateway's delivery report, kept by the gateway's message id (it may arrive before
    the sender has committed the id to its outbox row)."""

    __tablename__ = "sms_receipts"
    __table_args__ = (
        Index("uq_sms_receipts_gateway_message", "gateway", "message_id", unique=True),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    gateway: Mapped[str] = mapped_column(String(16))
    message_id: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16))  # DELIVRD, UNDELIV, EXPIRED, REJECTD...
    received_at: Mapped[datetime] = mapped_column(default=utcnow)


class SmsOptOut(Base):
    """A number that asked for no reminders (booking notices still go: they answer a request)."""

    __tablename__ = "sms_opt_outs"

    phone_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    via: Mapped[str] = mapped_column(String(64))  # "ivr", "agent:8001", "sms"
    at: Mapped[datetime] = mapped_column(default=utcnow)


class SmsTemplate(Base):
    """An administrator's text for one event; events without a row use the built-in text."""

    __tablename__ = "sms_templates"

    event: Mapped[str] = mapped_column(String(32), primary_key=True)
    text: Mapped[str] = mapped_column(String(500))
    updated_by: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
