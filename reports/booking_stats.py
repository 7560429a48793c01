"""Booking counts for reports, in SQL over ``bookings`` (the booking module's table).

Every row of ``bookings`` is a booking that succeeded when it was made; a later cancellation
does not undo that success, so the counts include cancelled bookings (the monthly
confirmation sheet bills each successful booking). Phone = agent or IVR (``phone``/``ivr``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlalchemy import text
from sqlalchemy.orm import Session

from reports.kpi import NIGHT_END_HOUR, NIGHT_START_HOUR
from reports.periods import ReportFilter

PHONE_CHANNELS = ("phone", "ivr")


@dataclass(frozen=True)
class BookingCounts:
    total: int = 0
    online: int = 0
    phone: int = 0
    phone_night: int = 0

    def __add__(self, other: BookingCounts) -> BookingCounts:
        return BookingCounts(
            self.total + other.total,
            self.online + other.online,
            self.phone + other.phone,
            self.phone_night + other.phone_night,
        )


def bookings_by_month(session: Session, f: ReportFilter) -> dict[datetime, BookingCounts]:
    """Bookings per local month start (naive Beijing time)."""
    return _bookings_by(session, f, "month")


def bookings_by_day(session: Session, f: ReportFilter) -> dict[datetime, BookingCounts]:
    """Bookings per local day start (naive Beijing time)."""
    return _bookings_by(session, f, "day")


def _bookings_by(
    session: Session, f: ReportFilter, unit: Literal["month", "day"]
) -> dict[datetime, BookingCounts]:
    start, end = f.utc_range()
    local = "(booked_at AT TIME ZONE :tz)"
    hour = f"extract(hour FROM {local})"
    phone = "channel IN ('phone', 'ivr')"
    rows = session.execute(
        text(
            f"""SELECT date_trunc('{unit}', {local}) AS bucket, count(*),
              count(*) FILTER (WHERE channel = 'online'),
              count(*) FILTER (WHERE {phone}),
              count(*) FILTER (WHERE {phone} AND ({hour} >= {NIGHT_START_HOUR}
                                                  OR {hour} < {NIGHT_END_HOUR}))
            FROM bookings WHERE booked_at >= :start AND booked_at < :end GROUP BY 1"""
        ),
        {"tz": f.tz_name, "start": start, "end": end},
    )
    return {bucket: BookingCounts(int(a), int(b), int(c), int(d)) for bucket, a, b, c, d in rows}
