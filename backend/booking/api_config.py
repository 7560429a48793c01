"""The online channel's configuration, from settings (``CC_BOOKING_*``): the booking rules
(which also bound the partner APIs' request bodies and rates) and the prefix of its Redis
keys."""

from __future__ import annotations

from dataclasses import dataclass, field

from backend.booking.rules import BookingRules
from backend.settings import Settings


@dataclass(frozen=True)
class BookingApiConfig:
    rules: BookingRules = field(default_factory=BookingRules)
    redis_prefix: str = "cc:booking:"

    @classmethod
    def from_settings(cls, settings: Settings) -> BookingApiConfig:
        return cls(rules=settings.booking, redis_prefix=settings.booking_redis_prefix)
