"""A REGISTER flood from one address: hundreds of wrong-secret REGISTERs for an agent whose
real desk phone (baresip) is registered. Every guess is refused and on file in Asterisk's
security log, Asterisk keeps answering, and the agent's phone still rings and answers."""

from __future__ import annotations

import asyncio

import pytest

from backend.ami.client import AmiClient
from backend.settings import Settings
from ivr.pbx.instance import AsteriskInstance
from tests.acceptance.test_agent_phones import security_events, sip
from tests.sip.register import register
from tests.sip_fixtures import DeskPhones

pytestmark = pytest.mark.asterisk

GUESSES = 300


async def test_register_flood_is_refused_logged_and_the_agent_is_still_callable(
    asterisk: AsteriskInstance, settings: Settings, ami: AmiClient, desk_phones: DeskPhones
) -> None:
    phone = (await desk_phones.new_agent(auto_answer=True)).phone
    flood = await asyncio.to_thread(
        register, sip(settings), phone.number, "guessed-wrong",
        count=GUESSES, rate=100, timeout=60,
    )  # fmt: skip
    assert flood.statuses == [401] * GUESSES, flood.sipp_output
    # Every guess is on file, with the account and the address it came from.
    failed = security_events(asterisk, "ChallengeResponseFailed", phone.number)
    assert len(failed) == GUESSES
    assert all('RemoteAddress="IPV4/UDP/127.0.0.1/' in line for line in failed)
    # Asterisk still answers, and the agent's registered phone still rings and answers.
    assert "System uptime" in asterisk.cli("core show uptime")
    await ami.originate(f"PJSIP/{phone.number}", application="Wait", data="2")
    await phone.wait_event("CALL_ESTABLISHED")
    await phone.wait_event("CALL_CLOSED")
