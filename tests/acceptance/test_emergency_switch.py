"""The emergency message switch end to end: a supervisor switches a message on in the
browser (Chromium) for the 114 line, diverting to the general queue; the desk's live feed
alerts the wallboard; the next call through Asterisk and the wired controller hears the
message first (it is on the call's IVR path) and is handed to the general queue; the
switching is audited and the message is gone from the controller's read at its end time."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from backend.audit import Actor
from backend.db import transaction
from backend.emergency import cancel
from backend.models.audit import AuditRecord
from backend.models.emergency import EmergencyMessage
from backend.models.users import Role
from backend.settings import Settings
from ivr.flows.emergency_adapter import SqlEmergencyBoard
from ivr.flows.ports import CallInfo, Channel, QueueOutcome, QueueStatus
from ivr.journal import ivr_path
from ivr.main import build_controller
from tests.asterisk_fixtures import DID_114, AgiRoutes, SimulatedCaller
from tests.desk_browser import DeskServer
from tests.desk_support import DeskUser, ensure_skill, fresh_totp_code, make_user
from tests.outbound_support import MovableClock

pytestmark = [pytest.mark.asterisk, pytest.mark.browser]

NOTICE = "各位来电者请注意，今天挂号系统临时维护，正在为您转接人工服务。"


@dataclass
class HandoffQueue:
    """The ACD's hand-off port, recording who was handed to which skill."""

    handoffs: list[tuple[str, str]] = field(default_factory=list)  # (call id, skill)
    arrived: asyncio.Event = field(default_factory=asyncio.Event)

    async def enter_queue(
        self, session: Channel, call: CallInfo, skill: str, priority: int, *, elderly: bool = False
    ) -> QueueOutcome:
        self.handoffs.append((call.call_id, skill))
        self.arrived.set()
        return QueueOutcome(QueueStatus.ANSWERED, caller_on_line=False)


async def sign_in(page: Any, server: DeskServer, user: DeskUser) -> None:
    await page.goto(server.url + "/login")
    await page.fill("#username", user.username)
    await page.fill("#password", user.password)
    await page.click("#login-submit")
    assert user.totp_secret  # supervisors have a second factor
    await page.wait_for_url("**/login/totp")
    await page.fill("#totp-code", fresh_totp_code(user.totp_secret))
    await page.click("#totp-form button")
    await page.wait_for_url("**/supervisor")


async def test_a_switched_on_message_is_heard_by_the_next_caller_who_is_diverted(
    desk_server: DeskServer,
    async_new_page: Any,
    session_factory: sessionmaker[Session],
    settings: Settings,
    agi_routes: AgiRoutes,
    simulated_caller: SimulatedCaller,
) -> None:
    ensure_skill(session_factory, "general", "114")
    supervisor = make_user(session_factory, Role.SUPERVISOR)
    page = await async_new_page()
    await sign_in(page, desk_server, supervisor)
    await page.wait_for_function("document.body.dataset.live === '1'")  # the feed is up
    await page.select_option("#em-scope", "line")
    await page.fill("#em-target", "114")
    await page.select_option("#em-mode", "divert")
    await page.fill("#em-skill", "general")
    await page.fill("#em-minutes", "10")
    await page.fill("#em-text", NOTICE)
    await page.click("#btn-emergency")
    await page.locator("#emergencies li.emergency", has_text=NOTICE).wait_for()
    await page.locator("#toast", has_text="紧急通知已启用").wait_for()  # the live alert
    with session_factory() as db:
        message = db.scalars(
            select(EmergencyMessage).where(EmergencyMessage.created_by == supervisor.username)
        ).one()
    try:
        queue = HandoffQueue()
        controller = build_controller(settings, session_factory, queue)
        agi_routes.set("114", controller.handler("114"))
        await simulated_caller.call(DID_114, caller_id="13700000077", hold=25)
        await asyncio.wait_for(queue.arrived.wait(), 40)
        ((call_id, skill),) = queue.handoffs
        assert skill == "general"
        with session_factory() as db:
            path = ivr_path(db, call_id)
            audit = db.scalars(
                select(AuditRecord).where(AuditRecord.target == f"emergency:{message.id}")
            ).one()
        heard = [(s.node, s.kind, s.outcome) for s in path[:2]]
        assert heard == [
            ("emergency:line", "emergency", "divert"),
            ("emergency_divert", "queue", "handed_to_queue"),
        ]
        assert path[0].details["message_id"] == message.id
        assert (audit.action, audit.actor) == ("emergency.activated", supervisor.username)
        assert audit.details["mode"] == "divert" and audit.details["target"] == "114"

        # It expires by itself: the controller's read finds it up to its end, not at it.
        clock = MovableClock(message.ends_at - timedelta(seconds=1))
        board = SqlEmergencyBoard(session_factory, clock)
        assert (await board.active("line", "114")) is not None
        clock.at = message.ends_at
        assert await board.active("line", "114") is None
    finally:
        with transaction(session_factory) as db:  # later tests' 114 calls hear nothing
            cancel(db, message.id, Actor("test"), datetime.now(UTC))
