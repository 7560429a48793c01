"""Half-hour callback windows: which ones a line may offer, and how a caller hears them.

A caller waiting in a queue may ask to be called back inside a half-hour window instead of
at his place in the queue (``ivr/acd/window_offer.py``). The windows offered are the next
ones that

* start at or after the next half-hour boundary (a window already under way is not
  offered: it would leave the agents minutes to reach him);
* lie wholly inside the line's hours (``backend/data/lines.yaml``) on one of its working
  days — a line open on working days never offers a window on a holiday or a weekend off
  (``backend/workcalendar.py``); a 7×24 line offers any window;
* still have room: fewer bookings than ``CC_CALLBACK_WINDOW_CAPACITY``.

Pure functions over local times; the bookings themselves are ``callback_bookings.py``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from backend.lines import LineHours, WorkingDays

WINDOW = timedelta(minutes=30)
# How far ahead windows are looked for: past the longest Chinese holiday (8 days).
HORIZON = timedelta(days=14)


@dataclass(frozen=True, order=True)
class CallbackWindow:
    """One half-hour window, in the line's local time (aware datetimes)."""

    start: datetime
    end: datetime

    @classmethod
    def starting(cls, start: datetime) -> CallbackWindow:
        return cls(start, start + WINDOW)


def first_boundary(now: datetime) -> datetime:
    """The next half-hour boundary strictly after ``now`` (local, aware)."""
    base = now.replace(minute=0, second=0, microsecond=0)
    step = base + WINDOW if now.minute < 30 else base + 2 * WINDOW
    return step if step > now else step + WINDOW


def windows_in_hours(
    now: datetime, hours: LineHours | None, calendar: WorkingDays
) -> Iterator[CallbackWindow]:
    """Every window after ``now`` inside the line's hours, in order, up to the horizon."""
    start, until = first_boundary(now), now + HORIZON
    while start < until:
        window = CallbackWindow.starting(start)
        if _inside(window, hours, calendar):
            yield window
        start += WINDOW


def _inside(window: CallbackWindow, hours: LineHours | None, calendar: WorkingDays) -> bool:
    if hours is None:
        return True
    last_minute = window.end - timedelta(minutes=1)
    return hours.is_open(window.start, calendar) and hours.is_open(last_minute, calendar)


def free_windows(
    now: datetime,
    hours: LineHours | None,
    calendar: WorkingDays,
    booked: Mapping[datetime, int],
    *,
    capacity: int,
    count: int,
) -> list[CallbackWindow]:
    """The next ``count`` windows with room; ``booked``: bookings per window start."""
    found: list[CallbackWindow] = []
    for window in windows_in_hours(now, hours, calendar):
        if booked.get(window.start, 0) < capacity:
            found.append(window)
            if len(found) == count:
                break
    return found


def window_words(window: CallbackWindow, today: date) -> str:
    """The window as the caller hears it: 今天16点30分到17点 / 12月4日9点到9点30分."""
    day = window.start.date()
    if day == today:
        when = "今天"
    elif day == today + timedelta(days=1):
        when = "明天"
    else:
        when = f"{day.month}月{day.day}日"
    return f"{when}{_clock_words(window.start)}到{_clock_words(window.end)}"


def _clock_words(moment: datetime) -> str:
    return f"{moment.hour}点{moment.minute}分" if moment.minute else f"{moment.hour}点"
