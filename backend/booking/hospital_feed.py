"""The hospital side of the standard interface: schedules in, bookings out, attendance back.

Every hospital pushes its own schedules and slots, stops a session when a doctor is absent,
pulls booking changes since its cursor (the id of the last event it saw), and reports who
came and who did not — the no-shows feed the blacklist rule.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, time
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.booking.context import BookingContext
from backend.booking.errors import BookingNotFound, BookingRefused
from backend.booking.reservations import load_receipt
from backend.booking.rules import BookingStatus, SessionOfDay
from backend.booking.schedule_push import PushResult as PushResult
from backend.booking.schedule_push import push_schedules as push_schedules
from backend.booking.views import AffectedBooking, BookingReceipt
from backend.models.audit import AuditRecord
from backend.models.booking import (
    Booking,
    BookingEvent,
    Hospital,
    Patient,
    Schedule,
)
from backend.personal_data import mask_name
from backend.sms.outbox import SmsEvent, queue_booking_message


@dataclass(frozen=True)
class SlotPush:
    seq: int
    time: time  # local
    channel: str = "any"


@dataclass(frozen=True)
class SchedulePush:
    external_id: str
    department_code: str
    department_name: str
    day: date
    session: SessionOfDay
    starts: time  # local
    ends: time
    fee: Decimal
    slots: tuple[SlotPush, ...]
    doctor_code: str = ""
    doctor_name: str = ""
    doctor_title: str = ""


@dataclass(frozen=True)
class FeedItem:
    cursor: int
    kind: str
    booking: BookingReceipt


def stop_session(
    session: Session,
    ctx: BookingContext,
    hospital: Hospital,
    external_id: str,
    reason: str,
    *,
    source_ip: str = "",
) -> list[AffectedBooking]:
    """Stop a session (doctor absent): its bookings are cancelled and listed for notification.
    The hospital sees names masked and phones in full, because it has to call them."""
    now = ctx.clock()
    schedule = session.execute(
        select(Schedule)
        .where(Schedule.hospital_id == hospital.id, Schedule.external_id == external_id)
        .with_for_update()
    ).scalar_one_or_none()
    if schedule is None:
        raise BookingNotFound("没有这个出诊安排", code="no-such-session")
    schedule.status = "stopped"
    schedule.stop_reason = reason[:256]
    schedule.updated_at = now
    rows = session.execute(
        select(Booking, Patient)
        .join(Patient, Patient.id == Booking.patient_id)
        .where(Booking.schedule_id == schedule.id, Booking.status == BookingStatus.BOOKED)
        .order_by(Booking.id)
        .with_for_update(of=Booking)
    ).all()
    affected: list[AffectedBooking] = []
    actor = f"hospital:{hospital.code}"
    for booking, patient in rows:
        booking.status = BookingStatus.CANCELLED.value
        booking.cancelled_at = booking.updated_at = now
        session.add(
            BookingEvent(hospital_id=hospital.id, booking_id=booking.id, kind="cancelled", at=now)
        )
        # The hospital calls them too; the text reaches those it does not reach.
        queue_booking_message(session, SmsEvent.BOOKING_CANCELLED, booking.id, now)
        affected.append(
            AffectedBooking(
                code=booking.code,
                patient_name=mask_name(ctx.cipher.decrypt(patient.name_enc)),
                phone=ctx.cipher.decrypt(patient.phone_enc),
            )
        )
    session.add(
        AuditRecord(
            actor=actor,
            action="schedule.stop",
            target=f"schedule:{schedule.id}",
            source_ip=source_ip,
            details={"reason": reason[:256], "cancelled": len(affected)},
            at=now,
        )
    )
    return affected


def bookings_since(
    session: Session,
    ctx: BookingContext,
    hospital: Hospital,
    cursor: int,
    limit: int = 100,
    *,
    source_ip: str = "",
) -> tuple[list[FeedItem], int]:
    """Booking changes after ``cursor``, oldest first, and the cursor to ask with next. The
    pull is audited with the bookings it revealed (patients' numbers in full)."""
    events = (
        session.execute(
            select(BookingEvent)
            .where(BookingEvent.hospital_id == hospital.id, BookingEvent.id > cursor)
            .order_by(BookingEvent.id)
            .limit(max(1, min(limit, 1000)))
        )
        .scalars()
        .all()
    )
    items = [
        FeedItem(e.id, e.kind, load_receipt(session, ctx, e.booking_id, reveal=True))
        for e in events
    ]
    next_cursor = events[-1].id if events else cursor
    session.add(
        AuditRecord(
            actor=f"hospital:{hospital.code}",
            action="hospital.feed_pull",
            target=f"hospital:{hospital.code}",
            source_ip=source_ip,
            details={
                "cursor": cursor,
                "next_cursor": next_cursor,
                "bookings": sorted({i.booking.code for i in items}),
            },
            at=ctx.clock(),
        )
    )
    return items, next_cursor


def report_attendance(
    session: Session,
    ctx: BookingContext,
    hospital: Hospital,
    booking_code: str,
    attended: bool,
    *,
    source_ip: str = "",
) -> BookingReceipt:
    """Mark a booking attended or no-show; a mistaken report may be corrected either way."""
    now = ctx.clock()
    booking = session.execute(
        select(Booking)
        .where(Booking.code == booking_code, Booking.hospital_id == hospital.id)
        .with_for_update()
    ).scalar_one_or_none()
    if booking is None:
        raise BookingNotFound("本院没有该预约", code="no-such-booking")
    if booking.status == BookingStatus.CANCELLED:
        raise BookingRefused("not-reportable", "该预约已取消，不能报告就诊情况")
    schedule = session.get(Schedule, booking.schedule_id)
    if schedule is not None and now < schedule.starts_at:
        raise BookingRefused("too-early", "出诊尚未开始，不能报告就诊情况")
    status = BookingStatus.ATTENDED if attended else BookingStatus.NO_SHOW
    booking.status = status.value
    booking.reported_at = booking.updated_at = now
    session.add(
        BookingEvent(hospital_id=hospital.id, booking_id=booking.id, kind=status.value, at=now)
    )
    session.add(
        AuditRecord(
            actor=f"hospital:{hospital.code}",
            action=f"booking.{status.value}",
            target=f"booking:{booking.code}",
            source_ip=source_ip,
            details={},
            at=now,
        )
    )
    session.flush()
    return load_receipt(session, ctx, booking.id, reveal=True)
