"""The holiday calendar on the admin page in a real browser: the administrator enters 2027,
is told exactly what is wrong with a 调休 day on a Monday, corrects it, and the hotline is
closed on 2027's New Year's Day (the desk on a database of its own: entering a year must not
change the hours other tests of the run see)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

import pytest
import redis
from sqlalchemy.orm import Session, sessionmaker

from backend.holiday_calendar.live import live_calendar
from backend.lines import LINES
from backend.localtime import zone
from backend.models.users import Role
from backend.settings import Settings
from tests.browser.test_desk_browser import log_in
from tests.db_support import ScratchDatabase, scratch_database
from tests.desk_browser import DeskServer, screenshot, serve_desk
from tests.desk_support import desk_settings, make_user

pytestmark = pytest.mark.browser
HOURS = next(spec.hours for spec in LINES if spec.code == "hotline")
NEW_YEAR = datetime(2027, 1, 1, 10, 0, tzinfo=zone("Asia/Shanghai"))  # a Friday


@pytest.fixture()
def own_desk(
    settings: Settings, redis_client: redis.Redis, redis_namespace: str
) -> Iterator[tuple[DeskServer, ScratchDatabase]]:
    with scratch_database(settings, "calendar_page") as db:
        server = serve_desk(desk_settings(db.settings, f"{redis_namespace}-calpage"), db.factory)
        yield server, db
        server.stop()


def hotline_opening(factory: sessionmaker[Session]) -> tuple[bool, int | None]:
    opening = HOURS.opening(NEW_YEAR, live_calendar(factory))
    return opening.open, opening.calendar_missing


def test_the_administrator_enters_next_years_holidays(
    own_desk: tuple[DeskServer, ScratchDatabase], new_page: object
) -> None:
    server, db = own_desk
    assert hotline_opening(db.factory) == (True, 2027)  # missing: open by weekday hours
    page = new_page()  # type: ignore[operator]
    log_in(page, server, make_user(db.factory, Role.ADMIN), "/admin")
    assert page.locator("nav >> text=系统管理").count() == 1
    page.wait_for_selector("#holiday-years tr[data-year='2026']")

    page.fill("#holiday-year", "2027")
    page.fill("#holiday-ranges", "元旦 2027-01-01 2027-01-03\n春节 2027-02-06 2027-02-13")
    page.fill("#holiday-workdays", "2027-02-22")
    page.click("#holiday-save")
    page.wait_for_selector("#holiday-error:not([hidden])")
    assert "调休上班日2027-02-22（星期一）不是周末" in (page.text_content("#holiday-error") or "")
    assert page.locator("#holiday-years tr[data-year='2027']").count() == 0

    page.fill("#holiday-workdays", "2027-02-20")
    page.click("#holiday-save")
    row = page.wait_for_selector("#holiday-years tr[data-year='2027']")
    assert "春节 2027-02-06 2027-02-13" in (row.text_content() or "")
    assert page.is_hidden("#holiday-error")
    screenshot(page, "holiday-calendar-entered")
    assert hotline_opening(db.factory) == (False, None)
