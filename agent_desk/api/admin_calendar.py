"""The holiday calendar on the admin page: the administrator enters each year's State Council
放假安排 (named holiday ranges, 调休 working weekend days) when it is published.

A year is checked whole (``backend/holiday_calendar/year.py``: 422 listing every problem,
nothing written) and replaced whole; the change is audited under the administrator's name
and this process's calendar reloaded at once (the others within a second, ``live.py``).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated

from fastapi import APIRouter, Path
from pydantic import BaseModel, Field

from agent_desk.deps import AdminUser, StateDep
from agent_desk.errors import error_responses
from backend.db import transaction
from backend.holiday_calendar.live import calendar_source, engine_of
from backend.holiday_calendar.reminder import missing_year
from backend.holiday_calendar.store import entered_years, save_year
from backend.holiday_calendar.year import FIRST_YEAR, LAST_YEAR, HolidayRange, YearEntry
from backend.localtime import zone

Year = Annotated[int, Path(ge=FIRST_YEAR, le=LAST_YEAR)]

router = APIRouter(
    prefix="/api/admin/holidays",
    tags=["系统管理"],
    responses=error_responses(401, 403, 422),
)


class HolidayIn(BaseModel):
    name: str = Field(max_length=32)
    first: date
    last: date


class YearIn(BaseModel):
    holidays: list[HolidayIn] = Field(max_length=40)
    workdays: list[date] = Field(default_factory=list, max_length=40)


class YearOut(YearIn):
    year: int


class CalendarOut(BaseModel):
    years: list[YearOut]
    missing_year: int | None  # the year the wallboard's alert asks for today, if any
    missing_message: str = ""


def _out(entry: YearEntry) -> YearOut:
    holidays = [HolidayIn(name=h.name, first=h.first, last=h.last) for h in entry.holidays]
    return YearOut(year=entry.year, holidays=holidays, workdays=list(entry.workdays))


@router.get("", summary="已录入的节假日安排")
def list_years(state: StateDep, user: AdminUser) -> CalendarOut:
    with transaction(state.session_factory) as db:
        years = entered_years(db)
    today = datetime.now(zone(state.settings.timezone)).date()
    missing = missing_year(today, {entry.year for entry in years})
    return CalendarOut(
        years=[_out(entry) for entry in years],
        missing_year=missing.year if missing else None,
        missing_message=missing.message if missing else "",
    )


@router.put("/{year}", summary="录入或修改一年的节假日安排（国务院放假安排）")
def put_year(year: Year, body: YearIn, state: StateDep, user: AdminUser) -> YearOut:
    entry = YearEntry(
        year,
        tuple(HolidayRange(h.name, h.first, h.last) for h in body.holidays),
        tuple(body.workdays),
    )
    with transaction(state.session_factory) as db:
        save_year(db, entry, user.actor, datetime.now(UTC))
    calendar_source(engine_of(state.session_factory)).invalidate()
    return _out(entry)
