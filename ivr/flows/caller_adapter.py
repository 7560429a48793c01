"""Adapter: what the database knows about a caller's number (``CallerDirectory``).

- repeat caller: the number called the same line within the window (24 h by default);
- elderly: the number is the registered phone of a real-name patient aged 65 or more (the
  national rule gives such callers one key to a person; the flow also raises their priority);
- blacklisted: the number is in the list the composition root passes (nuisance callers).

Not imported by the engine; the controller's composition root builds it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from backend import idcard
from backend.booking.errors import BadBookingInput
from backend.booking.patients import normalize_phone
from backend.models.booking import Patient
from backend.models.calls import CallRecord
from backend.personal_data import PersonalDataCipher
from ivr.flows.ports import CallerProfile, CallInfo

ELDERLY_AGE = 65


def _utcnow() -> datetime:
    return datetime.now(UTC)


def age_on(birth: date, day: date) -> int:
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


class SqlCallerDirectory:
    """Implements ``ivr.flows.ports.CallerDirectory``; SQL runs in a worker thread."""

    def __init__(
        self,
        session_factory: sessionmaker[Session],
        cipher: PersonalDataCipher,
        *,
        blacklist: Iterable[str] = (),
        repeat_window: timedelta = timedelta(hours=24),
        timezone: str = "Asia/Shanghai",
        clock: Callable[[], datetime] = _utcnow,
    ) -> None:
        self._factory = session_factory
        self._cipher = cipher
        self._blacklist = frozenset(blacklist)
        self._window = repeat_window
        self._tz = ZoneInfo(timezone)
        self._clock = clock

    async def profile(self, call: CallInfo) -> CallerProfile:
        return await asyncio.to_thread(self._profile, call)

    def _profile(self, call: CallInfo) -> CallerProfile:
        number = call.caller_number
        if not number:
            return CallerProfile()
        now = self._clock()
        with self._factory() as session:
            earlier = session.scalar(
                select(func.count())
                .select_from(CallRecord)
                .where(
                    CallRecord.caller_number == number,
                    CallRecord.line == call.line,
                    CallRecord.call_id != call.call_id,
                    CallRecord.started_at >= now - self._window,
                )
            )
            elderly = self._registered_elderly(session, number, now.astimezone(self._tz).date())
        return CallerProfile(
            blacklisted=number in self._blacklist,
            repeat_caller=bool(earlier),
            elderly=elderly,
        )

    def _registered_elderly(self, session: Session, number: str, today: date) -> bool:
        try:
            phone = normalize_phone(number)
        except BadBookingInput:
            return False  # not a number a patient could have registered
        encrypted = session.scalars(
            select(Patient.id_enc).where(Patient.phone_hash == self._cipher.lookup_hash(phone))
        )
        for token in encrypted:
            try:
                born = idcard.birth_date(self._cipher.decrypt(token))
            except idcard.InvalidIdNumber:
                continue
            if age_on(born, today) >= ELDERLY_AGE:
                return True
        return False
