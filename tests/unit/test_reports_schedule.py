"""Report periods and the calendar of scheduled editions."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from reports.periods import Edition, ReportFilter, ReportInputError, edition_range
from reports.schedule import due_jobs


@pytest.mark.parametrize(
    ("edition", "day", "expected"),
    [
        (Edition.WEEKLY, date(2025, 7, 2), (date(2025, 6, 30), date(2025, 7, 6))),
        (Edition.MONTHLY, date(2024, 2, 10), (date(2024, 2, 1), date(2024, 2, 29))),
        (Edition.QUARTERLY, date(2025, 11, 30), (date(2025, 10, 1), date(2025, 12, 31))),
        (Edition.HALF_YEAR, date(2025, 6, 30), (date(2025, 1, 1), date(2025, 6, 30))),
        (Edition.ANNUAL, date(2025, 3, 1), (date(2025, 1, 1), date(2025, 12, 31))),
    ],
)
def test_edition_periods(edition: Edition, day: date, expected: tuple[date, date]) -> None:
    assert edition_range(edition, day) == expected


def test_first_of_july_brings_the_half_year_114_report_and_the_closed_month_and_quarter() -> None:
    kinds = {job.kind: (job.first, job.last) for job in due_jobs(date(2025, 7, 1))}
    assert kinds == {
        "workorders_monthly": (date(2025, 6, 1), date(2025, 6, 30)),
        "service_monthly": (date(2025, 6, 1), date(2025, 6, 30)),
        "confirmation_sheet": (date(2025, 6, 1), date(2025, 6, 30)),
        "workorders_quarterly": (date(2025, 4, 1), date(2025, 6, 30)),
        "workorders_half_year": (date(2025, 1, 1), date(2025, 6, 30)),
        "halfyear_114": (date(2025, 1, 1), date(2025, 6, 30)),
    }


def test_new_year_brings_the_annual_editions_and_mondays_the_weekly_one() -> None:
    kinds = {job.kind for job in due_jobs(date(2026, 1, 1))}
    assert {"workorders_annual", "booking_sheet", "halfyear_114"} <= kinds
    assert {job.kind for job in due_jobs(date(2025, 7, 7))} == {"workorders_weekly"}
    assert due_jobs(date(2025, 7, 8)) == []


def test_a_report_day_runs_from_beijing_midnight() -> None:
    f = ReportFilter(first=date(2025, 3, 10), last=date(2025, 3, 10))
    assert f.utc_range() == (
        datetime(2025, 3, 9, 16, tzinfo=UTC),
        datetime(2025, 3, 10, 16, tzinfo=UTC),
    )


def test_filters_refuse_reversed_or_overlong_ranges_and_unknown_lines() -> None:
    with pytest.raises(ReportInputError):
        ReportFilter(first=date(2025, 3, 10), last=date(2025, 3, 9))
    with pytest.raises(ReportInputError):
        ReportFilter(first=date(2024, 1, 1), last=date(2025, 3, 9))
    with pytest.raises(ReportInputError):
        ReportFilter(first=date(2025, 3, 10), last=date(2025, 3, 10), line="110")
