"""Which periodic reports are due on a given day: pure, so the calendar is testable.

Each edition is generated on the first day after its period ends (weeks on Monday), for
the period that just closed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from reports.periods import Edition, edition_range


@dataclass(frozen=True)
class PeriodicJob:
    # "service_monthly", "confirmation_sheet", "halfyear_114", "booking_sheet",
    # "workorders_<edition>"
    kind: str
    first: date
    last: date


def _closed(edition: Edition, today: date) -> tuple[date, date] | None:
    """The period of ``edition`` that ended yesterday, if one did."""
    yesterday = today - timedelta(days=1)
    first, last = edition_range(edition, yesterday)
    return (first, last) if last == yesterday else None


def due_jobs(today: date) -> list[PeriodicJob]:
    jobs: list[PeriodicJob] = []
    for edition in Edition:
        closed = _closed(edition, today)
        if closed is None:
            continue
        jobs.append(PeriodicJob(f"workorders_{edition.value}", *closed))
        if edition is Edition.MONTHLY:
            jobs.append(PeriodicJob("service_monthly", *closed))
            jobs.append(PeriodicJob("confirmation_sheet", *closed))
        if edition is Edition.HALF_YEAR:
            jobs.append(PeriodicJob("halfyear_114", *closed))
        if edition is Edition.ANNUAL:
            jobs.append(PeriodicJob("booking_sheet", *closed))
    return jobs
