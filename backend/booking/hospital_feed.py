"""The hospital side of the standard interface: schedules in, bookings out, attendance back.

Every hospital pushes its own schedules and slots, stops a session when a doctor is absent,
pulls booking changes since its cursor (the id of the last event it saw), and reports who
came and who did not — the no-shows feed the blacklist rule.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.booking.context import BookingContext
from backend.booking.errors import BadBookingInput, BookingNotFound, BookingRefused
from backend.booking.reservations import load_receipt
from backend.booking.rules import BookingStatus, SessionOfDay
from backend.booking.views import AffectedBooking, BookingReceipt
from backend.models.audit import AuditRecord
from backend.models.booking import (
    Booking,
    BookingEvent,
    Department,
    Doctor,
    Hospital,
    Patient,
    Schedule,
    Slot,
)
from backend.personal_data import mask_name

SLOT_CHANNELS = ("any", "phone", "online")


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
class PushResult:
    created: int = 0
    updated: int = 0
    slots_added: int = 0
    schedule_ids: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class FeedItem:
    cursor: int
    kind: str
    booking: BookingReceipt


def _local(ctx: BookingContext, day: date, moment: time) -> datetime:
    return datetime.combine(day, moment, tzinfo=ctx.rules.tz)


def _department(session: Session, hospital_id: int, code: str, name: str) -> Department:
    dept = session.execute(
        select(Department).where(Department.hospital_id == hospital_id, Department.code == code)
    ).scalar_one_or_none()
    if dept is None:
        dept = Department(hospital_id=hospital_id, code=code, name=name)
        session.add(dept)
        session.flush()
    elif name and dept.name != name:
        dept.name = name
    return dept


def _doctor(session: Session, hospital_id: int, dept_id: int, item: SchedulePush) -> int | None:
    if not item.doctor_code:
        return None
    doc = session.execute(
        select(Doctor).where(Doctor.hospital_id == hospital_id, Doctor.code == item.doctor_code)
    ).scalar_one_or_none()
    if doc is None:
        doc = Doctor(
            hospital_id=hospital_id,
            department_id=dept_id,
            code=item.doctor_code,
            name=item.doctor_name,
            title=item.doctor_title,
        )
        session.add(doc)
        session.flush()
    else:
        doc.name, doc.title, doc.department_id = item.doctor_name, item.doctor_title, dept_id
    return doc.id


def _validate(item: SchedulePush) -> None:
    if not item.slots:
        raise BadBookingInput(f"出诊{item.external_id}没有号源", code="bad-schedule")
    if item.ends <= item.starts:
        raise BadBookingInput(f"出诊{item.external_id}的结束时间早于开始时间", code="bad-schedule")
    seqs = [s.seq for s in item.slots]
    if len(set(seqs)) != len(seqs) or min(seqs) < 1:
        raise BadBookingInput(f"出诊{item.external_id}的号序重复或小于1", code="bad-schedule")
    for slot in item.slots:
        if slot.channel not in SLOT_CHANNELS:
            raise BadBookingInput(f"号源渠道须为{'/'.join(SLOT_CHANNELS)}", code="bad-schedule")


def push_schedules(
    session: Session, ctx: BookingContext, hospital_id: int, items: list[SchedulePush]
) -> PushResult:
    """Create or update schedules by the hospital's own id; slots are added by number and
    free ones updated. A slot already booked is never changed (stop the session instead)."""
    created = updated = added = 0
    ids: dict[str, int] = {}
    for item in items:
        _validate(item)
    for item in items:
        schedule, is_new = _upsert_schedule(session, ctx, hospital_id, item)
        if is_new:
            created += 1
        else:
            updated += 1
        added += _merge_slots(session, ctx, schedule, item)
        ids[item.external_id] = schedule.id
    session.flush()
    return PushResult(created=created, updated=updated, slots_added=added, schedule_ids=ids)


def _upsert_schedule(
    session: Session, ctx: BookingContext, hospital_id: int, item: SchedulePush
) -> tuple[Schedule, bool]:
    """The schedule with the hospital's id ``item.external_id``, made or updated (locked);
    whether it is new."""
    dept = _department(session, hospital_id, item.department_code, item.department_name)
    doctor_id = _doctor(session, hospital_id, dept.id, item)
    schedule = session.execute(
        select(Schedule)
        .where(Schedule.hospital_id == hospital_id, Schedule.external_id == item.external_id)
        .with_for_update()
    ).scalar_one_or_none()
    values = {
        "department_id": dept.id,
        "doctor_id": doctor_id,
        "day": item.day,
        "session": item.session.value,
        "starts_at": _local(ctx, item.day, item.starts),
        "ends_at": _local(ctx, item.day, item.ends),
        "fee": item.fee,
        "updated_at": ctx.clock(),
    }
    if schedule is not None:
        for name, value in values.items():
            setattr(schedule, name, value)
        return schedule, False
    schedule = Schedule(hospital_id=hospital_id, external_id=item.external_id, capacity=0, **values)
    session.add(schedule)
    session.flush()
    return schedule, True


def _merge_slots(
    session: Session, ctx: BookingContext, schedule: Schedule, item: SchedulePush
) -> int:
    """Add the pushed slots the schedule lacks, update its free ones; how many were added."""
    added = 0
    existing = {
        s.seq: s
        for s in session.execute(select(Slot).where(Slot.schedule_id == schedule.id)).scalars()
    }
    for push in item.slots:
        slot = existing.get(push.seq)
        starts_at = _local(ctx, item.day, push.time)
        if slot is None:
            session.add(
                Slot(
                    schedule_id=schedule.id,
                    seq=push.seq,
                    starts_at=starts_at,
                    channel=push.channel,
                    taken=False,
                )
            )
            added += 1
        elif not slot.taken:
            slot.starts_at, slot.channel = starts_at, push.channel
    schedule.capacity = len(set(existing) | {p.seq for p in item.slots})
    return added


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
