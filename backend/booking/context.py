"""The collaborators every booking operation shares, built once in a composition root."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from backend.booking.rules import BookingRules
from backend.holiday_calendar.live import live_calendar
from backend.models.base import utcnow
from backend.personal_data import PersonalDataCipher
from backend.settings import Settings
from backend.workcalendar import Calendar, WorkCalendar


@dataclass
class BookingContext:
    cipher: PersonalDataCipher
    rules: BookingRules = field(default_factory=BookingRules)
    calendar: Calendar = field(default_factory=WorkCalendar)
    clock: Callable[[], datetime] = utcnow
    rng: random.Random = field(default_factory=random.SystemRandom)

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        rules: BookingRules | None = None,
        *,
        clock: Callable[[], datetime] = utcnow,
        session_factory: sessionmaker[Session] | None = None,
    ) -> BookingContext:
        """With ``session_factory``: the calendar the administrator enters (the same one the
        hours and deadlines read); without, the built-in file (tools, tests)."""
        return cls(
            cipher=PersonalDataCipher.of(settings),
            rules=rules or settings.booking,
            calendar=WorkCalendar.load()
            if session_factory is None
            else live_calendar(session_factory),
            clock=clock,
        )
