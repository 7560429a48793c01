"""The whole stack for tests with people at the desk: the controller (IVR flows, ACD, transfers)
on the session's Asterisk and AGI port, and the desk served on its own port, both in an ACD
namespace of the test's own, so agents other tests left ready cannot take its calls.

Registered in tests/conftest.py ``pytest_plugins``: fixtures ``stack_settings``, ``desk`` and
``controller``; ``log_in`` signs a user in through the login page.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
import redis.asyncio as aioredis
from sqlalchemy.orm import Session, sessionmaker

from backend.acd.skills import skill_configs
from backend.ami.client import AmiClient
from backend.ami.users import AmiUser
from backend.settings import Settings
from backend.speech.tts import TtsRenderer
from ivr.acd.service import AcdService, build_acd
from ivr.main import build_controller
from ivr.transfer import TRANSFER_SCRIPT, TransferHandler
from tests.asterisk_fixtures import AgiRoutes
from tests.desk_browser import DeskServer, serve_desk
from tests.desk_support import DeskUser, desk_settings, ensure_skill, fresh_totp_code


@pytest.fixture()
def stack_settings(settings: Settings, redis_namespace: str) -> Settings:
    return desk_settings(
        settings,
        f"{redis_namespace}-e2e-{uuid.uuid4().hex[:6]}",
        recordings_dir=settings.effective_recordings_dir,
    )


@pytest.fixture()
def desk(stack_settings: Settings, session_factory: sessionmaker[Session]) -> Iterator[DeskServer]:
    server = serve_desk(stack_settings, session_factory)
    yield server
    server.stop()


@pytest.fixture()
async def controller(
    stack_settings: Settings,
    session_factory: sessionmaker[Session],
    agi_routes: AgiRoutes,
    asterisk: Any,
) -> AsyncIterator[AcdService]:
    """The controller as `callcenter controller` builds it, serving the session's AGI port."""
    for skill in ("booking", "general"):  # the skills the 114 flow queues to
        ensure_skill(session_factory, skill)
    ami = AmiClient(stack_settings, AmiUser.CONTROLLER)
    await ami.connect()
    redis = aioredis.Redis.from_url(stack_settings.redis_url, decode_responses=True)
    renderer = TtsRenderer(stack_settings)
    skills = skill_configs(session_factory)
    acd = build_acd(
        stack_settings,
        redis,
        session_factory,
        ami,
        renderer,
        skills,
        controller_id=f"e2e-{uuid.uuid4().hex[:6]}",
        callback_dial_template="Local/{number}@sim-agent",
    )
    built = build_controller(stack_settings, session_factory, acd.queue, renderer=renderer)
    agi_routes.set("114", built.handler("114"))
    agi_routes.set(
        TRANSFER_SCRIPT, TransferHandler(acd.queue, session_factory, {s.code for s in skills})
    )
    stop = asyncio.Event()
    routing = asyncio.create_task(acd.run(stop))
    # As `callcenter controller` does: skill settings changed on the admin page apply at once.
    watching = asyncio.create_task(acd.skill_watch.run(stop))
    await asyncio.wait_for(acd.dispatcher.ready.wait(), 10)
    yield acd
    stop.set()
    await routing
    await watching
    await built.lifecycle.drain()
    ami.close()
    await redis.aclose()  # type: ignore[attr-defined]


async def log_in(page: Any, desk: DeskServer, user: DeskUser, lands_on: str) -> None:
    await page.goto(desk.url + "/login")
    await page.fill("#username", user.username)
    await page.fill("#password", user.password)
    await page.click("#login-submit")
    if user.totp_secret:  # supervisors and the like: the code from their enrolled secret
        await page.wait_for_url("**/login/totp")
        await page.fill("#totp-code", fresh_totp_code(user.totp_secret))
        await page.click("#totp-form button")
    await page.wait_for_url("**" + lands_on)
