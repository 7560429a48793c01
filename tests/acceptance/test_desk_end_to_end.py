"""The whole stack with a person at the desk: a simulated caller rings 114 through the real
Asterisk, the controller's IVR and ACD route the call to a simulated agent's phone, and the
agent — in Chromium — sees the screen pop, books a slot, files a work order and wraps up,
while the supervisor's wallboard follows and the call's real recording plays in the page."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from backend.models.calls import CallRecord, Disposition, Recording, RecordingStatus
from backend.models.users import Role
from backend.personal_data import PersonalDataCipher
from backend.settings import Settings
from backend.speech.tts import prompt_seconds
from ivr.acd.service import AcdService
from tests.asterisk_fixtures import DID_114, SimulatedAgents, SimulatedCaller
from tests.browser.test_desk_browser import seed_hospital
from tests.desk_browser import SCREENSHOTS, DeskServer
from tests.desk_stack import log_in
from tests.desk_support import make_user

pytestmark = [pytest.mark.asterisk, pytest.mark.browser]


async def shot(page: Any, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(SCREENSHOTS / f"e2e-{name}.png"), full_page=True)


async def test_a_real_call_from_ring_to_wrap_up_at_the_desk(
    controller: AcdService,
    desk: DeskServer,
    async_new_page: Any,
    simulated_caller: SimulatedCaller,
    simulated_agents: SimulatedAgents,
    stack_settings: Settings,
    session_factory: sessionmaker[Session],
) -> None:
    cipher = PersonalDataCipher(stack_settings.data_key.get_secret_value())
    hospital = seed_hospital(session_factory, cipher)
    team = f"组{uuid.uuid4().hex[:4]}"
    extension = f"e{uuid.uuid4().hex[:8]}"
    agent = make_user(
        session_factory, Role.AGENT, team=team, interface=f"Local/{extension}@sim-agent"
    )
    boss = make_user(session_factory, Role.SUPERVISOR, team=team)
    # The agent's phone rings 2 s, then the agent talks for 40 s.
    await simulated_agents.configure(extension, ring=2, talk=40)

    board = await async_new_page()
    await log_in(board, desk, boss, "/supervisor")
    await board.wait_for_selector("body[data-live='1']")
    page = await async_new_page()
    await log_in(page, desk, agent, "/desk")
    await page.wait_for_selector("body[data-live='1']")
    await page.click("#btn-signin")
    await page.wait_for_selector("#agent-state[data-state='not_ready']")
    await page.click("#btn-ready")
    await page.wait_for_selector("#agent-state[data-state='ready']")
    row = board.locator(f"tr[data-agent='{agent.agent_id}'] td.state")
    await row.filter(has_text="空闲").wait_for()

    # A citizen rings 114 and presses 1 (booking) once the welcome has played.
    caller = f"139{uuid.uuid4().int % 10**8:08d}"
    welcome = await asyncio.to_thread(prompt_seconds, stack_settings, "114", "welcome")
    await simulated_caller.call(DID_114, caller_id=caller, dtmf="1", delay=welcome + 1.5, hold=90)

    masked = caller[:3] + "****" + caller[-4:]
    await page.locator("#pop-caller", has_text=masked).wait_for(timeout=60_000)
    assert (await page.inner_text("#pop-intent")).strip() not in ("", "—")
    # The IVR path as the agent reads it: the flow's Chinese names, not node ids.
    assert "主菜单" in await page.inner_text("#pop-ivr") or "语音导航" in await page.inner_text(
        "#pop-ivr"
    )
    assert "预约挂号排队" in await page.inner_text("#pop-ivr")
    await page.wait_for_selector("#agent-state[data-state='on_call']", timeout=20_000)
    await row.filter(has_text="通话").wait_for()
    await shot(page, "01-screen-pop-real-call")
    await shot(board, "02-wallboard-on-call")

    # While talking: book a slot for the caller and file a work order from the call.
    await page.fill("#hosp-q", hospital)
    await page.click("#hosp-form button")
    await page.locator("#hosp-list option", has_text=hospital).wait_for(state="attached")
    await page.select_option("#hosp-list", label=hospital)
    await page.locator("#dept-list option", has_text="内科").wait_for(state="attached")
    await page.select_option("#dept-list", label="内科")
    await page.click("#schedule-list button:not([disabled])")
    await page.click("#slot-list input[type=radio]")
    from backend.idcard import make_valid

    id_number = make_valid(
        f"1101051985{uuid.uuid4().int % 12 + 1:02d}15{uuid.uuid4().int % 900 + 100:03d}"
    )
    await page.fill("#patient-name", "张三")
    await page.fill("#patient-id", id_number)
    await page.locator("#id-check.ok").wait_for()
    await page.fill("#patient-phone", caller)
    await page.click("#btn-book")
    await page.wait_for_selector("#booking-code")
    assert await page.inner_text("#booking-code")
    await page.fill("#order-title", "来电咨询预约规则")
    await page.click("#btn-order")
    await page.wait_for_selector("#order-number")
    order_number = await page.inner_text("#order-number")
    assert order_number.startswith("GD")
    await shot(page, "03-booked-and-order-during-call")

    # The agent's phone hangs up after its talk time: wrap-up, then ready again.
    await page.wait_for_selector("#agent-state[data-state='wrap_up']", timeout=60_000)
    await row.filter(has_text="话后处理").wait_for()
    await page.fill("#wrapup-notes", "已预约并建单")
    await page.click("#btn-wrapup")
    await page.wait_for_selector("#agent-state[data-state='ready']", timeout=20_000)
    await row.filter(has_text="空闲").wait_for()
    await shot(page, "04-after-wrap-up")

    # The call record and its real recording.
    hashed = cipher.lookup_hash(caller)
    for _ in range(100):
        with session_factory() as db:
            record = db.scalar(select(CallRecord).where(CallRecord.caller_hash == hashed))
            recording = (
                db.get(Recording, record.recording_id) if record and record.recording_id else None
            )
            if record and recording and recording.status == RecordingStatus.COMPLETE:
                break
        await asyncio.sleep(0.3)
    assert record is not None and record.disposition == Disposition.ANSWERED
    assert record.agent_id == agent.agent_id and record.skill == "booking"
    assert record.talk_seconds == pytest.approx(40, abs=1.5)
    assert recording is not None and recording.status == RecordingStatus.COMPLETE

    # The supervisor finds it by agent and plays it in the page.
    await board.goto(desk.url + "/supervisor/recordings")
    await board.fill("#rec-agent", agent.agent_number)
    await board.click("#rec-search")
    await board.click("#recordings button[data-play]")
    for _ in range(100):
        if await board.locator("#player").evaluate("el => el.readyState") >= 1:
            break
        await asyncio.sleep(0.1)
    duration = await board.evaluate("document.getElementById('player').duration")
    assert duration == pytest.approx(recording.duration_seconds, abs=0.5)
    await shot(board, "05-supervisor-plays-real-recording")
