"""What a caller asks of the messages: the booking's text once more (from the IVR's
self-service menu or an agent at the desk), and no more reminders (or reminders again).

Resends are rate-limited per booking (``SmsResendLimits``): a few a day and not twice within
a minute, so neither a caller pressing the key again nor a script can flood a number. Each
resend is a row of its own in the outbox (``resend:<booking>:<n>``), sent by the same sender
as every other message. Only a booking that is still held can be resent.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session, sessionmaker

from backend.booking.context import BookingContext
from backend.booking.patients import normalize_phone
from backend.booking.reservations import find_booking_id
from backend.db import transaction
from backend.errors import CallCenterError, Refused
from backend.models.booking import Booking, Patient
from backend.models.sms import SmsOptOut, SmsOutbox
from backend.settings import Settings
from backend.sms.outbox import SmsEvent, queue_booking_message


class SmsResendLimited(CallCenterError):
    code = "sms-resend-limited"
    http_status = 429


@dataclass(frozen=True)
class SmsResendLimits:
    per_day: int = 3
    min_interval: timedelta = timedelta(seconds=60)

    @classmethod
    def of(cls, settings: Settings) -> SmsResendLimits:
        """``CC_SMS_RESEND_PER_DAY``, ``CC_SMS_RESEND_INTERVAL_SECONDS``."""
        interval = timedelta(seconds=settings.sms_resend_interval_seconds)
        return cls(per_day=settings.sms_resend_per_day, min_interval=interval)


class SmsRequests:
    def __init__(
        self,
        session_factory: sessionmaker[Session],
        ctx: BookingContext,
        limits: SmsResendLimits | None = None,
    ) -> None:
        self._factory = session_factory
        self._ctx = ctx
        self._limits = limits or SmsResendLimits()

    def resend_booking(self, id_number: str, booking_code: str) -> None:
        """Queue the booking's text again; the caller proves it is theirs by the ID number."""
        now = self._ctx.clock()
        with transaction(self._factory) as session:
            booking_id = find_booking_id(session, self._ctx, id_number, booking_code)
            _check_and_queue_resend(session, booking_id, now, self._limits)

    def opt_out(self, phone: str, via: str) -> None:
        """No more reminders to ``phone`` (booking notices still go: they answer a request)."""
        phone_hash = self._ctx.cipher.lookup_hash(normalize_phone(phone))
        with transaction(self._factory) as session:
            session.execute(
                insert(SmsOptOut)
                .values(phone_hash=phone_hash, via=via[:64], at=self._ctx.clock())
                .on_conflict_do_nothing()
            )

    def opt_out_of_booking(self, id_number: str, booking_code: str, via: str) -> None:
        """No more reminders to the number of the booking's patient (the IVR, where the
        caller proves the booking with the ID number and may call from another phone)."""
        with transaction(self._factory) as session:
            booking_id = find_booking_id(session, self._ctx, id_number, booking_code)
            phone_hash = session.execute(
                select(Patient.phone_hash)
                .join(Booking, Booking.patient_id == Patient.id)
                .where(Booking.id == booking_id)
            ).scalar_one()
            session.execute(
                insert(SmsOptOut)
                .values(phone_hash=phone_hash, via=via[:64], at=self._ctx.clock())
                .on_conflict_do_nothing()
            )

    def opt_in(self, phone: str) -> None:
        phone_hash = self._ctx.cipher.lookup_hash(normalize_phone(phone))
        with transaction(self._factory) as session:
            session.execute(delete(SmsOptOut).where(SmsOptOut.phone_hash == phone_hash))

    def is_opted_out(self, phone: str) -> bool:
        phone_hash = self._ctx.cipher.lookup_hash(normalize_phone(phone))
        with self._factory() as session:
            return session.get(SmsOptOut, phone_hash) is not None


def _check_and_queue_resend(
    session: Session, booking_id: int, now: datetime, limits: SmsResendLimits
) -> None:
    # The booking's row lock makes two resends of one booking count one after the other.
    status = session.execute(
        select(Booking.status).where(Booking.id == booking_id).with_for_update()
    ).scalar_one()
    if status != "booked":
        raise Refused("该预约已取消或已就诊，不再重发短信", code="sms-not-resendable")
    resends = select(SmsOutbox.created_at).where(
        SmsOutbox.booking_id == booking_id, SmsOutbox.event == SmsEvent.BOOKING_RESEND.value
    )
    today = list(session.scalars(resends.where(SmsOutbox.created_at > now - timedelta(days=1))))
    if len(today) >= limits.per_day:
        raise SmsResendLimited(f"该预约今天已重发{limits.per_day}次短信，请明天再试")
    if today and max(today) > now - limits.min_interval:
        raise SmsResendLimited("短信刚刚发出，请稍候再试")
    count = session.scalar(select(func.count()).select_from(resends.subquery())) or 0
    subject = f"resend:{booking_id}:{count + 1}"
    queue_booking_message(session, SmsEvent.BOOKING_RESEND, booking_id, now, subject=subject)
