"""A year of the holiday calendar is checked whole, and the 1 November rule picks the year
to warn about (``backend/holiday_calendar``)."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import create_engine

from backend.alerts import AlertLevel
from backend.holiday_calendar.live import DatabaseCalendar
from backend.holiday_calendar.reminder import missing_year
from backend.holiday_calendar.year import HolidayRange, InvalidHolidayYear, YearEntry, check_year
from backend.workcalendar import CalendarMissing, LiveCalendar, WorkCalendar

NEW_YEAR = HolidayRange("元旦", date(2027, 1, 1), date(2027, 1, 3))


def problems(entry: YearEntry) -> list[str]:
    with pytest.raises(InvalidHolidayYear) as refused:
        check_year(entry)
    return refused.value.problems


def test_a_correct_year_passes() -> None:
    entry = YearEntry(2027, (NEW_YEAR,), (date(2027, 2, 20),))
    assert check_year(entry) is entry


def test_each_problem_is_named() -> None:
    assert problems(YearEntry(2027, (), ())) == ["至少要有一个假期（元旦）"]
    assert problems(YearEntry(1999, (NEW_YEAR,), ())) == ["年份须在2000至2100之间"]
    unnamed = HolidayRange(" ", date(2027, 5, 1), date(2027, 5, 5))
    assert problems(YearEntry(2027, (NEW_YEAR, unnamed), ())) == ["第2个假期没有名称"]
    twice = (date(2027, 2, 20), date(2027, 2, 20))
    assert problems(YearEntry(2027, (NEW_YEAR,), twice)) == ["调休上班日2027-02-20重复"]
    assert problems(YearEntry(2027, (NEW_YEAR,), (date(2026, 12, 26),))) == [
        "调休上班日2026-12-26不在2027年内"
    ]


def test_a_strict_calendar_says_a_year_is_missing_and_a_lenient_one_guesses() -> None:
    strict = WorkCalendar.of_days([2026], [], [])
    with pytest.raises(CalendarMissing) as missing:
        strict.next_working_day(date(2026, 12, 31))
    assert missing.value.year == 2027
    assert strict.lenient().next_working_day(date(2026, 12, 31)) == date(2027, 1, 1)


@pytest.mark.parametrize(
    ("today", "entered", "expected"),
    [
        (date(2026, 10, 31), {2026}, None),
        (date(2026, 11, 1), {2026}, (2027, AlertLevel.WARNING)),
        (date(2026, 11, 1), {2026, 2027}, None),
        (date(2027, 1, 4), {2026}, (2027, AlertLevel.CRITICAL)),
    ],
)
def test_the_year_to_warn_about(
    today: date, entered: set[int], expected: tuple[int, AlertLevel] | None
) -> None:
    found = missing_year(today, entered)
    assert (found.year, found.level) == expected if found else expected is None


def test_with_the_database_unreadable_the_built_in_years_answer_and_no_others() -> None:
    unreachable = create_engine("postgresql+psycopg://nobody@127.0.0.1:1/none")
    calendar = LiveCalendar(DatabaseCalendar(unreachable))
    assert not calendar.is_working_day(date(2026, 10, 1))  # 国庆节, from the built-in file
    with pytest.raises(CalendarMissing):
        calendar.is_working_day(date(2027, 3, 1))
