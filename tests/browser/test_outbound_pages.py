"""The desk's outbound pages in a real browser: the dial box says why a number is refused
before anything rings; a work order's page lists its 回访 call, plays its recording through
the desk, and records the 回访 result with that call's recording (nothing typed in)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from backend.models.users import Role
from backend.settings import Settings
from backend.workorders.calls import CallAttempt
from backend.workorders.composition import workorder_service
from backend.workorders.demo_data import DESK, TO_ACCEPTED
from backend.workorders.service import Actor, OrderDraft
from backend.workorders.workflow import State
from tests.browser.test_desk_browser import log_in
from tests.desk_browser import DeskServer, screenshot
from tests.desk_support import make_user
from tests.recording_support import recorded_call

pytestmark = pytest.mark.browser


def test_the_dial_box_says_why_a_number_is_refused(
    desk_server: DeskServer, page: Any, session_factory: sessionmaker[Session]
) -> None:
    agent = make_user(session_factory, Role.AGENT)
    log_in(page, desk_server, agent, "/desk")
    page.click("#btn-signin")
    page.wait_for_selector("#agent-state[data-state='not_ready']")
    for number, reason in [
        ("+1 650 253 0000", "不允许拨打国际及港澳台号码"),
        ("120", "紧急求助号码"),
        ("1380013", "号码位数不正确"),
    ]:
        page.fill("#dial-number", number)
        page.click("#btn-dial")
        page.locator("#dial-result.bad", has_text=reason).wait_for()
    screenshot(page, "outbound-01-dial-refused")


def test_the_order_page_plays_the_revisit_recording_and_records_the_result(
    desk_server: DeskServer,
    page: Any,
    session_factory: sessionmaker[Session],
    settings: Settings,
    recordings_root: Path,
) -> None:
    agent = make_user(session_factory, Role.AGENT)
    now = datetime.now(UTC) - timedelta(hours=1)
    call_id = f"revisit-{uuid.uuid4().hex[:8]}"
    relative = f"2026/11/30/{call_id}.wav"
    recorded_call(session_factory, settings, recordings_root, call_id, 2.0, "2026/11/30")
    with session_factory() as db:
        service = workorder_service(db, settings)
        order = service.create(
            OrderDraft(title="异地就医备案咨询", caller_phone="13901234567", line="hotline"),
            DESK,
            now,
        )
        for action, payload, actor in TO_ACCEPTED:
            now += timedelta(minutes=5)
            service.act(order.id, action, payload, actor, now)
        # The 回访 call as the controller links it when it ends answered.
        answered = CallAttempt(call_id, "callback", True, "已接通", relative)
        service.call_attempted(order.id, answered, Actor(agent.username), now)
        db.commit()
        order_id = order.id

    log_in(page, desk_server, agent, "/desk")
    page.goto(f"{desk_server.url}/desk/orders/{order_id}")
    page.locator("#order-state", has_text="待回访").wait_for()
    assert page.locator("#order-facts").inner_text().count("139****4567") == 1
    page.locator("#order-calls li", has_text="回访电话").locator("button[data-play]").click()
    # Polled: the page's CSP (script-src 'self') refuses wait_for_function's eval.
    for _ in range(100):
        if page.locator("#order-player").evaluate("el => el.readyState") >= 1:
            break
        page.wait_for_timeout(100)
    assert page.locator("#order-player").evaluate("el => el.duration") == pytest.approx(
        2.0, abs=0.1
    )
    screenshot(page, "outbound-02-order-revisit-recording")

    page.check("input[name='resolved'][value='true']")
    page.check("input[name='satisfied'][value='true']")
    page.click("#btn-revisit-done")
    page.locator("#order-state", has_text="已回访").wait_for()
    with session_factory() as db:
        done = workorder_service(db, settings).get(order_id)
        assert done.state == State.CALLED_BACK.value and done.callback_recording == relative
