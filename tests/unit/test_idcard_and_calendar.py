from __future__ import annotations

from datetime import date, datetime, time

import pytest

from backend import idcard
from backend.workcalendar import WorkCalendar


def test_valid_number_with_x_check_char() -> None:
    # 11010519491231002X is the standard's own worked example.
    assert idcard.validate("11010519491231002x") == "11010519491231002X"


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [
        ("1101051949123100", "18位"),
        ("11010519491231002A", "前17位"),
        ("110105194913310021", "出生日期"),
        ("110105194912310021", "校验位"),
    ],
)
def test_invalid_numbers_say_what_is_wrong(raw: str, fragment: str) -> None:
    with pytest.raises(idcard.InvalidIdNumber) as err:
        idcard.validate(raw)
    assert fragment in err.value.message


def test_make_valid_round_trips() -> None:
    number = idcard.make_valid("11010119800101123")
    assert idcard.is_valid(number)
    assert idcard.birth_date(number) == date(1980, 1, 1)


CAL = WorkCalendar.load()


def test_adjusted_working_saturday_is_a_working_day() -> None:
    assert date(2026, 2, 14).weekday() == 5
    assert CAL.is_working_day(date(2026, 2, 14))


def test_spring_festival_weekday_is_a_holiday() -> None:
    assert not CAL.is_working_day(date(2026, 2, 18))


def test_add_working_days_skips_the_national_day_week() -> None:
    # Wed 30 Sep 2026 + 1 working day: 1–7 Oct are holidays, Thu 8 Oct is next.
    assert CAL.add_working_days(date(2026, 9, 30), 1) == date(2026, 10, 8)
    assert CAL.working_days_between(date(2026, 9, 30), date(2026, 10, 10)) == 3


def test_hotline_hours() -> None:
    assert CAL.within_hours(datetime(2026, 11, 25, 9, 0), time(9), time(18))
    assert not CAL.within_hours(datetime(2026, 11, 25, 18, 0), time(9), time(18))
    assert not CAL.within_hours(datetime(2026, 11, 28, 10, 0), time(9), time(18))
