"""Queue settings without a restart, on the real stack: while the controller serves calls, an
administrator makes the booking queue overflow to the general one on the admin page
(Chromium); the next 114 caller who presses 1 is answered by an agent who has only the
general skill, which only the new setting allows."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest
import redis
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from backend.acd.model import AgentProfile
from backend.acd.skill_changes import announce_skills_changed
from backend.acd.states import AgentState
from backend.audit import Actor
from backend.db import transaction
from backend.models.agents import Skill
from backend.models.calls import CallRecord, Disposition
from backend.models.users import Role
from backend.personal_data import PersonalDataCipher
from backend.settings import Settings
from backend.speech.tts import prompt_seconds
from backend.telephony.skills import update_skill
from ivr.acd.service import AcdService
from tests.asterisk_fixtures import DID_114, SimulatedAgents, SimulatedCaller
from tests.desk_browser import DeskServer, async_pages
from tests.desk_stack import log_in
from tests.desk_support import make_user

pytestmark = [pytest.mark.asterisk, pytest.mark.browser]

PAGE_TIMEOUT_MS = 60_000


async def test_an_overflow_set_on_the_admin_page_routes_the_next_call(
    controller: AcdService,
    desk: DeskServer,
    async_browser: Any,
    simulated_caller: SimulatedCaller,
    simulated_agents: SimulatedAgents,
    stack_settings: Settings,
    session_factory: sessionmaker[Session],
) -> None:
    with session_factory() as db:
        booking = db.scalar(select(Skill).where(Skill.code == "booking"))
        assert booking is not None
        before = {"overflow_skill": booking.overflow_skill,
                  "overflow_after_seconds": booking.overflow_after_seconds}  # fmt: skip
    with transaction(session_factory) as db:  # no overflow to start with
        update_skill(db, "booking", {"overflow_skill": None}, Actor("test", "127.0.0.1"))
    await _applied(controller, None)
    extension = f"g{uuid.uuid4().hex[:8]}"
    agent = make_user(session_factory, Role.AGENT, interface=f"Local/{extension}@sim-agent")
    assert agent.agent_id is not None
    interface = await simulated_agents.configure(extension, ring=1, talk=5)
    await controller.store.register_agent(
        AgentProfile(agent.agent_id, agent.agent_number, interface, {"general": 5})
    )
    await controller.store.change_state(agent.agent_id, AgentState.READY, actor="test")
    try:
        # A page of its own with a patient timeout: the controller shares this test's event
        # loop and the machine is loaded, so the first page load may take its time.
        async for new_page in async_pages(async_browser, PAGE_TIMEOUT_MS):
            await _set_overflow_on_the_admin_page(await new_page(), desk, session_factory)
        await _applied(controller, "general")  # the running controller, not restarted

        caller = f"139{uuid.uuid4().int % 10**8:08d}"
        welcome = await asyncio.to_thread(prompt_seconds, stack_settings, "114", "welcome")
        await simulated_caller.call(DID_114, caller_id=caller, dtmf="1", delay=welcome + 1.5,
                                    hold=40)  # fmt: skip
        record = await _answered_record(stack_settings, session_factory, caller)
        assert record.disposition == Disposition.ANSWERED
        assert record.agent_id == agent.agent_id  # a general-only agent: by the overflow
    finally:
        with transaction(session_factory) as db:
            update_skill(db, "booking", before, Actor("test", "127.0.0.1"))
        with redis.Redis.from_url(stack_settings.redis_url) as client:
            announce_skills_changed(client, stack_settings.desk_redis_prefix, "booking")


async def _set_overflow_on_the_admin_page(
    admin: Any, desk: DeskServer, session_factory: sessionmaker[Session]
) -> None:
    await log_in(admin, desk, make_user(session_factory, Role.ADMIN), "/admin")
    row = "[data-skill='booking']"
    await admin.select_option(f"select{row}[data-field='overflow_skill']", "general")
    await admin.fill(f"input{row}[data-field='overflow_after_seconds']", "0")
    await admin.click("button[data-save='booking']")
    await admin.locator("#toast", has_text="已保存").wait_for()


async def _applied(controller: AcdService, overflow: str | None) -> None:
    async def wait() -> None:
        while controller.store.skills["booking"].overflow_skill != overflow:
            await asyncio.sleep(0.1)

    await asyncio.wait_for(wait(), 60)


async def _answered_record(
    settings: Settings, factory: sessionmaker[Session], caller: str
) -> CallRecord:
    hashed = PersonalDataCipher(settings.data_key.get_secret_value()).lookup_hash(caller)
    for _ in range(600):
        with factory() as db:
            record = db.scalar(select(CallRecord).where(CallRecord.caller_hash == hashed))
            if record is not None and record.agent_id is not None:
                return record
        await asyncio.sleep(0.2)
    raise AssertionError("the call was not answered by an agent")
