"""The centre's local time. Every local date and clock time (slot release, working hours,
report days, deadlines, dates shown on pages) is in one time zone: CC_TIMEZONE, Beijing time
unless set. Domain objects built without settings (tests, pure rules) default to it too."""

from __future__ import annotations

from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DEFAULT_TIMEZONE = "Asia/Shanghai"


@cache
def zone(name: str = DEFAULT_TIMEZONE) -> ZoneInfo:
    """The time zone ``name`` (ValueError naming it when there is none by that name)."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"no such time zone: {name!r}") from None
