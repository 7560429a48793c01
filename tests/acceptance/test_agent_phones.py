"""Agents' phones on the real Asterisk, which reads them from PostgreSQL: an administrator
creates agent 1050 on the admin page (Chromium) and its endpoint exists as soon as the page
shows the secret; a SIP UA (SIPp) registers with that secret, while a wrong secret and agent
1051's secret are refused. A disabled agent's phone is gone; a rotated secret replaces the old
one; a phone outside CC_PHONE_PERMIT is refused. Floods: test_agent_phone_flood.py."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from backend.models.users import Role
from backend.settings import Settings
from ivr.pbx.instance import AsteriskInstance
from tests.browser.test_desk_browser import log_in
from tests.desk_browser import DeskServer, screenshot
from tests.desk_support import login, make_user
from tests.sip.register import register

pytestmark = [pytest.mark.asterisk, pytest.mark.browser]


def sip(settings: Settings) -> tuple[str, int]:
    return settings.sip_bind, settings.sip_port


def endpoint_exists(asterisk: AsteriskInstance, number: str) -> bool:
    return f"Endpoint:  {number}" in asterisk.cli(f"pjsip show endpoint {number}")


def security_log(
    asterisk: AsteriskInstance, written: Callable[[list[str]], bool], offset: int = 0
) -> list[str]:
    """The lines of Asterisk's security log (res_security_log) from byte ``offset``. Its
    logger thread writes in order but after the answer has gone out: wait (10 s at most)
    until ``written(lines)`` says the lines the test looks for are there."""
    deadline = time.monotonic() + 10
    while True:
        with open(asterisk.dir / "log" / "security.log", "rb") as log:
            log.seek(offset)
            lines = log.read().decode().splitlines()
        if written(lines) or time.monotonic() > deadline:
            return lines
        time.sleep(0.2)


def security_events(asterisk: AsteriskInstance, event: str, account: str) -> list[str]:
    """The security log's lines for one event and account (waiting for the first)."""

    def matching(lines: list[str]) -> list[str]:
        wanted = (f'SecurityEvent="{event}"', f'AccountID="{account}"')
        return [line for line in lines if all(part in line for part in wanted)]

    return matching(security_log(asterisk, lambda lines: bool(matching(lines))))


def create_on_admin_page(page: Any, number: str, name: str) -> dict[str, str]:
    """Fill in the admin page's new-agent form; returns the phone account it shows once."""
    page.fill("#agent-number", number)
    page.fill("#agent-name", name)
    page.fill("#agent-team", "114")
    page.fill("#agent-skills", "booking=8")
    page.select_option("#agent-phone-kind", "desk")
    page.click("#agent-create")
    page.wait_for_selector("#phone-secret:not([hidden])")
    page.wait_for_selector(f"#agents-admin tr[data-number='{number}']")
    shown = {
        "username": page.inner_text("#secret-username"),
        "password": page.inner_text("#secret-password"),
        "domain": page.inner_text("#secret-domain"),
    }
    page.click("#secret-hide")
    return shown


def test_administrator_creates_agent_1050_on_the_admin_page_and_its_phone_registers(
    asterisk: AsteriskInstance,
    settings: Settings,
    desk_server: DeskServer,
    new_page: Any,
    session_factory: sessionmaker[Session],
) -> None:
    page = new_page()
    log_in(page, desk_server, make_user(session_factory, Role.ADMIN), "/admin")
    page.wait_for_selector("#agents-admin")
    assert not endpoint_exists(asterisk, "1050")

    phone = create_on_admin_page(page, "1050", "赵坐席")
    # No reload, no wait: the row the page's request committed is the endpoint.
    shown = asterisk.cli("pjsip show endpoint 1050")
    assert "Endpoint:  1050" in shown and "InAuth:  1050/1050" in shown
    assert phone["username"] == "1050" and phone["domain"] == settings.effective_phone_domain
    other = create_on_admin_page(page, "1051", "钱坐席")
    screenshot(page, "agent-phones-admin")
    assert page.inner_text("#secret-password") == ""  # hidden again, not left on screen

    accepted = register(sip(settings), "1050", phone["password"])
    assert accepted.status == 200, accepted.sipp_output
    assert "sip:1050@127.0.0.1" in asterisk.cli("pjsip show aor 1050")
    wrong = register(sip(settings), "1050", phone["password"] + "x")
    assert wrong.status == 401
    # An unknown 工号 is challenged like a real one: same answer, same realm.
    unknown = register(sip(settings), "1099", phone["password"])
    assert unknown.status == 401
    assert accepted.realms == wrong.realms == unknown.realms == [settings.sip_realm]
    assert register(sip(settings), "1050", other["password"]).status == 401
    assert register(sip(settings), "1051", other["password"]).status == 200

    # Bad input on the page gets its clear message and creates nothing.
    page.fill("#agent-number", "10a5")
    page.fill("#agent-name", "错误工号")
    page.click("#agent-create")
    page.locator("#toast", has_text="工号").wait_for()
    page.fill("#agent-number", "1050")
    page.click("#agent-create")
    page.locator("#toast", has_text="已存在").wait_for()

    # The page's other buttons: rotate 1051's secret (shown once), then disable 1051.
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("button[data-rotate='1051']")
    page.wait_for_selector("#phone-secret:not([hidden])")
    rotated = page.inner_text("#secret-password")
    assert rotated and rotated != other["password"]
    assert register(sip(settings), "1051", other["password"]).status == 401
    assert register(sip(settings), "1051", rotated).status == 200
    page.click("button[data-agent-active='1051']")
    page.wait_for_selector("button[data-agent-active='1051'][data-to='true']")
    assert not endpoint_exists(asterisk, "1051")
    assert register(sip(settings), "1051", rotated).status == 401


def create_by_api(client: TestClient, number: str, **extra: Any) -> dict[str, Any]:
    reply = client.post(
        "/api/admin/agents",
        json={"number": number, "name": "测试坐席", "skills": {"booking": 5}, **extra},
    )
    assert reply.status_code == 201, reply.text
    created: dict[str, Any] = reply.json()
    return created


def new_number() -> str:
    return str(300000 + uuid.uuid4().int % 600000)


def test_disabled_agents_phone_is_gone_and_refused_at_once(
    asterisk: AsteriskInstance,
    settings: Settings,
    desk_client: TestClient,
    session_factory: sessionmaker[Session],
) -> None:
    login(desk_client, make_user(session_factory, Role.ADMIN))
    number = new_number()
    secret = create_by_api(desk_client, number)["phone"]["password"]
    assert register(sip(settings), number, secret).status == 200

    desk_client.patch(f"/api/admin/agents/{number}", json={"active": False})
    assert not endpoint_exists(asterisk, number)
    assert register(sip(settings), number, secret).status == 401

    desk_client.patch(f"/api/admin/agents/{number}", json={"active": True})
    assert endpoint_exists(asterisk, number)
    assert register(sip(settings), number, secret).status == 200


def test_rotated_secret_works_and_the_old_one_no_longer_does(
    settings: Settings, desk_client: TestClient, session_factory: sessionmaker[Session]
) -> None:
    login(desk_client, make_user(session_factory, Role.ADMIN))
    number = new_number()
    old = create_by_api(desk_client, number)["phone"]["password"]
    new = desk_client.post(f"/api/admin/agents/{number}/phone-secret").json()["password"]
    assert register(sip(settings), number, old).status == 401
    assert register(sip(settings), number, new).status == 200


def test_phone_outside_the_permitted_networks_is_forbidden(
    asterisk: AsteriskInstance,
    settings: Settings,
    desk_client: TestClient,
    session_factory: sessionmaker[Session],
) -> None:
    # The test settings permit 127.0.0.1/32 only; 127.0.0.2 is loopback too, but outside.
    assert settings.phone_permit == "127.0.0.1/32"
    login(desk_client, make_user(session_factory, Role.ADMIN))
    number = new_number()
    secret = create_by_api(desk_client, number)["phone"]["password"]
    outside = register(sip(settings), number, secret, local_ip="127.0.0.2")
    # Asterisk answers an ACL refusal as it answers a wrong secret (an artificial challenge,
    # then 401), so a scanner learns nothing; its security log names the cause.
    assert outside.status == 401, outside.sipp_output
    refusals = security_events(asterisk, "FailedACL", number)
    assert refusals and all("IPV4/UDP/127.0.0.2/" in line for line in refusals)
    assert register(sip(settings), number, secret).status == 200
