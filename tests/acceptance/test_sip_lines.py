"""Calls over the carrier trunk into both lines, served by the controller as `callcenter
controller` builds it: a SIPp caller playing a tone presses a menu key (RFC 4733), the IVR
queues the call to the key's skill, an agent answers, and the call record and its recording
(holding the caller's tone) are written.

The 114 caller is answered by an agent on a real desk phone (baresip, registered with the
secret the provisioning service gave it); the hotline caller by a simulated agent.
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
from backend.models.calls import CallRecord, Disposition, Recording, RecordingStatus
from backend.models.users import Role
from backend.personal_data import PersonalDataCipher
from backend.settings import Settings
from backend.speech.tts import TtsRenderer, prompt_seconds
from ivr.acd.service import build_acd
from ivr.main import build_controller
from ivr.pbx.instance import AsteriskInstance
from tests.asterisk_fixtures import (
    DID_114,
    DID_HOTLINE,
    AgiRoutes,
    SimulatedAgents,
    wait_for_recording,
)
from tests.desk_support import desk_settings, ensure_skill, make_user
from tests.sip.caller import SipCaller
from tests.sip.rtp import KeyPress
from tests.sip.tones import holds_tone
from tests.sip_fixtures import DeskPhones, SipCallers

pytestmark = pytest.mark.asterisk

CALLER_TONE, AGENT_TONE = 700, 1500


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

    async def call_record(self, caller: str, timeout: float = 30) -> tuple[CallRecord, Path]:
        """The caller's call record once its recording is complete, and the recording as
        recorded (a plaintext copy: the spool's file is sealed)."""
        cipher = PersonalDataCipher(self.settings.data_key.get_secret_value())
        hashed = cipher.lookup_hash(caller)
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
async def lines(
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
    built = build_controller(
        own, session_factory, acd.queue, renderer=renderer, clock=OfficeHoursClock()
    )
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


async def caller_pressing(
    lines: Lines, sip_callers: SipCallers, line: str, key: str, *, stay: float
) -> tuple[str, SipCaller]:
    """A new caller into ``line`` playing its tone, pressing ``key`` once the welcome has
    played (the prompt after it takes keys); the caller's number and the call."""
    welcome = await asyncio.to_thread(prompt_seconds, lines.settings, line, "welcome")
    caller = f"139{uuid.uuid4().int % 10**8:08d}"
    did = lines.settings.did[line]
    keys = [KeyPress(key, at=welcome + 1.5)]
    call = sip_callers.call(
        did, caller_id=caller, tone_hz=CALLER_TONE, keys=keys, stay=welcome + stay
    )
    return caller, call


async def test_a_sip_caller_presses_1_on_114_and_a_desk_phone_agent_answers(
    lines: Lines, sip_callers: SipCallers, desk_phones: DeskPhones
) -> None:
    agent = await desk_phones.new_agent(tone_hz=AGENT_TONE, auto_answer=True)
    await lines.ready(agent.agent_id, agent.number, agent.interface, "booking")
    caller, call = await caller_pressing(lines, sip_callers, "114", "1", stay=30)  # booking
    await agent.phone.wait_event("CALL_ESTABLISHED", timeout=60)
    await asyncio.sleep(6)  # they talk
    await agent.phone.hangup()
    result = await call.finished()

    # After the agent the caller hears the satisfaction survey, and hangs up in it.
    assert result.answered and result.hung_up_by == "caller"
    record, recording = await lines.call_record(caller)
    assert record.disposition == Disposition.ANSWERED and record.did == DID_114
    assert (record.skill, record.intent, record.agent_id) == ("booking", "booking", agent.agent_id)
    # The prompts' speech leaves some energy in every band of the recording; the agent's
    # tone is there only for the talk, a quarter of the call.
    assert holds_tone(recording, CALLER_TONE)
    assert holds_tone(recording, AGENT_TONE, ratio=10)
    assert holds_tone(agent.phone.heard_wav(), CALLER_TONE)


async def test_a_sip_caller_presses_2_on_the_hotline_and_a_simulated_agent_answers(
    lines: Lines,
    sip_callers: SipCallers,
    simulated_agents: SimulatedAgents,
    session_factory: sessionmaker[Session],
) -> None:
    extension = f"h{uuid.uuid4().hex[:8]}"
    interface = await simulated_agents.configure(extension, ring=1, talk=6)
    agent = make_user(session_factory, Role.AGENT, interface=interface)
    assert agent.agent_id is not None
    await lines.ready(agent.agent_id, agent.agent_number, interface, "reimbursement")
    caller, call = await caller_pressing(lines, sip_callers, "hotline", "2", stay=40)
    result = await call.finished()

    assert result.answered
    record, recording = await lines.call_record(caller)
    assert record.disposition == Disposition.ANSWERED and record.did == DID_HOTLINE
    assert (record.skill, record.agent_id) == ("reimbursement", agent.agent_id)
    assert holds_tone(recording, CALLER_TONE)
