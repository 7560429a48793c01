"""The desk's 今日预约回电 panel in a real browser: today's callback windows, number masked."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, time, timedelta
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from backend.localtime import zone
from backend.models.users import Role
from backend.personal_data import PersonalDataCipher
from backend.settings import Settings
from backend.telephony.callback_bookings import CallbackBookings
from backend.telephony.callback_windows import CallbackWindow
from tests.browser.test_desk_browser import log_in
from tests.desk_browser import DeskServer
from tests.desk_support import make_user

pytestmark = pytest.mark.browser


def test_the_desk_lists_todays_callback_windows(
    desk_server: DeskServer, page: Any, session_factory: sessionmaker[Session], settings: Settings
) -> None:
    tz = zone(settings.timezone)
    # Today's last window, booked as the queue books it (past or not, it is today's).
    start = datetime.combine(datetime.now(tz).date(), time(23, 30), tz)
    cipher = PersonalDataCipher(settings.data_key.get_secret_value())
    booked = CallbackBookings.from_settings(settings, session_factory).book(
        CallbackWindow.starting(start),
        line="114",
        skill="booking",
        call_id=f"page-{uuid.uuid4().hex[:8]}",
        phone_enc=cipher.encrypt("13912345678"),
        phone_hash=cipher.lookup_hash("13912345678"),
    )
    assert booked.window_end - booked.window_start == timedelta(minutes=30)
    assert booked.window_start == start.astimezone(UTC)
    log_in(page, desk_server, make_user(session_factory, Role.AGENT), "/desk")
    row = page.locator(f"#scheduled-callbacks tr[data-task='{booked.task_id}']")
    row.wait_for()
    assert row.inner_text().split("\t") == ["23:30–00:00", "114", "139****5678", "待回电"]
