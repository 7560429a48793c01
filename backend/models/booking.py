"""Hospitals, their schedules and slots, patients, accounts and bookings: one slot database
that the phone agents, the IVR and the online channel all book from.

Enumerated values (session, channel, status) are stored as plain strings so that reports and
the hospital interface can read them in SQL without a mapping table.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from backend.models.base import Base, CreatedAt, utcnow

# Booking statuses that hold a slot; a cancelled booking gives its slot back.
SLOT_HOLDING_STATUSES = ("booked", "attended", "no_show")


class Hospital(CreatedAt, Base):
    __tablename__ = "hospitals"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(128))
    level: Mapped[str] = mapped_column(String(8))  # "二级" or "三级"
    district: Mapped[str] = mapped_column(String(32))
    address: Mapped[str] = mapped_column(String(256), default="")
    phone: Mapped[str] = mapped_column(String(32), default="")
    booking_notes: Mapped[str] = mapped_column(String(2000), default="")  # rules shown to patients
    api_key_id: Mapped[str | None] = mapped_column(String(64), unique=True, default=None)
    api_secret_enc: Mapped[str | None] = mapped_column(String(512), default=None)
    # The key id the last rotation replaced: a request still signed with it is refused as
    # before, but its refusal is shown on this hospital's page (``backend/booking/push_log``).
    retired_key_id: Mapped[str | None] = mapped_column(String(64), default=None, index=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class HospitalPush(Base):
    """One call a hospital made to change data (push, stop, attendance) and how it ended,
    written when it ends; the newest ``push_log.KEPT_PER_HOSPITAL`` per hospital are kept."""

    __tablename__ = "hospital_pushes"
    __table_args__ = (Index("ix_hospital_pushes_hospital_id_id", "hospital_id", "id"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    hospital_id: Mapped[int] = mapped_column(ForeignKey("hospitals.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    method: Mapped[str] = mapped_column(String(8))
    path: Mapped[str] = mapped_column(String(300))
    key_id: Mapped[str] = mapped_column(String(64))
    status: Mapped[int] = mapped_column(Integer)
    outcome: Mapped[str] = mapped_column(String(16))  # accepted / refused
    error: Mapped[str] = mapped_column(String(64), default="")  # the answer's error id
    message: Mapped[str] = mapped_column(String(500), default="")  # reason, or what changed


class Department(Base):
    __tablename__ = "departments"
    __table_args__ = (UniqueConstraint("hospital_id", "code", name="uq_departments_hospital_code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    hospital_id: Mapped[int] = mapped_column(ForeignKey("hospitals.id"), index=True)
    code: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(64))
    intro: Mapped[str] = mapped_column(String(1000), default="")


class Doctor(Base):
    __tablename__ = "doctors"
    __table_args__ = (UniqueConstraint("hospital_id", "code", name="uq_doctors_hospital_code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    hospital_id: Mapped[int] = mapped_column(ForeignKey("hospitals.id"))
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"), index=True)
    code: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(32))  # 主任医师, 副主任医师, 主治医师, 住院医师


class Schedule(Base):
    """One doctor's (or a department's general clinic's) session on one day."""

    __tablename__ = "schedules"
    __table_args__ = (
        UniqueConstraint("hospital_id", "external_id", name="uq_schedules_hospital_external"),
        Index("ix_schedules_department_day", "department_id", "day"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    hospital_id: Mapped[int] = mapped_column(ForeignKey("hospitals.id"))
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"))
    doctor_id: Mapped[int | None] = mapped_column(ForeignKey("doctors.id"), default=None)
    external_id: Mapped[str] = mapped_column(String(64))  # the hospital's own id
    day: Mapped[date] = mapped_column(Date)
    session: Mapped[str] = mapped_column(String(16))  # morning / afternoon / evening
    starts_at: Mapped[datetime] = mapped_column()
    ends_at: Mapped[datetime] = mapped_column()
    fee: Mapped[Decimal] = mapped_column(Numeric(8, 2))
    capacity: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), default="open")  # open / stopped
    stop_reason: Mapped[str] = mapped_column(String(256), default="")
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class Slot(Base):
    """One numbered appointment time. ``channel`` says which channels may take it, which is
    how a schedule shares its capacity between phone and online; ``release_at`` keeps a
    cancelled slot off sale until a random moment later."""

    __tablename__ = "slots"
    __table_args__ = (
        UniqueConstraint("schedule_id", "seq", name="uq_slots_schedule_seq"),
        Index("ix_slots_schedule_taken", "schedule_id", "taken"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    schedule_id: Mapped[int] = mapped_column(ForeignKey("schedules.id"))
    seq: Mapped[int] = mapped_column(Integer)
    starts_at: Mapped[datetime] = mapped_column()
    channel: Mapped[str] = mapped_column(String(8), default="any")  # any / phone / online
    taken: Mapped[bool] = mapped_column(Boolean, default=False)
    release_at: Mapped[datetime | None] = mapped_column(default=None)


class Account(CreatedAt, Base):
    """An online-channel user: the owner of a phone number who manages several patients."""

    __tablename__ = "booking_accounts"

    id: Mapped[int] = mapped_column(primary_key=True)
    phone_hash: Mapped[str] = mapped_column(String(64), unique=True)
    phone_enc: Mapped[str] = mapped_column(String(512))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)


class Patient(CreatedAt, Base):
    """A real-name patient (就诊人); the ID number is the identity every quota counts by."""

    __tablename__ = "patients"

    id: Mapped[int] = mapped_column(primary_key=True)
    id_hash: Mapped[str] = mapped_column(String(64), unique=True)
    id_enc: Mapped[str] = mapped_column(String(512))
    name_enc: Mapped[str] = mapped_column(String(512))
    phone_hash: Mapped[str] = mapped_column(String(64), index=True)
    phone_enc: Mapped[str] = mapped_column(String(512))
    # The masked forms every non-revealing view shows, stored so that showing them needs no
    # decryption; NULL on rows registered before they existed (read then from the ciphertext).
    name_masked: Mapped[str | None] = mapped_column(String(64), default=None)
    id_masked: Mapped[str | None] = mapped_column(String(64), default=None)
    phone_masked: Mapped[str | None] = mapped_column(String(64), default=None)


class AccountPatient(Base):
    __tablename__ = "account_patients"

    account_id: Mapped[int] = mapped_column(ForeignKey("booking_accounts.id"), primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), primary_key=True)


class Booking(Base):
    __tablename__ = "bookings"
    __table_args__ = (
        # The last line of defence against overbooking: one live booking per slot.
        Index(
            "uq_bookings_live_slot",
            "slot_id",
            unique=True,
            postgresql_where=text("status <> 'cancelled'"),
        ),
        Index("ix_bookings_patient_booked", "patient_id", "booked_at"),
        Index("ix_bookings_schedule", "schedule_id"),
        Index("ix_bookings_booked_at", "booked_at"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)  # read out by agents and IVR
    slot_id: Mapped[int] = mapped_column(ForeignKey("slots.id"))
    schedule_id: Mapped[int] = mapped_column(ForeignKey("schedules.id"))
    hospital_id: Mapped[int] = mapped_column(ForeignKey("hospitals.id"))
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"))
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"))
    account_id: Mapped[int | None] = mapped_column(ForeignKey("booking_accounts.id"), default=None)
    visit_day: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16), default="booked")
    channel: Mapped[str] = mapped_column(String(8))  # phone / ivr / online
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id"), default=None)
    actor: Mapped[str] = mapped_column(String(64))
    booked_at: Mapped[datetime] = mapped_column(default=utcnow)
    cancelled_at: Mapped[datetime | None] = mapped_column(default=None)
    reported_at: Mapped[datetime | None] = mapped_column(default=None)  # attended / no-show
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class BookingEvent(Base):
    """Every change of a booking, numbered: hospitals pull them since a cursor (the id)."""

    __tablename__ = "booking_events"
    __table_args__ = (Index("ix_booking_events_hospital_id", "hospital_id", "id"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    hospital_id: Mapped[int] = mapped_column(ForeignKey("hospitals.id"))
    booking_id: Mapped[int] = mapped_column(ForeignKey("bookings.id"))
    kind: Mapped[str] = mapped_column(String(16))  # booked / cancelled / attended / no_show
    at: Mapped[datetime] = mapped_column(default=utcnow)


class Announcement(Base):
    __tablename__ = "announcements"

    id: Mapped[int] = mapped_column(primary_key=True)
    hospital_id: Mapped[int | None] = mapped_column(ForeignKey("hospitals.id"), default=None)
    title: Mapped[str] = mapped_column(String(128))
    body: Mapped[str] = mapped_column(String(4000))
    published_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column(default=None)


class IdempotencyKey(Base):
    """A request seen under an ``Idempotency-Key``: its body hash, whether it still runs,
    and the response it produced, so that a retry gets the first answer."""

    __tablename__ = "idempotency_keys"

    scope: Mapped[str] = mapped_column(String(64), primary_key=True)
    key: Mapped[str] = mapped_column(String(128), primary_key=True)
    request_hash: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16))  # in_progress / done
    response: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
