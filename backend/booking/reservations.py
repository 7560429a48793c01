"""Booking and cancelling inside one database transaction.

Overbooking is impossible by construction: a slot is taken by a conditional
``UPDATE ... WHERE NOT taken`` (row-locked, so of two racing transactions exactly one wins),
and a partial unique index allows one live booking per slot. The patient row is locked first
(``SELECT ... FOR UPDATE``) so that one person's parallel requests cannot slip past the quotas.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from backend import idcard
from backend.booking import booking_sql
from backend.booking.booking_sql import All, One, SqlRunner, SqlSteps
from backend.booking.context import BookingContext
from backend.booking.errors import BookingNotFound, BookingRefused, invalid_token
from backend.booking.patients import (
    find_patient,
    not_registered,
    shown_identity,
    token_hash,
)
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
from backend.models.booking import Booking, BookingEvent, Slot
from backend.sms.outbox import SmsEvent, queue_booking_message

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


def online_request(
    account_id: int,
    *,
    patient_id: int,
    schedule_id: int,
    slot_id: int | None = None,
    source_ip: str = "",
) -> BookRequest:
    """What an online account asks for, once its token has named it."""
    return BookRequest(
        schedule_id=schedule_id,
        channel=Channel.ONLINE,
        actor=f"account:{account_id}",
        patient_id=patient_id,
        slot_id=slot_id,
        account_id=account_id,
        source_ip=source_ip,
    )


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


def _history(ctx: BookingContext, patient_id: int) -> SqlSteps[list[PastBooking]]:
    now = ctx.clock()
    rules = ctx.rules
    rows = yield All(
        booking_sql.PATIENT_HISTORY,
        {
            "patient_id": patient_id,
            "since_booked": now - timedelta(days=90),
            "since_visit": now.date()
            - timedelta(days=rules.noshow_window_days + rules.blacklist_days),
        },
    )
    return [PastBooking(*row) for row in rows]


def _channels_for(channel: Channel) -> list[str]:
    return [c for c in ("any", "phone", "online") if channel_may_take(c, channel)]


def _lock_patient(ctx: BookingContext, request: BookRequest) -> SqlSteps[int]:
    """The patient's id, its row locked so that its parallel requests cannot pass the quotas."""
    if request.patient_id is not None:
        if request.account_id is not None:
            # The online channel books only for patients its account manages.
            query, params = booking_sql.LOCK_PATIENT_OF_ACCOUNT, {"account_id": request.account_id}
        else:
            query, params = booking_sql.LOCK_PATIENT, {}
        found = yield One(query, params | {"patient_id": request.patient_id})
        if found is None:
            raise BookingNotFound("没有这个就诊人", code="no-such-patient")
        return int(found.id)
    if request.id_number is not None:
        number = idcard.validate(request.id_number)
        found = yield One(
            booking_sql.LOCK_PATIENT_BY_ID_HASH, {"id_hash": ctx.cipher.lookup_hash(number)}
        )
        if found is None:
            raise not_registered()
        return int(found.id)
    raise BookingNotFound("须指明就诊人", code="no-such-patient")


def _why_not_given_slot(
    schedule_id: int, slot_id: int, channel: Channel
) -> SqlSteps[BookingRefused | BookingNotFound]:
    slot = yield One(booking_sql.SLOT, {"slot_id": slot_id})
    if slot is None or slot.schedule_id != schedule_id:
        return BookingNotFound("没有这个号源", code="no-such-slot")
    if not channel_may_take(slot.channel, channel):
        return BookingRefused("channel-not-allowed", "该号源不向此预约渠道开放")
    return BookingRefused("slot-taken", "该号源已被预约，请选择其他号源")


def _details(channel: Channel, schedule_id: int) -> str:
    """The audit row's details as JSON text, written out: ``json.dumps`` of this two-key
    dict showed in a web worker's profile of the online booking (bench/README.md)."""
    return f'{{"channel": "{channel.value}", "schedule_id": {int(schedule_id)}}}'


def _new_code() -> str:
    # Ten digits: easy to key in on a phone pad and to read out by the IVR.
    return f"{secrets.randbelow(10**10):010d}"


def book(session: Session, ctx: BookingContext, request: BookRequest) -> BookingReceipt:
    """Book in the session's transaction (the desk, the IVR, keyed online requests)."""
    return SqlRunner(session).run(book_steps(ctx, request))


def book_steps(ctx: BookingContext, request: BookRequest) -> SqlSteps[BookingReceipt]:
    """The booking transaction as SQL steps, for a synchronous or an asynchronous driver."""
    now = ctx.clock()
    patient_id = yield from _lock_patient(ctx, request)
    schedule = yield One(booking_sql.SESSION_FACTS, {"schedule_id": request.schedule_id})
    if schedule is None:
        raise BookingNotFound("没有这个出诊安排", code="no-such-session")
    facts = SessionFacts(
        day=schedule.visit_day,
        starts_at=schedule.starts_at,
        department_id=schedule.department_id,
        stopped=schedule.status == "stopped",
    )
    check_booking(ctx.rules, now, facts, (yield from _history(ctx, patient_id)))
    params = {
        "schedule_id": schedule.schedule_id,
        "slot_id": request.slot_id,
        "channels": _channels_for(request.channel),
        "now": now,
        "code_a": _new_code(),
        "code_b": _new_code(),
        "code_c": _new_code(),
        "hospital_id": schedule.hospital_id,
        "department_id": schedule.department_id,
        "patient_id": patient_id,
        "account_id": request.account_id,
        "visit_day": schedule.visit_day,
        "channel": request.channel.value,
        "agent_id": request.agent_id,
        "actor": request.actor,
        "source_ip": request.source_ip,
        "details": _details(request.channel, schedule.schedule_id),
    }
    if request.slot_id is not None:
        booked = yield One(booking_sql.BOOK_GIVEN_SLOT, params)
        if booked is None:
            raise (
                yield from _why_not_given_slot(
                    schedule.schedule_id, request.slot_id, request.channel
                )
            )
        return (yield from receipt_steps(ctx, booked.booking_id))
    # Skipping locked slots can, for a moment, miss a slot whose taker is about to roll back.
    for _ in range(_PICK_ATTEMPTS):
        booked = yield One(booking_sql.BOOK_NEXT_SLOT, params)
        if booked is not None:
            return (yield from receipt_steps(ctx, booked.booking_id))
        still_free = yield One(booking_sql.ANY_FREE_SLOT, params)
        if not still_free.free:
            break
    raise BookingRefused("session-full", "该出诊的号源已约满")


def book_for_account_steps(
    ctx: BookingContext, token: str, request_for: Callable[[int], BookRequest]
) -> SqlSteps[BookingReceipt]:
    """The online booking: the account token is checked in the booking's own transaction."""
    account = yield One(booking_sql.ACCOUNT_OF_TOKEN, {"token_hash": token_hash(token)})
    if account is None:
        raise invalid_token()
    return (yield from book_steps(ctx, request_for(account.account_id)))


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
    queue_booking_message(session, SmsEvent.BOOKING_CANCELLED, booking.id, now)
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
        # Only the account that made the booking: another account managing the same patient
        # neither cancels nor sees it.
        return booking.account_id == request.account_id
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


def _clock_time(moment: datetime) -> str:
    """ "HH:MM", without ``strftime``'s locale-aware formatting (a receipt is made per booking)."""
    return f"{moment.hour:02d}:{moment.minute:02d}"


def load_receipt(
    session: Session, ctx: BookingContext, booking_id: int, *, reveal: bool = False
) -> BookingReceipt:
    return SqlRunner(session).run(receipt_steps(ctx, booking_id, reveal=reveal))


def receipt_steps(
    ctx: BookingContext, booking_id: int, *, reveal: bool = False
) -> SqlSteps[BookingReceipt]:
    row = yield One(booking_sql.RECEIPT, {"booking_id": booking_id})
    if row is None:
        raise BookingNotFound("没有这个预约", code="no-such-booking")
    name, number, phone = shown_identity(ctx.cipher, row, reveal=reveal)
    return BookingReceipt(
        code=row.code,
        status=row.status,
        channel=row.channel,
        hospital_name=row.hospital_name,
        department_name=row.department_name,
        doctor_name=row.doctor_name,
        doctor_title=row.doctor_title,
        day=row.day.isoformat(),
        session=row.session,
        slot_seq=row.seq,
        slot_time=_clock_time(row.slot_starts_at.astimezone(ctx.rules.tz)),
        fee=str(row.fee),
        patient_name=name,
        id_number=number,
        phone=phone,
        booked_at=row.booked_at.isoformat(),
        cancel_deadline=cancel_deadline(ctx.rules, ctx.calendar, row.visit_day).isoformat(),
        hospital_code=row.hospital_code,
    )
