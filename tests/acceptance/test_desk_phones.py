"""Agents' desk phones are real SIP phones (baresip) registered with their own secrets:
they ring, answer and talk, with the audio of both sides in the recording."""

from __future__ import annotations

import asyncio

import pytest

from backend.settings import Settings
from ivr.agi.session import AgiSession
from tests.asterisk_fixtures import DID_114, AgiRoutes, wait_for_recording
from tests.sip.tones import holds_tone
from tests.sip_fixtures import DeskPhones, SipCallers

pytestmark = pytest.mark.asterisk

CALLER_TONE, PHONE_TONE = 700, 1500


async def test_a_desk_phone_answers_a_sip_caller_and_both_voices_are_recorded(
    agi_routes: AgiRoutes, sip_callers: SipCallers, desk_phones: DeskPhones, settings: Settings
) -> None:
    phone = (await desk_phones.new_agent(tone_hz=PHONE_TONE, auto_answer=True)).phone
    recording: asyncio.Future[str] = asyncio.get_running_loop().create_future()

    async def controller(session: AgiSession) -> None:
        recording.set_result(await session.get_variable("CC_RECORDING") or "")
        await session.exec("Dial", f"PJSIP/{phone.number},20,g")

    agi_routes.set("114", controller)
    call = sip_callers.call(DID_114, tone_hz=CALLER_TONE, stay=8)
    await phone.wait_event("CALL_ESTABLISHED")
    result = await call.finished()
    await phone.wait_event("CALL_CLOSED")

    assert result.answered and result.hung_up_by == "caller"
    path = await wait_for_recording(settings.host_path(await recording))
    assert holds_tone(path, CALLER_TONE) and holds_tone(path, PHONE_TONE)
    assert holds_tone(phone.heard_wav(), CALLER_TONE)


async def test_a_desk_phone_rings_until_answered_and_hangs_up_itself(
    desk_phones: DeskPhones,
) -> None:
    caller = (await desk_phones.new_agent(tone_hz=PHONE_TONE, auto_answer=False)).phone
    callee = (await desk_phones.new_agent(tone_hz=CALLER_TONE, auto_answer=False)).phone
    await caller.dial(callee.number)
    await callee.wait_event("CALL_INCOMING")
    await callee.answer()
    await caller.wait_event("CALL_ESTABLISHED")
    await asyncio.sleep(2)  # talk: some audio each way
    await callee.hangup()
    await caller.wait_event("CALL_CLOSED")
    assert holds_tone(caller.heard_wav(), CALLER_TONE)
