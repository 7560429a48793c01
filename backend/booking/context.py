"""The collaborators every booking operation shares, built once in a composition root."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from backend.booking.rules import BookingRules
from backend.models.base import utcnow
from backend.personal_data import PersonalDataCipher
from backend.settings import Settings
from backend.workcalendar import WorkCalendar


@dataclass
class BookingContext:
    cipher: PersonalDataCipher
    rules: BookingRules = field(default_factory=BookingRules)
    calendar: WorkCalendar = field(default_factory=WorkCalendar)
    clock: Callable[[], datetime] = utcnow
    rng: random.Random = field(default_factory=random.SystemRandom)

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        rules: BookingRules | None = None,
        *,
        clock: Callable[[], datetime] = utcnow,
    ) -> BookingContext:
        return cls(
            cipher=PersonalDataCipher.of(settings),
            rules=rules or settings.booking,
            calendar=WorkCalendar.load(),
            clock=clock,
        )
