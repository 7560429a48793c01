"""The monthly confirmation sheet: successful bookings of a month and what they cost.

Every booking counts in the month it was made (Beijing time), whatever became of it later: it
succeeded when it was made, and a later cancellation (by the patient or a stopped session)
does not undo the platform's work. ``reports.booking_stats`` counts the same way, so the sheet
and the reports agree. Phone means agents and the IVR.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from backend.booking.rules import BookingRules
from backend.booking.views import ConfirmationSheet
from backend.models.booking import Booking


def month_bounds(rules: BookingRules, year: int, month: int) -> tuple[datetime, datetime]:
    start = datetime(year, month, 1, tzinfo=rules.tz)
    nxt = date(year + (month == 12), month % 12 + 1, 1)
    return start, datetime(nxt.year, nxt.month, 1, tzinfo=rules.tz)


def confirmation_sheet(
    session: Session, rules: BookingRules, year: int, month: int
) -> ConfirmationSheet:
    if not 1 <= month <= 12:
        raise ValueError("month must be 1..12")
    start, end = month_bounds(rules, year, month)
    online_case = case((Booking.channel == "online", 1), else_=0)
    total, online = session.execute(
        select(func.count(), func.coalesce(func.sum(online_case), 0)).where(
            Booking.booked_at >= start, Booking.booked_at < end
        )
    ).one()
    phone = int(total) - int(online)
    amount_online = rules.price_online * int(online)
    amount_phone = rules.price_phone * phone
    cents = Decimal("0.01")
    return ConfirmationSheet(
        year=year,
        month=month,
        total=int(total),
        online=int(online),
        phone=phone,
        price_online=str(rules.price_online),
        price_phone=str(rules.price_phone),
        amount_online=str(amount_online.quantize(cents)),
        amount_phone=str(amount_phone.quantize(cents)),
        amount_total=str((amount_online + amount_phone).quantize(cents)),
    )
