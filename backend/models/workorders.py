"""Work orders (工单) of the hotline and the respond-on-complaint teams, their timeline,
callback tasks, desk notifications and the city platform's API clients.

Caller names and phone numbers are stored encrypted; ``caller_phone_hash`` is the keyed look-up
hash used to find repeat callers without decrypting anything.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from backend.models.base import Base, utcnow


class WorkOrder(Base):
    __tablename__ = "work_orders"
    __table_args__ = (
        Index("ix_work_orders_state_due", "state", "due_at"),
        Index("ix_work_orders_phone_created", "caller_phone_hash", "created_at"),
        Index("ix_work_orders_hotspot_created", "hotspot_key", "created_at"),
        # The 12345 platform pages through its orders' replies by (updated_at, id).
        Index(
            "ix_work_orders_platform_updated",
            "updated_at",
            "id",
            postgresql_where=text("platform_order_id IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    number: Mapped[str] = mapped_column(String(32), unique=True)  # shown to people
    source: Mapped[str] = mapped_column(String(24))  # backend.workorders.workflow.Source
    line: Mapped[str] = mapped_column(String(16), default="hotline")
    state: Mapped[str] = mapped_column(String(24))  # backend.workorders.workflow.State
    urgency: Mapped[str] = mapped_column(String(16), default="normal")
    complex_case: Mapped[bool] = mapped_column(Boolean, default=False)
    category: Mapped[str] = mapped_column(String(200), default="")  # "医疗保障/医保报销/门诊"
    department: Mapped[str] = mapped_column(String(100), default="", index=True)
    industry: Mapped[str] = mapped_column(String(100), default="")
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    address: Mapped[str] = mapped_column(String(300), default="")
    caller_name_enc: Mapped[str] = mapped_column(Text, default="")
    caller_phone_enc: Mapped[str] = mapped_column(Text, default="")
    caller_phone_hash: Mapped[str] = mapped_column(String(64), default="")
    call_id: Mapped[str | None] = mapped_column(String(64), default=None, index=True)
    recording_path: Mapped[str] = mapped_column(String(512), default="")
    platform_order_id: Mapped[str | None] = mapped_column(String(64), default=None, unique=True)
    attachments: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    copies: Mapped[list[str]] = mapped_column(JSON, default=list)  # managers copied on dispatch
    assignee: Mapped[str] = mapped_column(String(64), default="")  # who signed for it
    # The desk team the order belongs to (backend.workorders.scope): the filer's, or the
    # signer's for an order that came in without one; "" while nobody has taken it.
    team: Mapped[str] = mapped_column(String(64), default="", index=True)
    created_by: Mapped[str] = mapped_column(String(64), default="")
    feedback: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    return_reason: Mapped[str] = mapped_column(String(500), default="")
    supervision_round: Mapped[int] = mapped_column(Integer, default=0)
    resolved: Mapped[bool | None] = mapped_column(Boolean, default=None)
    satisfied: Mapped[bool | None] = mapped_column(Boolean, default=None)
    callback_recording: Mapped[str] = mapped_column(String(512), default="")
    # Duplicate and hot-spot detection, computed at intake.
    repeat_of_id: Mapped[int | None] = mapped_column(ForeignKey("work_orders.id"), default=None)
    repeat_count: Mapped[int] = mapped_column(Integer, default=0)
    hotspot_key: Mapped[str] = mapped_column(String(200), default="")
    hotspot_callers: Mapped[int] = mapped_column(Integer, default=0)
    # Deadlines: the current stage's due time, and whether it has passed.
    due_at: Mapped[datetime | None] = mapped_column(default=None)
    due_stage: Mapped[str] = mapped_column(String(24), default="")
    final_due_at: Mapped[datetime | None] = mapped_column(default=None)  # e.g. the platform's
    overdue: Mapped[bool] = mapped_column(Boolean, default=False)
    overdue_count: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(default=None)


class WorkOrderEvent(Base):
    """The timeline: one row per step, by a person or by the system."""

    __tablename__ = "work_order_events"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("work_orders.id"), index=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(32))
    from_state: Mapped[str] = mapped_column(String(24), default="")
    to_state: Mapped[str] = mapped_column(String(24), default="")
    note: Mapped[str] = mapped_column(Text, default="")
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class WorkOrderCall(Base):
    """Calls and recordings linked to an order: the intake call, callbacks, repeat calls."""

    __tablename__ = "work_order_calls"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("work_orders.id"), index=True)
    call_id: Mapped[str] = mapped_column(String(64), index=True)
    relation: Mapped[str] = mapped_column(String(16), default="intake")  # intake/callback/...
    recording_path: Mapped[str] = mapped_column(String(512), default="")
    linked_at: Mapped[datetime] = mapped_column(default=utcnow)


class CallbackTask(Base):
    """A citizen to be called back: out-of-hours messages, queue voicemails, and callers who
    booked a half-hour window from the queue (no work order; ``window_*`` set)."""

    __tablename__ = "callback_tasks"
    __table_args__ = (
        Index("ix_callback_tasks_status_due", "status", "due_at"),
        Index("ix_callback_tasks_line_window", "line", "window_start"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    phone_enc: Mapped[str] = mapped_column(Text)
    phone_hash: Mapped[str] = mapped_column(String(64), index=True)
    line: Mapped[str] = mapped_column(String(16), default="hotline")
    due_at: Mapped[datetime] = mapped_column()
    # pending/done/failed; missed: a booked window passed before anybody reached the citizen
    status: Mapped[str] = mapped_column(String(16), default="pending")
    order_id: Mapped[int | None] = mapped_column(ForeignKey("work_orders.id"), default=None)
    call_id: Mapped[str | None] = mapped_column(String(64), default=None)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # A booked window: dialled only from its start, given up (missed) at its end.
    window_start: Mapped[datetime | None] = mapped_column(default=None)
    window_end: Mapped[datetime | None] = mapped_column(default=None)
    skill: Mapped[str | None] = mapped_column(String(32), default=None)  # the queue left


class DeskNotification(Base):
    """A message shown on a person's desk (the first notifier; SMS can follow)."""

    __tablename__ = "desk_notifications"
    __table_args__ = (Index("ix_desk_notifications_recipient_read", "recipient", "read_at"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    recipient: Mapped[str] = mapped_column(String(100))  # username or "dept:<name>"
    kind: Mapped[str] = mapped_column(String(32))
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text, default="")
    order_id: Mapped[int | None] = mapped_column(ForeignKey("work_orders.id"), default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(default=None)


class CityPlatformClient(Base):
    """A signing key of the city 12345 platform: its id and its secret, encrypted."""

    __tablename__ = "city_platform_clients"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    key_id: Mapped[str | None] = mapped_column(String(64), unique=True, default=None)
    secret_enc: Mapped[str | None] = mapped_column(Text, default=None)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
