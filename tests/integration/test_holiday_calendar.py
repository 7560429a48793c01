"""The holiday calendar (issue 20): the administrator enters a year through the desk's API as
the admin page does, and the hotline's hours and the 接诉即办 deadlines change, in another
process's view too (the controller's, its own engine and cache); a bad year is refused whole
with every problem named; from 1 November a missing next year raises the wallboard alert."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date, datetime

import pytest
import redis
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from agent_desk.app import create_app
from backend.booking.context import BookingContext
from backend.booking.rules import cancel_deadline
from backend.db import make_engine, make_session_factory
from backend.holiday_calendar.store import entered_years
from backend.lines import LINES
from backend.localtime import zone
from backend.models.users import Role
from backend.settings import Settings
from backend.telephony.callback_bookings import CallbackBookings
from backend.workorders.composition import WorkOrders
from backend.workorders.deadlines import Stage
from callcenter.worker.app import create_celery
from callcenter.worker.calendar_tasks import CHECK_YEARS
from tests.db_support import ScratchDatabase, scratch_database
from tests.desk_support import LOCAL, audited, desk_settings, login, make_user

BJ = zone("Asia/Shanghai")
HOURS = next(spec.hours for spec in LINES if spec.code == "hotline")
YEAR_2027 = {
    "holidays": [
        {"name": "元旦", "first": "2027-01-01", "last": "2027-01-03"},
        {"name": "春节", "first": "2027-02-06", "last": "2027-02-13"},
    ],
    "workdays": ["2027-02-20"],
}


@dataclass
class Centre:
    db: ScratchDatabase
    settings: Settings
    desk: TestClient
    controller: sessionmaker[Session]  # another engine: the controller's process


@pytest.fixture()
def centre(settings: Settings, redis_client: redis.Redis, redis_namespace: str) -> Iterator[Centre]:
    with scratch_database(settings, "calendar") as db:
        desk = desk_settings(db.settings, f"{redis_namespace}-calendar")
        app = create_app(desk, session_factory=db.factory, redis_client=redis_client)
        controller = make_engine(db.settings, pool_size=2, max_overflow=0)
        with TestClient(app, client=LOCAL) as client:
            yield Centre(db, desk, client, make_session_factory(controller))
        controller.dispose()


def eventually(check: Callable[[], bool], timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


def hotline_open(calendar: object, moment: datetime) -> tuple[bool, int | None]:
    opening = HOURS.opening(moment, calendar)  # type: ignore[arg-type]
    return opening.open, opening.calendar_missing


def test_entering_a_year_changes_the_hotlines_hours_and_deadlines(centre: Centre) -> None:
    workorders = WorkOrders.from_settings(centre.settings, centre.controller)
    calendar = workorders.deadlines.calendar
    new_year_morning = datetime(2027, 1, 1, 10, 0, tzinfo=BJ)  # a Friday
    worked_saturday = datetime(2027, 2, 20, 10, 0, tzinfo=BJ)
    after_hours = datetime(2026, 12, 31, 19, 0, tzinfo=BJ)  # a Thursday evening

    # 2027 not entered: open by weekday hours, and it says so; deadlines Monday–Friday.
    assert hotline_open(calendar, new_year_morning) == (True, 2027)
    assert hotline_open(calendar, worked_saturday) == (False, 2027)
    assert hotline_open(calendar, datetime(2026, 10, 2, 10, 0, tzinfo=BJ)) == (False, None)
    due = workorders.deadlines.stage_due(Stage.DISPATCH, after_hours)
    assert due.astimezone(BJ) == datetime(2027, 1, 1, 18, 0, tzinfo=BJ)

    login(centre.desk, make_user(centre.db.factory, Role.SUPERVISOR))
    assert centre.desk.put("/api/admin/holidays/2027", json=YEAR_2027).status_code == 403
    centre.desk.post("/api/auth/logout")
    admin = make_user(centre.db.factory, Role.ADMIN)
    login(centre.desk, admin)
    listed = centre.desk.get("/api/admin/holidays").json()
    assert [y["year"] for y in listed["years"]] == [2025, 2026]  # seeded by the migration

    with ThreadPoolExecutor(2) as pool:  # the same year saved twice at once
        replies = list(pool.map(lambda _: centre.desk.put(
            "/api/admin/holidays/2027", json=YEAR_2027), range(2)))  # fmt: skip
    assert [r.status_code for r in replies] == [200, 200], replies[0].text

    assert eventually(lambda: hotline_open(calendar, new_year_morning) == (False, None))
    assert hotline_open(calendar, worked_saturday) == (True, None)
    due = workorders.deadlines.stage_due(Stage.DISPATCH, after_hours)
    assert due.astimezone(BJ) == datetime(2027, 1, 4, 18, 0, tzinfo=BJ)  # after 元旦
    listed = centre.desk.get("/api/admin/holidays").json()
    assert listed["years"][-1] == {"year": 2027, **YEAR_2027}
    assert len(audited(centre.db.factory, admin.username, "admin.holiday_year")) == 2


def test_a_wrong_year_is_refused_whole_with_each_problem(centre: Centre) -> None:
    login(centre.desk, make_user(centre.db.factory, Role.ADMIN))
    wrong = {
        "holidays": [
            {"name": "元旦", "first": "2027-01-01", "last": "2027-01-03"},
            {"name": "春节", "first": "2027-01-03", "last": "2027-01-05"},  # overlaps 元旦
            {"name": "国庆节", "first": "2027-10-01", "last": "2028-01-02"},  # leaves the year
            {"name": "清明节", "first": "2027-04-05", "last": "2027-04-03"},  # ends first
        ],
        "workdays": ["2027-02-22", "2027-01-02"],  # a Monday; a day of 元旦
    }
    reply = centre.desk.put("/api/admin/holidays/2027", json=wrong)
    assert reply.status_code == 422
    body = reply.json()
    assert body["error"] == "bad-holiday-calendar"
    for problem in ("元旦与春节的日期重叠", "国庆节（2027-10-01至2028-01-02）不在2027年内",
                    "清明节的结束日2027-04-03早于开始日2027-04-05",
                    "调休上班日2027-02-22（星期一）不是周末",
                    "2027-01-02既是假期又是调休上班日"):  # fmt: skip
        assert problem in body["message"]
    with centre.db.factory() as session:
        assert [entry.year for entry in entered_years(session)] == [2025, 2026]


def test_a_missing_next_year_is_warned_from_the_first_of_november(
    centre: Centre, redis_client: redis.Redis
) -> None:
    frozen = [datetime(2026, 10, 31, 12, 0, tzinfo=BJ)]
    app = create_celery(
        centre.settings,
        session_factory=centre.db.factory,
        key_prefix=f"{centre.settings.desk_redis_prefix}-beat",
        now=lambda: frozen[0].timestamp(),
    )
    assert app.conf.beat_schedule["calendar-check-years"]["task"] == CHECK_YEARS
    check = app.tasks[CHECK_YEARS]
    login(centre.desk, make_user(centre.db.factory, Role.ADMIN))

    def board() -> list[dict[str, object]]:
        reply = centre.desk.get("/api/supervisor/wallboard")
        assert reply.status_code == 200, reply.text
        return [a for a in reply.json()["alerts"] if a["code"] == "calendar:holidays"]

    assert check.apply().get() is None
    assert board() == []
    frozen[0] = datetime(2026, 11, 1, 7, 5, tzinfo=BJ)
    assert check.apply().get() == 2027
    [alert] = board()
    assert alert["level"] == "warning" and "2027年节假日安排尚未录入" in alert["message"]

    assert centre.desk.put("/api/admin/holidays/2027", json=YEAR_2027).status_code == 200
    assert check.apply().get() is None
    assert board() == []
    frozen[0] = datetime(2028, 1, 2, 9, 0, tzinfo=BJ)  # a year nobody entered has begun
    assert check.apply().get() == 2028
    assert board()[0]["level"] == "critical"


def test_booking_cancel_deadlines_and_callback_windows_read_the_entered_year(
    centre: Centre,
) -> None:
    # Built as the controller and the desk build them (another engine: another process).
    booking = BookingContext.from_settings(centre.settings, session_factory=centre.controller)
    evening = datetime(2026, 12, 31, 17, 0, tzinfo=BJ)  # Thursday, the hotline still open
    callbacks = CallbackBookings.from_settings(centre.settings, centre.controller,
                                               clock=lambda: evening)  # fmt: skip
    monday_visit = date(2027, 1, 4)

    def cancel_day() -> date:
        return cancel_deadline(booking.rules, booking.calendar, monday_visit).date()

    def offered_days() -> list[date]:
        return sorted({w.start.date() for w in callbacks.offer("hotline")})

    # 2027 not entered: Monday–Friday, 1 January counted as a working day (and logged).
    assert cancel_day() == date(2027, 1, 1)
    assert date(2027, 1, 1) in offered_days()

    login(centre.desk, make_user(centre.db.factory, Role.ADMIN))
    assert centre.desk.put("/api/admin/holidays/2027", json=YEAR_2027).status_code == 200

    assert eventually(lambda: cancel_day() == date(2026, 12, 31))  # before 元旦's three days
    days = offered_days()
    assert days[0] == date(2026, 12, 31) and date(2027, 1, 1) not in days, days
    assert date(2027, 1, 4) in days
