"""What the lines know about a caller before the menu: blocked, repeat caller, elderly."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, sessionmaker

from backend import idcard
from backend.localtime import DEFAULT_TIMEZONE, zone
from backend.models.booking import Patient
from backend.models.callers import BlockedCaller
from backend.models.calls import CallRecord
from backend.personal_data import PersonalDataCipher, normalize_number
from ivr.flows.ports import CallerProfile, CallInfo

REPEAT_WINDOW = timedelta(hours=24)
# The national rule: callers aged 65+ with real-name registered numbers get one key to a person.
ELDERLY_AGE = 65
ElderlyCheck = Callable[[Session, str], bool]


class SqlCallerDirectory:
    """Implements ``ivr.flows.ports.CallerDirectory`` over call records and blocked callers.

    ``elderly_check`` answers whether a number belongs to a real-name registered person aged
    65 or over (the booking domain knows; the composition root passes its function in).
    """

    def __init__(
        self,
        session_factory: sessionmaker[Session],
        cipher: PersonalDataCipher,
        *,
        elderly_check: ElderlyCheck | None = None,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._sessions = session_factory
        self._cipher = cipher
        self._elderly_check = elderly_check
        self._now = now

    def caller_hash(self, number: str) -> str:
        return self._cipher.lookup_hash(normalize_number(number))

    async def profile(self, call: CallInfo) -> CallerProfile:
        if not normalize_number(call.caller_number):
            return CallerProfile()  # withheld number: nothing to know
        return await asyncio.to_thread(self._profile, call)

    def _profile(self, call: CallInfo) -> CallerProfile:
        hashed, line = self.caller_hash(call.caller_number), call.line
        now = self._now()
        with self._sessions() as session:
            blocked = session.scalar(
                select(BlockedCaller.id).where(
                    BlockedCaller.caller_hash == hashed,
                    or_(BlockedCaller.line == "", BlockedCaller.line == line),
                    or_(BlockedCaller.until.is_(None), BlockedCaller.until > now),
                )
            )
            earlier = session.scalar(
                select(CallRecord.id)
                .where(
                    CallRecord.caller_hash == hashed,
                    CallRecord.line == line,
                    CallRecord.started_at > now - REPEAT_WINDOW,
                    CallRecord.call_id != call.call_id,  # its own record exists already
                )
                .limit(1)
            )
            elderly = bool(self._elderly_check and self._elderly_check(session, hashed))
        return CallerProfile(
            blacklisted=blocked is not None, repeat_caller=earlier is not None, elderly=elderly
        )


def elderly_by_registration(
    cipher: PersonalDataCipher,
    today: Callable[[], date] | None = None,
    *,
    timezone: str = DEFAULT_TIMEZONE,
) -> ElderlyCheck:
    """Elderly when a real-name registered patient with this phone number is 65 or over."""

    def check(session: Session, caller_hash: str) -> bool:
        day = today() if today else datetime.now(zone(timezone)).date()
        registered = session.scalars(
            select(Patient.id_enc).where(Patient.phone_hash == caller_hash)
        )
        for id_enc in registered:
            born = idcard.birth_date(cipher.decrypt(id_enc))
            age = day.year - born.year - ((day.month, day.day) < (born.month, born.day))
            if age >= ELDERLY_AGE:
                return True
        return False

    return check
