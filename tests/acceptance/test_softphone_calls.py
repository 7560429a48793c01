"""Agents take real calls in the browser softphone: Chromium's WebRTC registers over Asterisk's
WebSocket as the agent's own PJSIP endpoint, a SIPp caller dials 114 over the carrier trunk,
and the controller's IVR and ACD ring the page.

Every agent's fake microphone says tone f1 (1500 Hz), every caller's RTP carries tone f2
(700 Hz): the call's recording must hold both, and what the caller hears is captured on the
loopback interface (music while on hold, the agent's f1 while talking).
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from backend.acd.model import AgentProfile
from backend.acd.states import AgentState
from backend.acd.store import AcdStore
from backend.ami.client import AmiClient
from backend.ami.users import AmiUser
from ivr.acd.service import AcdService
from tests.desk_browser import AGENT_TONE_HZ
from tests.sip.tones import band_rms, tone_rms
from tests.sip_fixtures import DeskPhones
from tests.softphone_support import (
    CALLER_TONE_HZ,
    EMPTY_BAND,
    Softphones,
    agent_is,
    answer_and_hang_up,
    first_ringing,
    heard_by,
    inbound_packets,
    phone_is,
    shot,
)

pytestmark = [pytest.mark.asterisk, pytest.mark.browser]


async def test_a_sip_caller_talks_to_the_browser_softphone_holds_and_is_transferred(
    softphones: Softphones, tmp_path: Path
) -> None:
    first, colleague = softphones.agent(), softphones.agent()
    page = await softphones.ready(first)
    # The agent's microphone and speakers, as the browser lists them, to choose from.
    assert await page.locator("#mic-select option").count() >= 1
    caller, call = await softphones.call()

    # The page rings, with the screen pop.
    await phone_is(page, "ringing", timeout=90_000)
    masked = caller[:3] + "****" + caller[-4:]
    await page.locator("#pop-caller", has_text=masked).wait_for()
    assert await page.inner_text("#phone-caller") == masked  # never the number in clear
    assert await page.locator("#btn-answer").is_visible()
    await shot(page, "01-ringing-with-screen-pop")
    await page.click("#btn-answer")
    await phone_is(page, "talking")
    await agent_is(page, "on_call")
    assert not await page.locator("#phone-incoming").is_visible()
    assert await inbound_packets(page, at_least=50) >= 50  # the caller's RTP reaches the browser

    # Talking: the caller hears the agent's microphone (f1).
    packets, talking = await heard_by(call, tmp_path / "talking.wav")
    assert packets > 100
    assert tone_rms(talking, AGENT_TONE_HZ) > 20 * band_rms(talking, *EMPTY_BAND)

    # Mute: the caller no longer hears the agent's microphone.
    await page.click("#btn-phone-mute")
    await page.locator("#btn-phone-mute", has_text="取消静音").wait_for()
    _, muted = await heard_by(call, tmp_path / "muted.wav", seconds=2)
    assert tone_rms(muted, AGENT_TONE_HZ) < tone_rms(talking, AGENT_TONE_HZ) / 10
    await page.click("#btn-phone-mute")

    # A key on the softphone's keypad reaches Asterisk as a DTMF digit from the agent's leg.
    keys: asyncio.Queue[dict[str, str]] = asyncio.Queue()
    dtmf = AmiClient(softphones.settings, AmiUser.TOOLS, events="dtmf", only_events=["DTMFEnd"])
    await dtmf.connect()
    try:
        dtmf.subscribe("DTMFEnd", keys.put_nowait)
        await page.click("#dtmf-pad button[data-key='5']")
        while True:
            key = await asyncio.wait_for(keys.get(), 10)
            if key.get("Channel", "").startswith(f"PJSIP/{first.agent_number}-"):
                break
    finally:
        dtmf.close()
    assert (key["Digit"], key["Direction"]) == ("5", "Received")

    # Hold from the desk: the caller hears music, not the agent; the ACD shows the hold.
    await page.click("#btn-hold")
    await phone_is(page, "held")
    await agent_is(page, "on_hold")
    packets, held = await heard_by(call, tmp_path / "held.wav")
    assert packets > 100
    assert band_rms(held, 100, 3400) > 0.01  # sound, not silence
    assert tone_rms(held, AGENT_TONE_HZ) < tone_rms(talking, AGENT_TONE_HZ) / 10
    await shot(page, "02-on-hold")
    await page.click("#btn-resume")
    await phone_is(page, "talking")
    await agent_is(page, "on_call")

    # A transfer to a number that is no agent is refused on the desk; the call goes on.
    await page.select_option("#transfer-kind", "agent")
    await page.fill("#transfer-target", "99999")
    await page.click("#btn-transfer")
    await page.locator("#toast", has_text="没有工号为 99999 的坐席").wait_for()
    await phone_is(page, "talking")
    await agent_is(page, "on_call")

    # Transfer to a colleague, who answers in his own softphone.
    second = await softphones.ready(colleague)
    await page.fill("#transfer-target", colleague.agent_number)
    await page.click("#btn-transfer")
    await phone_is(page, "idle")
    await agent_is(page, "wrap_up")
    await phone_is(second, "ringing", timeout=60_000)
    await second.locator("#pop-caller", has_text=masked).wait_for()
    await second.click("#btn-answer")
    await phone_is(second, "talking")
    await agent_is(second, "on_call")
    assert await inbound_packets(second, at_least=50) >= 50
    await shot(second, "03-transferred-to-colleague")

    # The colleague hangs up; both wrap up and are ready again.
    await second.click("#btn-hangup")
    await phone_is(second, "idle")
    await agent_is(second, "wrap_up")
    result = await call.finished()
    assert result.answered and result.hung_up_by == "asterisk"
    for agent_page in (page, second):
        await agent_page.fill("#wrapup-notes", "已转接处理")
        await agent_page.click("#btn-wrapup")
        await agent_is(agent_page, "ready")

    # The recording holds both sides: the caller's f2 and the agents' f1. (The whole call is
    # on file, prompts and music too: music puts some energy in every band, hence 5 times.)
    record, wav = await softphones.recording(caller)
    assert record.transferred
    empty = band_rms(wav, *EMPTY_BAND)
    assert tone_rms(wav, CALLER_TONE_HZ) > 5 * empty
    assert tone_rms(wav, AGENT_TONE_HZ) > 5 * empty


async def test_with_auto_answer_the_call_connects_without_a_click(
    softphones: Softphones,
) -> None:
    page = await softphones.ready(softphones.agent())
    await page.check("#auto-answer")  # the agent's own switch on the desk
    await page.wait_for_function("document.getElementById('auto-answer').checked")
    _, call = await softphones.call(stay=150)

    await phone_is(page, "talking", timeout=90_000)
    await page.locator("#phone-answer-mode", has_text="自动应答").wait_for()
    await agent_is(page, "on_call")
    assert await inbound_packets(page, at_least=50) >= 50
    await page.click("#btn-phone-hangup")
    await agent_is(page, "wrap_up")
    assert (await call.finished()).hung_up_by == "asterisk"


async def test_a_softphone_nobody_answers_gives_the_call_back_to_the_queue(
    softphones: Softphones,
) -> None:
    away, present = softphones.agent(), softphones.agent()
    page = await softphones.ready(away)
    caller, call = await softphones.call()

    await phone_is(page, "ringing", timeout=90_000)
    # Nobody clicks: at the ring timeout the agent is marked not ready (未接) and the page
    # stops ringing; the caller waits on at his place.
    await agent_is(page, "not_ready", timeout=60_000)
    assert "未接" in await page.inner_text("#agent-reason")
    await phone_is(page, "idle")

    other = await softphones.ready(present)
    await phone_is(other, "ringing", timeout=60_000)
    await other.locator("#pop-caller", has_text=caller[-4:]).wait_for()
    await answer_and_hang_up(other, call)


async def test_attended_transfer_joins_the_caller_to_the_consulted_colleague(
    softphones: Softphones, tmp_path: Path
) -> None:
    first, colleague = softphones.agent(), softphones.agent()
    page, second = await softphones.ready(first), await softphones.ready(colleague)
    _, call = await softphones.call()
    # Whoever the ACD rings first takes the call and consults the other.
    ringing = await first_ringing(page, second)
    other = second if ringing is page else page
    other_number = colleague.agent_number if ringing is page else first.agent_number
    await ringing.click("#btn-answer")
    await agent_is(ringing, "on_call")

    await ringing.select_option("#transfer-kind", "agent")
    await ringing.fill("#transfer-target", other_number)
    await ringing.click("#btn-consult")
    await phone_is(ringing, "held")  # the caller waits with music during the consultation
    await phone_is(other, "ringing")
    await other.click("#btn-answer")
    await ringing.wait_for_selector("#phone-panel[data-consult='talking']")
    await shot(ringing, "04-consulting-colleague")
    await ringing.click("#btn-consult-complete")

    await phone_is(ringing, "idle")
    await agent_is(ringing, "wrap_up")
    await agent_is(other, "on_call")  # the ACD handed the call over
    packets, heard = await heard_by(call, tmp_path / "after-transfer.wav")
    assert packets > 100  # the caller hears the colleague's microphone
    assert tone_rms(heard, AGENT_TONE_HZ) > 20 * band_rms(heard, *EMPTY_BAND)
    await other.click("#btn-phone-hangup")
    await agent_is(other, "wrap_up")
    assert (await call.finished()).hung_up_by == "asterisk"


async def test_a_desk_phones_own_blind_transfer_goes_through_the_acd(
    softphones: Softphones, controller: AcdService, desk_phones: DeskPhones
) -> None:
    # A desk SIP phone (baresip) that answers by itself, signed in and ready in the ACD.
    desk_agent = await desk_phones.new_agent(skills={"booking": 5}, auto_answer=True)
    store = controller.store
    await store.register_agent(
        AgentProfile(desk_agent.agent_id, desk_agent.number, desk_agent.interface, {"booking": 5})
    )
    await store.change_state(desk_agent.agent_id, AgentState.READY)
    caller, call = await softphones.call()
    await desk_agent.phone.wait_event("CALL_ESTABLISHED", timeout=90)
    await state_of(store, desk_agent.agent_id, AgentState.ON_CALL)

    # The phone's transfer key (SIP REFER to the colleague's number): the caller goes back to
    # the controller, which reserves the colleague and rings him with the screen pop.
    colleague = softphones.agent()
    page = await softphones.ready(colleague)
    host, port = softphones.settings.sip_bind, softphones.settings.sip_port
    await desk_agent.phone.command("transfer", f"sip:{colleague.agent_number}@{host}:{port}")
    await phone_is(page, "ringing", timeout=60_000)
    await page.locator("#pop-caller", has_text=caller[-4:]).wait_for()
    await state_of(store, desk_agent.agent_id, AgentState.WRAP_UP)
    await answer_and_hang_up(page, call)


async def state_of(store: AcdStore, agent_id: int, state: AgentState) -> None:
    for _ in range(150):
        view = await store.agent(agent_id)
        if view is not None and view.status.state is state:
            return
        await asyncio.sleep(0.2)
    raise AssertionError(f"agent {agent_id} never reached {state}")
