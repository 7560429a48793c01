"""The controller as `callcenter controller` builds it, serving both lines on the test
Asterisk with its real ACD (in an ACD namespace of its own), and what tests ask of it: an
agent signed in and ready, a caller's call record with its complete recording.

A pytest plugin (tests/conftest.py): the ``lines`` fixture, with the flows' clock from
``lines_clock``.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
import redis.asyncio as aioredis
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from backend.acd.model import AgentProfile
from backend.acd.skills import skill_configs
from backend.acd.states import AgentState
from backend.acd.store import AcdStore
from backend.ami.client import AmiClient
from backend.ami.users import AmiUser
from backend.flows.prompts import production_flows
from backend.models.calls import CallRecord, Recording, RecordingStatus
from backend.personal_data import PersonalDataCipher
from backend.settings import Settings
from backend.speech.tts import TtsRenderer
from ivr.acd.service import build_acd
from ivr.flows.ports import Clock
from ivr.main import build_controller
from ivr.pbx.instance import AsteriskInstance
from tests.asterisk_fixtures import AgiRoutes, wait_for_recording
from tests.desk_support import desk_settings, ensure_skill


class OfficeHoursClock:
    """Wednesday 2 December 2026, 10:00 in Beijing (a working day): the hotline is staffed."""

    def now(self) -> datetime:
        return datetime(2026, 12, 2, 2, 0, tzinfo=UTC)

    def monotonic(self) -> float:
        return time.monotonic()


@dataclass
class Lines:
    settings: Settings
    store: AcdStore
    session_factory: sessionmaker[Session]

    async def ready(self, agent_id: int, number: str, interface: str, skill: str) -> None:
        """The agent signed in and ready, as the desk's sign-in and 就绪 button make it."""
        await self.store.register_agent(AgentProfile(agent_id, number, interface, {skill: 5}))
        await self.store.change_state(agent_id, AgentState.READY, actor="test")

    @property
    def cipher(self) -> PersonalDataCipher:
        return PersonalDataCipher(self.settings.data_key.get_secret_value())

    async def call_record(self, caller: str, timeout: float = 30) -> tuple[CallRecord, Path]:
        """The caller's call record once its recording is complete, and the recording as
        recorded (a plaintext copy: the spool's file is sealed)."""
        hashed = self.cipher.lookup_hash(caller)
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            with self.session_factory() as db:
                record = db.scalar(select(CallRecord).where(CallRecord.caller_hash == hashed))
                recording = (
                    db.get(Recording, record.recording_id)
                    if record and record.recording_id
                    else None
                )
                if record and recording and recording.status == RecordingStatus.COMPLETE:
                    path = self.settings.effective_recordings_dir / recording.path
                    return record, await wait_for_recording(path)
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"no call record with a complete recording: {record}")
            await asyncio.sleep(0.3)


@pytest.fixture()
def lines_clock() -> Clock:
    """The flows' clock: office hours, so the hotline is staffed; a test module that needs
    the real time (and a line open around the clock) overrides this fixture."""
    return OfficeHoursClock()


@pytest.fixture()
async def lines(
    lines_clock: Clock,
    settings: Settings,
    redis_namespace: str,
    session_factory: sessionmaker[Session],
    agi_routes: AgiRoutes,
    asterisk: AsteriskInstance,
) -> AsyncIterator[Lines]:
    """The controller on both lines with its ACD, in an ACD namespace of its own."""
    own = desk_settings(settings, f"{redis_namespace}-lines-{uuid.uuid4().hex[:6]}")
    renderer = TtsRenderer(own)
    for line, flow in production_flows(own).items():  # every skill the flows queue to
        for node in flow.nodes.values():
            if skill := getattr(node, "skill", None):
                ensure_skill(session_factory, skill, line=line)
    ami = AmiClient(own, AmiUser.CONTROLLER)
    await ami.connect()
    redis = aioredis.Redis.from_url(own.redis_url, decode_responses=True)
    acd = build_acd(
        own,
        redis,
        session_factory,
        ami,
        renderer,
        skill_configs(session_factory),
        controller_id=f"lines-{uuid.uuid4().hex[:6]}",
        callback_dial_template="Local/{number}@sim-agent",
    )
    built = build_controller(own, session_factory, acd.queue, renderer=renderer, clock=lines_clock)
    agi_routes.set("114", built.handler("114"))
    agi_routes.set("hotline", built.handler("hotline"))
    stop = asyncio.Event()
    routing = asyncio.create_task(acd.run(stop))
    await asyncio.wait_for(acd.dispatcher.ready.wait(), 10)
    yield Lines(own, acd.store, session_factory)
    stop.set()
    await routing
    await built.lifecycle.drain()
    ami.close()
    await redis.aclose()  # type: ignore[attr-defined]
