"""Onboarding a hospital on the admin page in a real browser (issue 21): the administrator
adds a hospital, issues its key, rotates it; the hospital's integrator (the reference
client) pushes with the new key, accepted, and with the old one, refused; the hospital's page
then shows both pushes with their answers. The city 12345 platform's key is issued and
rotated on the same page."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from backend.booking.hospital_client import HospitalClient
from backend.models.users import Role
from tests.browser.test_desk_browser import log_in
from tests.desk_browser import DeskServer, screenshot
from tests.desk_support import make_user
from tests.onboarding_support import one_session

pytestmark = pytest.mark.browser


def shown_key(page: Any) -> tuple[str, str]:
    page.wait_for_selector("#onboard-secret:not([hidden])")
    key_id = page.text_content("#onboard-secret-key-id") or ""
    secret = page.text_content("#onboard-secret-value") or ""
    assert key_id and secret
    return key_id, secret


def test_the_administrator_adds_a_hospital_and_rotates_its_key(
    desk_server: DeskServer, session_factory: sessionmaker[Session], new_page: Any
) -> None:
    code = f"br{uuid.uuid4().hex[:8]}"
    page = new_page()
    page.on("dialog", lambda dialog: dialog.accept())  # "rotate? the old key stops at once"
    log_in(page, desk_server, make_user(session_factory, Role.ADMIN), "/admin")

    page.fill("#onboard-code", code)
    page.fill("#onboard-name", "北京世纪坛医院")
    page.fill("#onboard-district", "海淀区")
    page.click("#onboard-add")
    page.wait_for_selector(f"#onboard-hospitals tr[data-code='{code}']")
    page.wait_for_selector("#onboard-detail:not([hidden])")
    assert code in (page.text_content("#onboard-title") or "")
    assert page.text_content("#onboard-key-id") == "未签发"

    page.click("#onboard-issue")
    old_id, old_secret = shown_key(page)
    page.click("#onboard-secret-hide")
    assert page.is_hidden("#onboard-secret") and page.text_content("#onboard-secret-value") == ""
    page.wait_for_selector("#onboard-rotate:not([hidden])")
    page.click("#onboard-rotate")
    new_id, new_secret = shown_key(page)
    assert new_id != old_id and new_secret != old_secret
    page.wait_for_function(
        "id => document.getElementById('onboard-key-id').textContent === id", arg=new_id
    )

    accepted = HospitalClient(desk_server.url, new_id, new_secret).push_schedules(
        [one_session("B-1")]
    )
    assert accepted.ok and accepted.body["created"] == 1, accepted
    refused = HospitalClient(desk_server.url, old_id, old_secret).push_schedules(
        [one_session("B-2")]
    )
    assert refused.status == 401 and refused.body["error"] == "bad-signature", refused

    page.click("#onboard-refresh")
    page.wait_for_selector("#onboard-pushes tr.push-refused")
    rows = page.locator("#onboard-pushes tbody tr").all_text_contents()
    assert len(rows) == 2, rows
    assert "被拒绝 401" in rows[0] and old_id in rows[0] and "旧密钥" in rows[0], rows
    assert "已接受 200" in rows[1] and "created=1" in rows[1] and new_id in rows[1], rows
    screenshot(page, "hospital-onboarding")

    client = f"12345-{uuid.uuid4().hex[:6]}"  # the city platform's key, on the same page
    page.click("#onboard-secret-hide")
    page.fill("#platform-name", client)
    page.click("#platform-form button[type='submit']")
    first_id, _ = shown_key(page)
    page.click("#onboard-secret-hide")
    rotate = page.wait_for_selector(
        f"#platform-clients button[data-platform='{client}'][data-action='rotate']"
    )
    rotate.click()
    rotated_id, _ = shown_key(page)
    assert rotated_id != first_id and rotated_id.startswith("cp-")
