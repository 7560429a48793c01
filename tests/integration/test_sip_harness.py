"""The SIP harness against itself: a SIPp caller calling the SIPp carrier directly, no
Asterisk between them. What the harness reports (answered, re-INVITEs taken, who hung up,
the number and caller ID, the tone heard) is checked against what each side did."""

from __future__ import annotations

import asyncio
from pathlib import Path

from tests.sip.addresses import CARRIER_HOST
from tests.sip.caller import SipCaller
from tests.sip.carrier import SipCarrier
from tests.sip.processes import free_udp_port
from tests.sip.rtp_listener import listen
from tests.sip.tones import holds_tone

CARRIER_TONE = 1100


def carrier(tmp_path: Path, **options: object) -> SipCarrier:
    return SipCarrier.start(
        tmp_path / "carrier",
        host=CARRIER_HOST,
        port=free_udp_port(CARRIER_HOST),
        **options,  # type: ignore[arg-type]
    )


def call(tmp_path: Path, far: SipCarrier, number: str, **options: object) -> SipCaller:
    return SipCaller.start(
        tmp_path / f"caller-{number}",
        asterisk=(far.sipp.local.host, far.sipp.local.port),
        local_host=CARRIER_HOST,
        did=number,
        **options,  # type: ignore[arg-type]
    )


async def test_a_reinvite_and_the_far_end_hanging_up_are_taken_and_reported(
    tmp_path: Path,
) -> None:
    far = carrier(tmp_path, tone_hz=CARRIER_TONE, reinvite_after=1, hangup_after=4)
    try:
        caller = call(tmp_path, far, "13800001111", caller_id="114", stay=30)
        await caller.answered()
        heard = await asyncio.to_thread(listen, *caller.media, seconds=2)
        result = await caller.finished(30)
        seen = await far.wait_for_call("13800001111", ended=True)
    finally:
        far.stop()
    assert (result.exit_status, result.answered, result.reinvites) == (0, True, 1)
    assert result.hung_up_by == "asterisk"  # the far end: here the carrier itself
    assert (seen.caller_id, seen.caller_name, seen.hung_up_by) == ("114", "114", "carrier")
    wav = heard.write_wav(tmp_path / "heard.wav")
    assert holds_tone(wav, CARRIER_TONE)


async def test_a_busy_number_is_refused_and_acknowledged(tmp_path: Path) -> None:
    far = carrier(tmp_path, busy_numbers=["13800002222"])
    try:
        result = await call(tmp_path, far, "13800002222", stay=3).finished(20)
        seen = await far.wait_for_call("13800002222", ended=True)
    finally:
        far.stop()
    assert (result.exit_status, result.status, result.answered) == (0, 486, False)
    assert seen.status == 486
    # The caller acknowledged the 486: the carrier did not have to send it again.
    sent = [m for m in far.sipp.messages() if m.direction == "sent" and m.status == 486]
    assert len(sent) == 1
