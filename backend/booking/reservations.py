"""Booking and cancelling inside one database transaction.

Overbooking is impossible by construction: a slot is taken by a conditional
``UPDATE ... WHERE NOT taken`` (row-locked, so of two racing transactions exactly one wins),
and a partial unique index allows one live booking per slot. The patient row is locked first
(``SELECT ... FOR UPDATE``) so that one person's parallel requests cannot slip past the quotas.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Row, and_, exists, or_, select, update
from sqlalchemy.orm import Session

from backend.booking.context import BookingContext
from backend.booking.errors import BookingNotFound, BookingRefused
from backend.booking.patients import account_manages, find_patient
from backend.booking.rules import (
    BookingStatus,
    Channel,
    PastBooking,
    SessionFacts,
    cancel_deadline,
    channel_may_take,
    check_booking,
    check_cancel,
    rerelease_at,
)
from backend.booking.views import BookingReceipt
from backend.models.audit import AuditRecord
from backend.models.booking import (
    AccountPatient,
    Booking,
    BookingEvent,
    Department,
    Doctor,
    Hospital,
    Patient,
    Schedule,
    Slot,
)
from backend.personal_data import mask_id_number, mask_name, mask_phone

# Skipping locked slots can, for a moment, miss a slot whose taker is about to roll back.
_PICK_ATTEMPTS = 3


@dataclass(frozen=True)
class BookRequest:
    schedule_id: int
    channel: Channel
    actor: str  # "agent:8001", "ivr", "account:12": who asked, for the audit trail
    id_number: str | None = None  # phone channels identify the patient by ID number ...
    patient_id: int | None = None  # ... the online channel by a patient of the account
    slot_id: int | None = None  # None: the next free slot of the session
    agent_id: int | None = None
    account_id: int | None = None
    source_ip: str = ""

    def fingerprint(self) -> dict[str, object]:
        """What makes two requests "the same" for idempotency."""
        return {
            "schedule_id": self.schedule_id,
            "slot_id": self.slot_id,
            "patient_id": self.patient_id,
            "id_number": self.id_number,
            "channel": str(self.channel),
        }


@dataclass(frozen=True)
class CancelRequest:
    booking_code: str
    channel: Channel
    actor: str
    id_number: str | None = None  # phone channels prove ownership by the ID number ...
    account_id: int | None = None  # ... the online channel by the account that manages it
    source_ip: str = ""

    def fingerprint(self) -> dict[str, object]:
        return {"booking_code": self.booking_code, "id_number": self.id_number}


def _history(session: Session, ctx: BookingContext, patient_id: int) -> list[PastBooking]:
    now = ctx.clock()
    rules = ctx.rules
    since_booked = now - timedelta(days=90)
    since_visit = now.date() - timedelta(days=rules.noshow_window_days + rules.blacklist_days)
    rows = session.execute(
        select(
            Booking.booked_at,
            Booking.visit_day,
            Booking.department_id,
            Booking.status,
            Schedule.starts_at,
        )
        .join(Schedule, Schedule.id == Booking.schedule_id)
        .where(
            Booking.patient_id == patient_id,
            or_(
                Booking.booked_at >= since_booked,
                Booking.visit_day >= since_visit,
                Booking.status == BookingStatus.BOOKED,
            ),
        )
    ).all()
    return [PastBooking(r[0], r[1], r[2], r[3], r[4]) for r in rows]


def _channels_for(channel: Channel) -> list[str]:
    return [c for c in ("any", "phone", "online") if channel_may_take(c, channel)]


def _take_slot(
    session: Session, ctx: BookingContext, schedule: Schedule, request: BookRequest
) -> Row[int, int, datetime]:
    now = ctx.clock()
    on_sale = or_(Slot.release_at.is_(None), Slot.release_at <= now)
    channels = _channels_for(request.channel)
    if request.slot_id is not None:
        row = session.execute(
            update(Slot)
            .where(
                Slot.id == request.slot_id,
                Slot.schedule_id == schedule.id,
                Slot.taken.is_(False),
                Slot.channel.in_(channels),
                on_sale,
            )
            .values(taken=True)
            .returning(Slot.id, Slot.seq, Slot.starts_at)
        ).first()
        if row is not None:
            return row
        slot = session.get(Slot, request.slot_id)
        if slot is None or slot.schedule_id != schedule.id:
            raise BookingNotFound("没有这个号源", code="no-such-slot")
        if not channel_may_take(slot.channel, request.channel):
            raise BookingRefused("channel-not-allowed", "该号源不向此预约渠道开放")
        raise BookingRefused("slot-taken", "该号源已被预约，请选择其他号源")
    free = and_(
        Slot.schedule_id == schedule.id, Slot.taken.is_(False), Slot.channel.in_(channels), on_sale
    )
    for _ in range(_PICK_ATTEMPTS):
        pick = (
            select(Slot.id)
            .where(free)
            .order_by(Slot.seq)
            .limit(1)
            .with_for_update(skip_locked=True)
        )
        row = session.execute(
            update(Slot)
            .where(Slot.id == pick.scalar_subquery(), Slot.taken.is_(False))
            .values(taken=True)
            .returning(Slot.id, Slot.seq, Slot.starts_at)
        ).first()
        if row is not None:
            return row
        if not session.execute(select(exists().where(free))).scalar_one():
            break
    raise BookingRefused("session-full", "该出诊的号源已约满")


def _new_code() -> str:
    # Ten digits: easy to key in on a phone pad and to read out by the IVR.
    return f"{secrets.randbelow(10**10):010d}"


def book(session: Session, ctx: BookingContext, request: BookRequest) -> BookingReceipt:
    now = ctx.clock()
    if request.patient_id is not None:
        query = select(Patient).where(Patient.id == request.patient_id)
        if request.account_id is not None:
            # The online channel books only for patients its account manages.
            query = query.join(AccountPatient, AccountPatient.patient_id == Patient.id).where(
                AccountPatient.account_id == request.account_id
            )
        patient = session.execute(query.with_for_update(of=Patient)).scalar_one_or_none()
        if patient is None:
            raise BookingNotFound("没有这个就诊人", code="no-such-patient")
    elif request.id_number is not None:
        patient = find_patient(session, ctx, request.id_number, lock=True)
    else:
        raise BookingNotFound("须指明就诊人", code="no-such-patient")
    schedule = session.get(Schedule, request.schedule_id)
    if schedule is None:
        raise BookingNotFound("没有这个出诊安排", code="no-such-session")
    facts = SessionFacts(
        day=schedule.day,
        starts_at=schedule.starts_at,
        department_id=schedule.department_id,
        stopped=schedule.status == "stopped",
    )
    check_booking(ctx.rules, now, facts, _history(session, ctx, patient.id))
    slot_id, _seq, _starts = _take_slot(session, ctx, schedule, request)
    booking = Booking(
        code=_new_code(),
        slot_id=slot_id,
        schedule_id=schedule.id,
        hospital_id=schedule.hospital_id,
        department_id=schedule.department_id,
        patient_id=patient.id,
        account_id=request.account_id,
        visit_day=schedule.day,
        status=BookingStatus.BOOKED.value,
        channel=request.channel.value,
        agent_id=request.agent_id,
        actor=request.actor,
        booked_at=now,
        updated_at=now,
    )
    session.add(booking)
    session.flush()
    _record(session, booking, "booked", request.actor, request.source_ip, now)
    return load_receipt(session, ctx, booking.id)


def _record(
    session: Session, booking: Booking, kind: str, actor: str, source_ip: str, now: datetime
) -> None:
    session.add(
        BookingEvent(hospital_id=booking.hospital_id, booking_id=booking.id, kind=kind, at=now)
    )
    action = {"booked": "booking.create", "cancelled": "booking.cancel"}.get(
        kind, f"booking.{kind}"
    )
    session.add(
        AuditRecord(
            actor=actor,
            action=action,
            target=f"booking:{booking.code}",
            source_ip=source_ip,
            details={"channel": booking.channel, "schedule_id": booking.schedule_id},
            at=now,
        )
    )


def cancel(session: Session, ctx: BookingContext, request: CancelRequest) -> BookingReceipt:
    now = ctx.clock()
    booking = session.execute(
        select(Booking).where(Booking.code == request.booking_code.strip()).with_for_update()
    ).scalar_one_or_none()
    if booking is None or not _owned(session, ctx, booking, request):
        raise BookingNotFound("没有找到该预约，请核对预约号和证件号", code="no-such-booking")
    check_cancel(ctx.rules, ctx.calendar, now, booking.status, booking.visit_day)
    release_slot(session, ctx, booking, now)
    booking.status = BookingStatus.CANCELLED.value
    booking.cancelled_at = now
    booking.updated_at = now
    _record(session, booking, "cancelled", request.actor, request.source_ip, now)
    session.flush()
    return load_receipt(session, ctx, booking.id)


def release_slot(session: Session, ctx: BookingContext, booking: Booking, now: datetime) -> None:
    """Give the slot back, on sale again only at a random moment of the re-release window."""
    session.execute(
        update(Slot)
        .where(Slot.id == booking.slot_id)
        .values(taken=False, release_at=rerelease_at(ctx.rules, now, ctx.rng))
    )


def _owned(session: Session, ctx: BookingContext, booking: Booking, request: CancelRequest) -> bool:
    if request.account_id is not None:
        return account_manages(session, request.account_id, booking.patient_id)
    if request.id_number is None:
        return False
    patient = find_patient(session, ctx, request.id_number)
    return patient.id == booking.patient_id


def find_booking_id(session: Session, ctx: BookingContext, id_number: str, code: str) -> int:
    patient = find_patient(session, ctx, id_number)
    booking_id = session.execute(
        select(Booking.id).where(Booking.code == code.strip(), Booking.patient_id == patient.id)
    ).scalar_one_or_none()
    if booking_id is None:
        raise BookingNotFound("没有找到该预约，请核对预约号和证件号", code="no-such-booking")
    return booking_id


def load_receipt(
    session: Session, ctx: BookingContext, booking_id: int, *, reveal: bool = False
) -> BookingReceipt:
    row = session.execute(
        select(Booking, Schedule, Hospital, Department, Doctor, Slot, Patient)
        .join(Schedule, Schedule.id == Booking.schedule_id)
        .join(Hospital, Hospital.id == Booking.hospital_id)
        .join(Department, Department.id == Booking.department_id)
        .outerjoin(Doctor, Doctor.id == Schedule.doctor_id)
        .join(Slot, Slot.id == Booking.slot_id)
        .join(Patient, Patient.id == Booking.patient_id)
        .where(Booking.id == booking_id)
    ).one()
    booking, schedule, hospital, department, doctor, slot, patient = row
    name = ctx.cipher.decrypt(patient.name_enc)
    number = ctx.cipher.decrypt(patient.id_enc)
    phone = ctx.cipher.decrypt(patient.phone_enc)
    if not reveal:
        name, number, phone = mask_name(name), mask_id_number(number), mask_phone(phone)
    tz = ctx.rules.tz
    return BookingReceipt(
        code=booking.code,
        status=booking.status,
        channel=booking.channel,
        hospital_name=hospital.name,
        department_name=department.name,
        doctor_name=doctor.name if doctor else "",
        doctor_title=doctor.title if doctor else "",
        day=schedule.day.isoformat(),
        session=schedule.session,
        slot_seq=slot.seq,
        slot_time=slot.starts_at.astimezone(tz).strftime("%H:%M"),
        fee=str(schedule.fee),
        patient_name=name,
        id_number=number,
        phone=phone,
        booked_at=booking.booked_at.isoformat(),
        cancel_deadline=cancel_deadline(ctx.rules, ctx.calendar, booking.visit_day).isoformat(),
    )
