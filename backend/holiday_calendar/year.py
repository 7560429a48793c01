"""One year of the calendar as the State Council publishes it, and the checks it must pass.

A holiday range is every day closed, weekends inside the break included (as the notices say
"1月1日至3日放假调休，共3天"). A 调休 working day is a Saturday or Sunday worked instead; a
weekday can never be one, and no day is both. Every problem is reported at once, in the
admin page's language, so the administrator corrects the whole entry in one go.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from itertools import pairwise

from backend.errors import Refused

FIRST_YEAR, LAST_YEAR = 2000, 2100
WEEKDAY_NAMES = "一二三四五六日"


class InvalidHolidayYear(Refused):
    code = "bad-holiday-calendar"

    def __init__(self, year: int, problems: list[str]) -> None:
        super().__init__(f"{year}年节假日安排有误：" + "；".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class HolidayRange:
    name: str  # 元旦, 春节, …
    first: date
    last: date  # included

    def days(self) -> list[date]:
        count = (self.last - self.first).days + 1
        return [self.first + timedelta(days=n) for n in range(max(count, 0))]


@dataclass(frozen=True)
class YearEntry:
    year: int
    holidays: tuple[HolidayRange, ...]
    workdays: tuple[date, ...]  # 调休: weekend days worked

    def holiday_days(self) -> set[date]:
        return {day for holiday in self.holidays for day in holiday.days()}


def _day(day: date) -> str:
    return f"{day.isoformat()}（星期{WEEKDAY_NAMES[day.weekday()]}）"


def _range_problems(year: int, holidays: tuple[HolidayRange, ...]) -> list[str]:
    problems: list[str] = []
    for number, holiday in enumerate(holidays, start=1):
        label = holiday.name.strip() or f"第{number}个假期"
        if not holiday.name.strip():
            problems.append(f"第{number}个假期没有名称")
        if holiday.last < holiday.first:
            problems.append(f"{label}的结束日{holiday.last}早于开始日{holiday.first}")
        if holiday.first.year != year or holiday.last.year != year:
            problems.append(f"{label}（{holiday.first}至{holiday.last}）不在{year}年内")
    ordered = sorted(holidays, key=lambda h: h.first)
    for before, after in pairwise(ordered):
        if after.first <= before.last:
            problems.append(f"{before.name}与{after.name}的日期重叠（{after.first}）")
    return problems


def _workday_problems(entry: YearEntry) -> list[str]:
    problems: list[str] = []
    closed = entry.holiday_days()
    seen: set[date] = set()
    for day in entry.workdays:
        if day in seen:
            problems.append(f"调休上班日{day}重复")
        seen.add(day)
        if day.year != entry.year:
            problems.append(f"调休上班日{day}不在{entry.year}年内")
        if day.weekday() < 5:
            problems.append(f"调休上班日{_day(day)}不是周末，本来就上班")
        if day in closed:
            problems.append(f"{day}既是假期又是调休上班日")
    return problems


def check_year(entry: YearEntry) -> YearEntry:
    """``entry`` if it is a possible calendar, else ``InvalidHolidayYear`` listing each problem."""
    if not FIRST_YEAR <= entry.year <= LAST_YEAR:
        raise InvalidHolidayYear(entry.year, [f"年份须在{FIRST_YEAR}至{LAST_YEAR}之间"])
    problems = [] if entry.holidays else ["至少要有一个假期（元旦）"]
    problems += _range_problems(entry.year, entry.holidays)
    problems += _workday_problems(entry)
    if problems:
        raise InvalidHolidayYear(entry.year, problems)
    return entry
