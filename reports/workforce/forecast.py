"""Forecast of offered calls (calls entering the queue) per half hour, per line and skill.

Method: each day to forecast gets a pattern. A public holiday of the Chinese calendar
(``backend/workcalendar.py``) is its own pattern, ``holiday``; any other day has its weekday's
pattern. A half hour's forecast is the mean of the calls offered in the same half hour on the
reference days of its pattern: for a weekday pattern, the same weekday in each of the
``weeks`` weeks before the forecast starts (holidays and adjusted working weekends, 调休, left
out: they are not that weekday's ordinary traffic); for ``holiday``, the ``holiday_days`` most
recent holidays before it, looked up to ``HOLIDAY_LOOKBACK_DAYS`` back. A reference day with
no calls counts as zero calls. Handle time per half hour is the reference days' (talk + hold
+ wrap-up) over their handled calls, else that of all reference days, else 180 s.

Only history before the forecast's first day is read, so a forecast of days already past can
be laid beside what actually came (``actual_offered``).
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy.orm import Session

from backend.workcalendar import WorkCalendar
from reports import kpi
from reports.kpi import CallTotals
from reports.periods import GroupBy, ReportFilter
from reports.query import call_totals

HOLIDAY = "holiday"
HOLIDAY_LOOKBACK_DAYS = 399  # ReportFilter's longest range is 400 days
DEFAULT_AHT = 180.0
HALVES = 48


def pattern_of(day: date, calendar: WorkCalendar) -> str:
    """``holiday`` or the weekday, ``"0"`` (Monday) .. ``"6"``."""
    return HOLIDAY if day in calendar.holidays else str(day.weekday())


def ordinary(day: date, calendar: WorkCalendar) -> bool:
    """Neither a holiday nor an adjusted working weekend: its weekday's usual traffic."""
    return day not in calendar.holidays and day not in calendar.workdays


@dataclass(frozen=True)
class HalfHourForecast:
    at: datetime  # local (naive) start of the half hour
    pattern: str
    calls: float
    aht: float


@dataclass(frozen=True)
class History:
    """Per local day, its 48 half hours' call totals (missing half hours: no calls)."""

    days: dict[date, list[CallTotals]]

    def totals(self, day: date, half: int) -> CallTotals:
        return self.days[day][half]


def reference_days(
    day: date, start: date, calendar: WorkCalendar, *, weeks: int, holiday_days: int
) -> list[date]:
    """The days whose traffic forecasts ``day``, all before ``start``."""
    if pattern_of(day, calendar) == HOLIDAY:
        found: list[date] = []
        probe = start - timedelta(days=1)
        while len(found) < holiday_days and (start - probe).days <= HOLIDAY_LOOKBACK_DAYS:
            if probe in calendar.holidays:
                found.append(probe)
            probe -= timedelta(days=1)
        return found
    back = (start.weekday() - day.weekday()) % 7 or 7  # the last same weekday before start
    last_same = start - timedelta(days=back)
    same = [last_same - timedelta(weeks=i) for i in range(weeks)]
    return [d for d in same if ordinary(d, calendar)]


def load_history(
    session: Session, line: str, skill: str | None, days: list[date], tz_name: str
) -> History:
    """The call totals of ``days`` per half hour, in as few queries as contiguous runs."""
    found: dict[date, list[CallTotals]] = {d: [CallTotals()] * HALVES for d in days}
    for first, last in _runs(sorted(set(days))):
        f = ReportFilter(first=first, last=last, line=line, skill=skill or None, tz_name=tz_name)
        rows: dict[Hashable, CallTotals] = call_totals(session, f, GroupBy.HALF_HOUR)
        for at, totals in rows.items():
            assert isinstance(at, datetime)
            if at.date() in found:
                found[at.date()][at.hour * 2 + at.minute // 30] = totals
    return History(found)


def _runs(days: list[date]) -> list[tuple[date, date]]:
    runs: list[tuple[date, date]] = []
    for day in days:
        if runs and day - runs[-1][1] == timedelta(days=1) and (day - runs[-1][0]).days < 400:
            runs[-1] = (runs[-1][0], day)
        else:
            runs.append((day, day))
    return runs


def forecast_days(
    history: History, days: list[date], references: dict[date, list[date]], calendar: WorkCalendar
) -> list[HalfHourForecast]:
    """Pure: the forecast of every half hour of ``days`` from the reference days' history."""
    result = []
    for day in days:
        refs = references[day]
        whole = sum((history.totals(r, h) for r in refs for h in range(HALVES)), CallTotals())
        day_aht = kpi.aht(whole) or DEFAULT_AHT
        for half in range(HALVES):
            seen = [history.totals(r, half) for r in refs]
            calls = sum(t.offered for t in seen) / len(seen) if seen else 0.0
            aht = kpi.aht(sum(seen, CallTotals())) or day_aht
            at = datetime.combine(day, time.min) + timedelta(minutes=30 * half)
            result.append(HalfHourForecast(at, pattern_of(day, calendar), calls, aht))
    return result


def forecast(
    session: Session,
    line: str,
    skill: str | None,
    first: date,
    days: int,
    *,
    calendar: WorkCalendar,
    tz_name: str,
    weeks: int = 6,
    holiday_days: int = 6,
) -> list[HalfHourForecast]:
    """Offered calls per half hour of ``days`` days from ``first``, from history before it."""
    targets = [first + timedelta(days=i) for i in range(days)]
    references = {
        d: reference_days(d, first, calendar, weeks=weeks, holiday_days=holiday_days)
        for d in targets
    }
    needed = sorted({r for refs in references.values() for r in refs})
    history = load_history(session, line, skill, needed, tz_name)
    return forecast_days(history, targets, references, calendar)


def actual_offered(
    session: Session, line: str, skill: str | None, first: date, days: int, tz_name: str
) -> dict[datetime, int]:
    """What came: offered calls per local half hour of the same days."""
    last = first + timedelta(days=days - 1)
    f = ReportFilter(first=first, last=last, line=line, skill=skill or None, tz_name=tz_name)
    return {
        at: t.offered
        for at, t in call_totals(session, f, GroupBy.HALF_HOUR).items()
        if isinstance(at, datetime)
    }
