"""Calls over the carrier trunk into both lines, served by the controller as `callcenter
controller` builds it: a SIPp caller playing a tone presses a menu key (RFC 4733), the IVR
queues the call to the key's skill, an agent answers, and the call record and its recording
(holding the caller's tone) are written.

The 114 caller is answered by an agent on a real desk phone (baresip, registered with the
secret the provisioning service gave it); the hotline caller by a simulated agent.
"""

from __future__ import annotations

import asyncio
import uuid

import pytest
from sqlalchemy.orm import Session, sessionmaker

from backend.models.calls import Disposition
from backend.models.users import Role
from backend.speech.tts import prompt_seconds
from tests.asterisk_fixtures import (
    DID_114,
    DID_HOTLINE,
    SimulatedAgents,
)
from tests.controller_lines import Lines
from tests.desk_support import make_user
from tests.sip.caller import SipCaller
from tests.sip.rtp import KeyPress
from tests.sip.tones import holds_tone
from tests.sip_fixtures import DeskPhones, SipCallers

pytestmark = pytest.mark.asterisk

CALLER_TONE, AGENT_TONE = 700, 1500


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
