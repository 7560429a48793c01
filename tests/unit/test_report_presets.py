"""The report form's named date ranges, the demo's arrival model, the chart axis."""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

import pytest

from ivr.demo_history.arrivals import PROFILE_114, PROFILE_HOTLINE, calls_of_day
from reports.periods import ReportInputError
from reports.presets import Preset, preset_range
from reports.render_svg import nice_top

BJ = ZoneInfo("Asia/Shanghai")


@pytest.mark.parametrize(
    ("preset", "today", "expected"),
    [
        (Preset.TODAY, date(2026, 3, 4), (date(2026, 3, 4), date(2026, 3, 4))),
        (Preset.YESTERDAY, date(2026, 3, 1), (date(2026, 2, 28), date(2026, 2, 28))),
        (Preset.THIS_WEEK, date(2026, 3, 4), (date(2026, 3, 2), date(2026, 3, 4))),  # Wed
        (Preset.THIS_WEEK, date(2026, 3, 2), (date(2026, 3, 2), date(2026, 3, 2))),  # Mon
        (Preset.THIS_MONTH, date(2026, 3, 4), (date(2026, 3, 1), date(2026, 3, 4))),
        (Preset.LAST_MONTH, date(2026, 3, 4), (date(2026, 2, 1), date(2026, 2, 28))),
        (Preset.LAST_MONTH, date(2026, 1, 15), (date(2025, 12, 1), date(2025, 12, 31))),
        (Preset.THIS_HALF, date(2026, 8, 9), (date(2026, 7, 1), date(2026, 8, 9))),
        (Preset.THIS_HALF, date(2026, 6, 30), (date(2026, 1, 1), date(2026, 6, 30))),
        (Preset.LAST_HALF, date(2026, 8, 9), (date(2026, 1, 1), date(2026, 6, 30))),
        (Preset.LAST_HALF, date(2026, 3, 4), (date(2025, 7, 1), date(2025, 12, 31))),
    ],
)
def test_named_ranges(preset: Preset, today: date, expected: tuple[date, date]) -> None:
    assert preset_range(preset, today) == expected
    assert preset_range(preset.value, today) == expected


def test_an_unknown_range_is_named_in_the_error() -> None:
    with pytest.raises(ReportInputError, match="未知的日期范围：fortnight"):
        preset_range("fortnight", date(2026, 3, 4))


def test_axis_tops_are_round() -> None:
    assert [nice_top(v) for v in (0, 0.3, 7, 12, 21, 180, 260, 999)] == [
        1.0, 0.5, 10, 20, 25, 200, 500, 1000,
    ]  # fmt: skip


def test_the_demo_days_follow_a_real_centres_cycle() -> None:
    monday, saturday = date(2026, 11, 2), date(2026, 11, 7)
    calls = calls_of_day(PROFILE_114, monday, True, BJ)
    assert calls == calls_of_day(PROFILE_114, monday, True, BJ)  # the same day, the same calls
    hours = [c.arrived.astimezone(BJ).hour for c in calls]
    assert sum(7 <= h < 10 for h in hours) > 3 * sum(h < 6 for h in hours)  # the morning rush
    assert len(calls_of_day(PROFILE_114, saturday, False, BJ)) < len(calls)
    assert calls_of_day(PROFILE_HOTLINE, saturday, False, BJ) == []  # closed
    hotline = calls_of_day(PROFILE_HOTLINE, monday, True, BJ)
    assert all(9 <= c.arrived.astimezone(BJ).hour < 18 for c in hotline)
    outcomes = {c.outcome for c in calls + hotline}
    assert {"answered", "abandoned", "self_service", "ivr_hangup"} <= outcomes
    waits = [c.wait_seconds for c in calls if c.outcome == "abandoned"]
    assert any(w < 5 for w in waits) and any(w > 30 for w in waits)
