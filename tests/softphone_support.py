"""Browser-softphone agents on the whole stack, for tests of real calls at the desk.

Registered in tests/conftest.py ``pytest_plugins``: the ``softphones`` fixture brings the
controller, the desk, Chromium with fake microphones saying tone f1 (``AGENT_TONE_HZ``) and
SIPp callers playing tone f2 (``CALLER_TONE_HZ``)::

    agent = softphones.agent()                 # created as the administrator creates one
    page = await softphones.ready(agent)       # logged in, softphone registered, ready
    caller, call = await softphones.call()     # a SIP caller into 114, booking queue
    await phone_is(page, "ringing", timeout=90_000)
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from backend.db import transaction
from backend.models.calls import CallRecord, Recording, RecordingStatus
from backend.models.users import Role
from backend.personal_data import PersonalDataCipher
from backend.settings import Settings
from backend.speech.tts import prompt_seconds
from backend.telephony.agents import AgentDirectory, AgentDraft
from backend.telephony.phones import AgentPhones
from ivr.acd.service import AcdService
from recordings.sealed import is_sealed
from tests.asterisk_fixtures import DID_114, wait_for_recording
from tests.desk_browser import SCREENSHOTS, DeskServer
from tests.desk_stack import log_in
from tests.desk_support import DeskUser, make_user
from tests.sip.caller import SipCaller
from tests.sip.rtp import KeyPress
from tests.sip.rtp_listener import listen
from tests.sip_fixtures import SipCallers

CALLER_TONE_HZ = 700  # tone f2
EMPTY_BAND = (1900, 1980)  # neither tone, prompt nor music has much energy there


@dataclass(frozen=True)
class Softphones:
    desk: DeskServer
    new_page: Any
    callers: SipCallers
    settings: Settings
    factory: sessionmaker[Session]

    def agent(self, *, auto_answer: bool = False) -> DeskUser:
        """A desk account, then the agent with a browser phone (the admin API's service)."""
        user = make_user(self.factory, Role.AGENT, with_agent=False)
        number = str(100000 + uuid.uuid4().int % 900000)
        cipher = PersonalDataCipher(self.settings.data_key.get_secret_value())
        with transaction(self.factory) as db:
            agent, _secret = AgentDirectory(
                db, AgentPhones(cipher, self.settings.sip_realm)
            ).create(
                AgentDraft(
                    number=number,
                    name="测试坐席",
                    skills={"booking": 5},
                    auto_answer=auto_answer,
                    username=user.username,
                    phone_kind="browser",
                )
            )
            agent_id = agent.id
        return replace(user, agent_id=agent_id, agent_number=number)

    async def ready(self, agent: DeskUser) -> Any:
        """A page of the agent's: logged in (browser phone), registered, signed in, ready."""
        page = await self.new_page()
        await log_in(page, self.desk, agent, "/desk")
        await page.wait_for_selector("body[data-live='1']")
        await page.wait_for_selector("#phone-state[data-state='registered']", timeout=45_000)
        await page.click("#btn-signin")
        await agent_is(page, "not_ready")
        await page.click("#btn-ready")
        # A call already waiting is offered at once: the page may go straight on to ringing.
        offered = ", ".join(
            f"#agent-state[data-state='{state}']" for state in ("ready", "reserved", "ringing")
        )
        await page.wait_for_selector(offered, timeout=30_000)
        return page

    async def call(self, *, stay: float = 240) -> tuple[str, SipCaller]:
        """A citizen rings 114 over SIP playing f2 and presses 1 (booking) after the welcome."""
        caller = f"139{uuid.uuid4().int % 10**8:08d}"
        welcome = await asyncio.to_thread(prompt_seconds, self.settings, "114", "welcome")
        call = self.callers.call(
            DID_114,
            caller_id=caller,
            tone_hz=CALLER_TONE_HZ,
            keys=[KeyPress("1", at=welcome + 1.5)],
            stay=stay,
        )
        return caller, call

    async def recording(self, caller: str) -> tuple[CallRecord, Path]:
        """The call record of the caller's call and its recording, once Asterisk closed it."""
        cipher = PersonalDataCipher(self.settings.data_key.get_secret_value())
        hashed = cipher.lookup_hash(caller)
        for _ in range(150):
            with self.factory() as db:
                record = db.scalar(select(CallRecord).where(CallRecord.caller_hash == hashed))
                file = (
                    db.get(Recording, record.recording_id)
                    if record and record.recording_id
                    else None
                )
                if record and file and file.status == RecordingStatus.COMPLETE:
                    path = self.settings.effective_recordings_dir / file.path
                    # Complete means sealed first: reading the spool directly (the attack)
                    # finds no WAV header; the test hears it through the decrypting reader.
                    on_disk = path.read_bytes()
                    assert is_sealed(path) and b"RIFF" not in on_disk and b"WAVE" not in on_disk
                    return record, await wait_for_recording(path)
            await asyncio.sleep(0.2)
        raise AssertionError(f"no complete recording for the call from {caller}")


@pytest.fixture()
def softphones(
    controller: AcdService,
    desk: DeskServer,
    softphone_page: Any,
    sip_callers: SipCallers,
    stack_settings: Settings,
    session_factory: sessionmaker[Session],
) -> Softphones:
    return Softphones(desk, softphone_page, sip_callers, stack_settings, session_factory)


async def phone_is(page: Any, call_state: str, timeout: float = 30_000) -> None:
    """The softphone's call: idle, ringing, talking or held."""
    await page.wait_for_selector(f"#phone-panel[data-call='{call_state}']", timeout=timeout)


async def agent_is(page: Any, state: str, timeout: float = 30_000) -> None:
    """The agent's ACD state as the desk shows it."""
    await page.wait_for_selector(f"#agent-state[data-state='{state}']", timeout=timeout)


async def answer_and_hang_up(page: Any, call: SipCaller) -> None:
    """The ringing page answers, talks, hangs up; the caller saw the call answered."""
    await page.click("#btn-answer")
    await agent_is(page, "on_call")
    await page.click("#btn-phone-hangup")
    assert (await call.finished()).answered


async def inbound_packets(page: Any, at_least: int) -> int:
    """getStats of the softphone's call: inbound audio packets, once there are enough."""
    packets = 0
    for _ in range(100):
        stats = await page.evaluate("softphone.inboundAudio()")
        packets = stats["packets"] if stats else 0
        if packets >= at_least:
            break
        await asyncio.sleep(0.2)
    return packets


async def heard_by(call: SipCaller, path: Path, seconds: float = 3) -> tuple[int, Path]:
    """What the SIPp caller hears for ``seconds``: RTP packets, and the audio as a WAV."""
    heard = await asyncio.to_thread(listen, *call.media, seconds=seconds)
    return heard.packets, heard.write_wav(path)


async def first_ringing(*pages: Any) -> Any:
    for _ in range(450):
        for page in pages:
            if await page.get_attribute("#phone-panel", "data-call") == "ringing":
                return page
        await asyncio.sleep(0.2)
    raise AssertionError("no softphone rang")


async def shot(page: Any, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(SCREENSHOTS / f"softphone-{name}.png"), full_page=True)
