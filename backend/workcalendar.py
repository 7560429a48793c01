"""Working days by the Chinese public-holiday calendar, adjusted weekends (调休) included.

The calendar is data (``data/cn_holidays.yaml``); years it does not cover fall back to plain
Monday–Friday, and ``covers`` lets callers warn about that.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path

import yaml

DEFAULT_DATA = Path(__file__).parent / "data" / "cn_holidays.yaml"


@dataclass(frozen=True)
class WorkCalendar:
    holidays: frozenset[date] = field(default_factory=frozenset)
    workdays: frozenset[date] = field(default_factory=frozenset)
    years: frozenset[int] = field(default_factory=frozenset)

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
