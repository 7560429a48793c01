"""The KPI formulas over plain numbers, and the footnotes printed with them."""

from __future__ import annotations

import pytest

from reports import kpi
from reports.kpi import CallTotals, SlFormula


def test_empty_periods_show_no_rate_rather_than_zero_or_full() -> None:
    empty = CallTotals()
    assert kpi.service_level(empty) is None
    assert kpi.asa(empty) is None
    assert kpi.aht(empty) is None
    assert kpi.wait_percentile(empty, 0.5) is None
    assert kpi.occupancy(100, 0) is None


def test_short_abandons_leave_the_service_level_and_abandonment_denominators() -> None:
    t = CallTotals(offered=10, answered=6, answered_within_t=5, abandoned=4, short_abandoned=2)
    assert kpi.service_level(t) == pytest.approx(5 / 8)
    assert kpi.abandonment_rate(t) == pytest.approx(2 / 8)
    assert kpi.short_abandon_rate(t) == pytest.approx(2 / 10)


def test_totals_add_up_field_by_field() -> None:
    a = CallTotals(offered=1, talk_seconds=10.5, waits_le_20=1)
    b = CallTotals(offered=2, talk_seconds=4.5, waits_le_20=2)
    total = a + b
    assert (total.offered, total.talk_seconds, total.waits_le_20) == (3, 15.0, 3)


def test_totals_read_from_a_row_with_nulls() -> None:
    t = CallTotals.from_mapping({"offered": 3, "talk_seconds": None, "recording_bytes": 7})
    assert (t.offered, t.talk_seconds, t.recording_bytes) == (3, 0.0, 7)


def test_percentile_beyond_the_last_edge() -> None:
    t = CallTotals(offered=2, waits_le_600=1)
    assert kpi.wait_percentile(t, 0.5) == 600
    assert kpi.wait_percentile(t, 0.9) == -1


@pytest.mark.parametrize(("hour", "night"), [(21, False), (22, True), (0, True), (7, True)])
def test_night_shift_runs_from_22_to_8(hour: int, night: bool) -> None:
    assert kpi.is_night_hour(hour) is night
    assert kpi.is_night_hour(8) is False


def test_every_page_names_the_formula_in_use_and_the_short_abandon_threshold() -> None:
    notes = kpi.footnotes(
        ["abandonment", "time"], formula=SlFormula.ANSWERED, short_abandon_seconds=5
    )
    assert notes[0] == "服务水平 = T秒内接听数 ÷ 接听数"
    assert any("等待不足5秒" in line for line in notes)
    assert any("跨午夜的通话计入其开始的日期" in line for line in notes)


@pytest.mark.parametrize(
    ("state", "reason", "staffed"),
    [
        ("ready", "", True),
        ("on_call", "", True),
        ("on_hold", "", True),
        ("wrap_up", "", True),
        ("not_ready", "meal", False),
        ("not_ready", "no_answer", False),
        ("not_ready", "acw", True),
        ("logged_out", "", False),
    ],
)
def test_occupancy_counts_staffed_time_by_the_acd_states(
    state: str, reason: str, staffed: bool
) -> None:
    assert kpi.is_staffed(state, reason) is staffed


def test_patience_is_queue_time_over_abandons() -> None:
    assert kpi.patience_estimate(600.0, 4) == 150.0
    assert kpi.patience_estimate(600.0, 0) is None
