"""The async fixtures (for tests that share the session loop with the real-Asterisk ones):
a hospital operator logs in and lands on the page of the role, in Chinese, with UTF-8."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from backend.models.users import Role
from tests.desk_browser import SCREENSHOTS, DeskServer
from tests.desk_support import make_user

pytestmark = pytest.mark.browser


async def test_hospital_operator_logs_in_with_the_async_browser(
    desk_server: DeskServer, async_new_page: Any, session_factory: sessionmaker[Session]
) -> None:
    user = make_user(session_factory, Role.HOSPITAL)
    page = await async_new_page()
    response = await page.goto(desk_server.url + "/login")
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    await page.fill("#username", user.username)
    await page.fill("#password", user.password)
    await page.click("#login-submit")
    await page.wait_for_url("**/hospital")
    assert "医院操作员" in await page.inner_text("header")
    assert "坐席工作台" not in await page.inner_text("nav")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(SCREENSHOTS / "11-hospital-operator.png"), full_page=True)
