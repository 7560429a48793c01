"""The outbox's events and the writes that queue a message, for the transaction of whatever
the message reports (a booking, a callback, a work order).

A message is queued, never sent, inside the business transaction: the sender
(``backend.notifications.sender``) drains the outbox afterwards, so a gateway that is down
delays a message but cannot lose it or undo the booking. ``(event, subject)`` is unique: a
second write for the same thing is a no-op (``ON CONFLICT DO NOTHING``), which is what makes
a retried request, or a job that runs twice, queue one message.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from enum import StrEnum

from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import Session

from backend.models.sms import SmsOutbox

QUEUED = "queued"
SENT = "sent"
SKIPPED = "skipped"  # nothing to send any more: opted out, booking cancelled, no number
EXPIRED = "expired"  # the gateway was down for longer than the message stayed useful


class SmsEvent(StrEnum):
    BOOKING_MADE = "booking-made"
    BOOKING_CANCELLED = "booking-cancelled"
    BOOKING_RESEND = "booking-resend"  # the booking's text once more, asked for by the caller
    REMINDER = "reminder"  # the evening before the visit
    CALLBACK_SCHEDULED = "callback-scheduled"
    CALLBACK_MISSED = "callback-missed"
    WORKORDER_FILED = "workorder-filed"


BOOKING_EVENTS = frozenset(
    {SmsEvent.BOOKING_MADE, SmsEvent.BOOKING_CANCELLED, SmsEvent.BOOKING_RESEND, SmsEvent.REMINDER}
)


def is_mobile(phone: str) -> bool:
    """A mainland mobile number (11 digits from 1): fixed lines take no text messages."""
    return len(phone) == 11 and phone.isdigit() and phone.startswith("1")


def booking_subject(booking_id: int) -> str:
    return f"booking:{booking_id}"


def queue_booking_message(
    session: Session, event: SmsEvent, booking_id: int, now: datetime, *, subject: str = ""
) -> bool:
    """Queue ``event`` for a booking; False when it was queued already."""
    inserted = session.execute(
        pg_insert(SmsOutbox)
        .values(
            event=event.value,
            subject=subject or booking_subject(booking_id),
            booking_id=booking_id,
            params={},
            status=QUEUED,
            attempts=0,
            next_attempt_at=now,
            created_at=now,
        )
        .on_conflict_do_nothing()
        .returning(SmsOutbox.id)
    ).first()
    return inserted is not None


def queue_message(
    session: Session,
    event: SmsEvent,
    subject: str,
    phone_enc: str,
    params: Mapping[str, str],
    now: datetime,
) -> bool:
    """Queue a message not about a booking (a callback, a work order): its number, encrypted,
    and its placeholders travel in the row. False when it was queued already."""
    inserted = session.execute(
        pg_insert(SmsOutbox)
        .values(
            event=event.value,
            subject=subject,
            phone_enc=phone_enc,
            params=dict(params),
            status=QUEUED,
            attempts=0,
            next_attempt_at=now,
            created_at=now,
        )
        .on_conflict_do_nothing()
        .returning(SmsOutbox.id)
    ).first()
    return inserted is not None
