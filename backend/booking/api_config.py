"""The online channel's configuration from ``CC_BOOKING_*``: the booking rules (which also
bound the partner APIs' request bodies and rates) and the prefix of its Redis keys."""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from backend.booking.rules import BookingRules


@dataclass(frozen=True)
class BookingApiConfig:
    rules: BookingRules = field(default_factory=BookingRules)
    redis_prefix: str = "cc:booking:"

    @classmethod
    def from_env(cls) -> BookingApiConfig:
        """Rules from ``CC_BOOKING_*``; ``CC_BOOKING_REDIS_PREFIX`` names the Redis keys."""
        prefix = os.environ.get("CC_BOOKING_REDIS_PREFIX", cls.redis_prefix)
        return cls(rules=BookingRules.from_env(os.environ), redis_prefix=prefix)
