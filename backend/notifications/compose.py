"""An outbox row made into the message a phone receives: the booking read as it is now (so a
message queued before an administrator edited a hospital's name reads the new one), the
number decrypted only here, just before it goes to the gateway.

A row that no longer needs sending composes to ``None``: a reminder for a booking that was
cancelled meanwhile or for a number that opted out; a notice whose patient has no number.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.booking.context import BookingContext
from backend.booking.reservations import load_receipt
from backend.booking.views import BookingReceipt
from backend.models.sms import SmsOptOut, SmsOutbox
from backend.notifications.texts import HOW_TO_CANCEL, render
from backend.sms.outbox import BOOKING_EVENTS, SmsEvent
from backend.sms.port import SmsMessage


def _day(iso: str) -> str:
    day = date.fromisoformat(iso)
    return f"{day.month}月{day.day}日"


def _moment(iso: str) -> str:
    moment = datetime.fromisoformat(iso)
    return f"{moment.month}月{moment.day}日{moment.hour:02d}:{moment.minute:02d}"


def booking_values(receipt: BookingReceipt) -> dict[str, str]:
    """The booking placeholders (``texts.PLACEHOLDERS``) of a receipt."""
    return {
        "code": receipt.code,
        "hospital": receipt.hospital_name,
        "department": receipt.department_name,
        "day": _day(receipt.day),
        "time": receipt.slot_time,
        "cancel_by": _moment(receipt.cancel_deadline),
        "how_to_cancel": HOW_TO_CANCEL,
    }


def opted_out(session: Session, ctx: BookingContext, phone: str) -> bool:
    phone_hash = ctx.cipher.lookup_hash(phone)
    return session.get(SmsOptOut, phone_hash) is not None


def compose(
    session: Session, ctx: BookingContext, row: SmsOutbox, texts: dict[SmsEvent, str]
) -> SmsMessage | None:
    event = SmsEvent(row.event)
    if event in BOOKING_EVENTS:
        if row.booking_id is None:
            return None
        receipt = load_receipt(session, ctx, row.booking_id, reveal=True)
        if event is SmsEvent.REMINDER and (
            receipt.status != "booked" or opted_out(session, ctx, receipt.phone)
        ):
            return None
        phone, values = receipt.phone, booking_values(receipt)
    else:
        if not row.phone_enc:
            return None
        phone, values = ctx.cipher.decrypt(row.phone_enc), dict(row.params)
    if not phone:
        return None
    return SmsMessage(phone, render(texts[event], values), purpose=event.value)


def outbox_row_for_update(session: Session, now: datetime) -> SmsOutbox | None:
    """The next due message, locked; rows another sender holds are skipped, not waited for."""
    return session.scalars(
        select(SmsOutbox)
        .where(SmsOutbox.status == "queued", SmsOutbox.next_attempt_at <= now)
        .order_by(SmsOutbox.next_attempt_at, SmsOutbox.id)
        .limit(1)
        .with_for_update(skip_locked=True)
    ).first()
