"""The years of the holiday calendar in PostgreSQL (``holiday_years``), each change audited.

A year is written whole by one ``INSERT … ON CONFLICT DO UPDATE``: two administrators saving
the same year at once both succeed, the later one wins, and no reader sees half a year.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from backend.audit import Actor, record_audit
from backend.holiday_calendar.year import HolidayRange, YearEntry, check_year
from backend.models.calendar import HolidayYear

Stamp = tuple[int, int]  # (years, sum of revisions): changes whenever any year does


def _entry(row: HolidayYear) -> YearEntry:
    holidays = tuple(
        HolidayRange(h["name"], date.fromisoformat(h["first"]), date.fromisoformat(h["last"]))
        for h in row.holidays
    )
    return YearEntry(row.year, holidays, tuple(date.fromisoformat(d) for d in row.workdays))


def entered_years(db: Session) -> list[YearEntry]:
    rows = db.scalars(select(HolidayYear).order_by(HolidayYear.year))
    return [_entry(row) for row in rows]


def year_entry(db: Session, year: int) -> YearEntry | None:
    row = db.get(HolidayYear, year)
    return _entry(row) if row is not None else None


def stamp(conn: Connection | Session) -> Stamp:
    count, total = conn.execute(
        select(func.count(), func.coalesce(func.sum(HolidayYear.revision), 0))
    ).one()
    return int(count), int(total)


def _columns(entry: YearEntry) -> dict[str, Any]:
    return {
        "holidays": [
            {"name": h.name.strip(), "first": h.first.isoformat(), "last": h.last.isoformat()}
            for h in sorted(entry.holidays, key=lambda h: h.first)
        ],
        "workdays": [day.isoformat() for day in sorted(entry.workdays)],
    }


def save_year(db: Session, entry: YearEntry, actor: Actor, now: datetime) -> YearEntry:
    """Enter or replace one year (checked first: ``InvalidHolidayYear`` writes nothing)."""
    check_year(entry)
    columns = _columns(entry)
    values = columns | {"entered_by": actor.username, "entered_at": now}
    statement = insert(HolidayYear).values(year=entry.year, revision=1, **values)
    db.execute(
        statement.on_conflict_do_update(
            index_elements=[HolidayYear.year],
            set_=values | {"revision": HolidayYear.revision + 1},
        )
    )
    record_audit(db, actor, "admin.holiday_year", f"holiday_year:{entry.year}", now, columns)
    return entry
