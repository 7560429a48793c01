"""Working days by the Chinese public-holiday calendar, adjusted weekends (调休) included.

Two sources: the built-in file (``data/cn_holidays.yaml``, ``WorkCalendar.load``), which
rosters and forecasts read and which falls back to plain Monday–Friday for years it does not
cover; and the years the administrator enters on the admin page (``backend/holiday_calendar``),
read through ``LiveCalendar``. That one is *strict*: a date in a year nobody entered raises
``CalendarMissing`` instead of guessing, and each caller decides what is safe (the opening
hours: open by weekday hours, logged loudly, ``backend/lines.py``; deadlines: ``lenient()``,
Monday–Friday for the missing days, ``backend/workorders/deadlines.py``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Protocol

import yaml

DEFAULT_DATA = Path(__file__).parent / "data" / "cn_holidays.yaml"


class CalendarMissing(LookupError):
    """A strict calendar was asked about a date in a year the administrator has not entered."""

    def __init__(self, year: int) -> None:
        super().__init__(f"calendar missing: the holidays of {year} have not been entered")
        self.year = year


@dataclass(frozen=True)
class WorkCalendar:
    holidays: frozenset[date] = field(default_factory=frozenset)
    workdays: frozenset[date] = field(default_factory=frozenset)
    years: frozenset[int] = field(default_factory=frozenset)
    strict: bool = False  # True: a year not in ``years`` raises CalendarMissing

    @classmethod
    def of_days(
        cls, years: Iterable[int], holidays: Iterable[date], workdays: Iterable[date]
    ) -> WorkCalendar:
        """A strict calendar of exactly these years (already validated)."""
        return cls(frozenset(holidays), frozenset(workdays), frozenset(years), strict=True)

    def lenient(self) -> WorkCalendar:
        """The same days, with plain Monday–Friday for the years not covered."""
        return replace(self, strict=False)

    @classmethod
    def load(cls, path: Path = DEFAULT_DATA) -> WorkCalendar:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        holidays: set[date] = set()
        workdays: set[date] = set()
        for year, entry in raw.items():
            for start, end in entry.get("holidays", []):
                if end < start:
                    raise ValueError(f"{path}: holiday range {start}..{end} ends before it starts")
                day = start
                while day <= end:
                    holidays.add(day)
                    day += timedelta(days=1)
            workdays.update(entry.get("workdays", []))
            if holidays & workdays:
                raise ValueError(f"{path}: {year} lists a day as both holiday and workday")
        return cls(frozenset(holidays), frozenset(workdays), frozenset(int(y) for y in raw))

    def covers(self, day: date) -> bool:
        return day.year in self.years

    def is_working_day(self, day: date) -> bool:
        if self.strict and day.year not in self.years:
            raise CalendarMissing(day.year)
        if day in self.holidays:
            return False
        if day in self.workdays:
            return True
        return day.weekday() < 5

    def next_working_day(self, day: date) -> date:
        """The first working day strictly after ``day``."""
        day += timedelta(days=1)
        while not self.is_working_day(day):
            day += timedelta(days=1)
        return day

    def add_working_days(self, day: date, count: int) -> date:
        """The date ``count`` working days after ``day`` (``day`` itself not counted)."""
        if count < 0:
            raise ValueError("count must not be negative")
        for _ in range(count):
            day = self.next_working_day(day)
        return day

    def working_days_between(self, start: date, end: date) -> int:
        """Working days in the half-open range (start, end]."""
        count, day = 0, start
        while day < end:
            day += timedelta(days=1)
            count += self.is_working_day(day)
        return count

    def within_hours(self, moment: datetime, opens: time, closes: time) -> bool:
        """Whether a local time falls in working hours on a working day."""
        return self.is_working_day(moment.date()) and opens <= moment.time() < closes


class Calendar(Protocol):
    """What the hours and deadlines ask of a calendar: ``WorkCalendar`` or ``LiveCalendar``."""

    def covers(self, day: date) -> bool: ...
    def is_working_day(self, day: date) -> bool: ...
    def next_working_day(self, day: date) -> date: ...
    def add_working_days(self, day: date, count: int) -> date: ...
    def working_days_between(self, start: date, end: date) -> int: ...
    def within_hours(self, moment: datetime, opens: time, closes: time) -> bool: ...
    def lenient(self) -> WorkCalendar: ...


class LiveCalendar:
    """A calendar that may change while the process runs: each question is answered by the
    snapshot ``current()`` gives at that moment (``backend.holiday_calendar.live`` caches it
    and reloads it when the administrator changes a year)."""

    def __init__(self, current: Callable[[], WorkCalendar]) -> None:
        self.current = current

    def covers(self, day: date) -> bool:
        return self.current().covers(day)

    def is_working_day(self, day: date) -> bool:
        return self.current().is_working_day(day)

    def next_working_day(self, day: date) -> date:
        return self.current().next_working_day(day)

    def add_working_days(self, day: date, count: int) -> date:
        return self.current().add_working_days(day, count)

    def working_days_between(self, start: date, end: date) -> int:
        return self.current().working_days_between(start, end)

    def within_hours(self, moment: datetime, opens: time, closes: time) -> bool:
        return self.current().within_hours(moment, opens, closes)

    def lenient(self) -> WorkCalendar:
        return self.current().lenient()
