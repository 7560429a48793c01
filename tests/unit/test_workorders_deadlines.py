"""Stage deadlines in working days, "no case left overnight", and message callbacks."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from backend.errors import ConfigError
from backend.settings import load_settings
from backend.workcalendar import WorkCalendar
from backend.workorders.deadlines import Deadlines, Stage, stage_of
from backend.workorders.duplicates import hotspot_key, normalize_phone
from backend.workorders.workflow import State, Urgency

BJ = ZoneInfo("Asia/Shanghai")
DEADLINES = Deadlines(WorkCalendar.load())


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=BJ)  # type: ignore[misc]


def test_an_order_taken_in_the_morning_is_dispatched_the_same_day() -> None:
    due = DEADLINES.stage_due(Stage.DISPATCH, local(2026, 11, 25, 10, 0))
    assert due == local(2026, 11, 25, 18, 0).astimezone(UTC)


def test_an_order_taken_in_on_friday_evening_is_dispatched_on_monday() -> None:
    due = DEADLINES.stage_due(Stage.DISPATCH, local(2026, 11, 27, 20, 30))
    assert due.astimezone(BJ) == local(2026, 11, 30, 18, 0)


def test_handling_runs_seven_working_days_skipping_the_national_day_break() -> None:
    # Dispatched on 2026-09-30 (Wed); 10-01..10-07 are holidays, 10-10 (Sat) is worked.
    due = DEADLINES.stage_due(Stage.HANDLE, local(2026, 9, 30, 11, 0)).astimezone(BJ)
    assert due == local(2026, 10, 15, 18, 0)


def test_complex_cases_get_fifteen_days_and_urgent_ones_hours() -> None:
    start = local(2026, 11, 2, 9, 30)
    normal = DEADLINES.stage_due(Stage.HANDLE, start)
    complex_ = DEADLINES.stage_due(Stage.HANDLE, start, complex_case=True)
    urgent = DEADLINES.stage_due(Stage.HANDLE, start, urgency=Urgency.URGENT)
    assert normal.astimezone(BJ) == local(2026, 11, 11, 18, 0)
    assert complex_.astimezone(BJ) == local(2026, 11, 23, 18, 0)
    assert urgent == (start + timedelta(hours=24)).astimezone(UTC)


def test_the_platform_deadline_caps_our_own() -> None:
    start = local(2026, 11, 2, 9, 30)
    final = local(2026, 11, 5, 12, 0)
    assert DEADLINES.stage_due(Stage.HANDLE, start, final_due=final) == final.astimezone(UTC)


def test_a_night_message_is_called_back_two_hours_after_the_next_opening() -> None:
    due = DEADLINES.callback_due(local(2026, 11, 27, 22, 15))  # Friday night
    assert due.astimezone(BJ) == local(2026, 11, 30, 11, 0)
    due = DEADLINES.callback_due(local(2026, 11, 25, 17, 0))  # in hours, late
    assert due.astimezone(BJ) == local(2026, 11, 25, 18, 0)


def test_closed_orders_have_no_running_stage() -> None:
    assert stage_of(State.CLOSED) is None and stage_of(State.CALLED_BACK) is None
    assert stage_of(State.RETURNED) is Stage.DISPATCH


def test_phone_numbers_compare_without_country_or_trunk_prefix() -> None:
    assert normalize_phone("+86 138-0013-8000") == "13800138000"
    assert normalize_phone("013800138000") == "13800138000"
    assert normalize_phone("010-62345678") == "01062345678"


def test_the_same_problem_at_the_same_place_gives_one_hot_spot_key() -> None:
    a = hotspot_key("医保/药店刷卡", "朝阳区 望京街道１号", "药店不能刷医保卡")
    b = hotspot_key("医保/药店刷卡", "朝阳区望京街道1号。", "刷不了卡")
    assert a == b != ""
    assert hotspot_key("医保", "", "  ") == ""
    assert hotspot_key("", "朝阳区", "留言待回电") == ""


def test_deadline_numbers_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CC_WORKORDER_HANDLE_WORKING_DAYS", "5")
    monkeypatch.setenv("CC_WORKORDER_CLOSES", "17:30")
    monkeypatch.setenv("CC_TIMEZONE", "Asia/Urumqi")
    policy = load_settings().workorder
    assert (policy.handle_working_days, policy.closes) == (5, time(17, 30))
    assert policy.complex_handle_working_days == 15 and policy.timezone == "Asia/Urumqi"
    monkeypatch.setenv("CC_WORKORDER_URGENT_HANDLE_HOURS", "soon")
    with pytest.raises(ConfigError) as caught:
        load_settings()
    assert caught.value.message.startswith("setting CC_WORKORDER_URGENT_HANDLE_HOURS: not a valid")
    monkeypatch.setenv("CC_WORKORDER_URGENT_HANDLE_HOURS", "-4")
    with pytest.raises(ConfigError, match=r"^setting CC_WORKORDER_URGENT_HANDLE_HOURS: must not"):
        load_settings()
