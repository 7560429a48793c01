"""A call to 114 through the real Asterisk reaches our FastAGI server, and is recorded."""

from __future__ import annotations

import asyncio

import pytest

from backend.settings import Settings
from ivr.agi.session import AgiSession
from tests.asterisk_fixtures import (
    DID_114,
    AgiRoutes,
    SimulatedCaller,
    wait_for_recording,
    wav_seconds,
)

pytestmark = pytest.mark.asterisk


async def test_call_to_114_brings_caller_number_and_digits_and_leaves_a_recording(
    agi_routes: AgiRoutes, simulated_caller: SimulatedCaller, settings: Settings
) -> None:
    seen: asyncio.Future[dict[str, str]] = asyncio.get_running_loop().create_future()

    async def controller(session: AgiSession) -> None:
        reply = await session.get_data("silence/1", 6000, 4)
        recording = await session.get_variable("CC_RECORDING") or ""
        seen.set_result(
            {
                "caller": session.env["callerid"],
                "script": session.script,
                "line": await session.get_variable("CC_LINE") or "",
                "digits": reply.digits,
                "recording": recording,
            }
        )
        await session.hangup()

    agi_routes.set("114", controller)
    await simulated_caller.call(DID_114, caller_id="13912345678", dtmf="1234", delay=2, hold=10)
    call = await asyncio.wait_for(seen, 20)

    assert call["caller"] == "13912345678"
    assert call["script"] == "114"
    assert call["line"] == "114"
    assert call["digits"] == "1234"
    assert call["recording"].startswith(settings.effective_asterisk_recordings_dir)
    recording = await wait_for_recording(settings.host_path(call["recording"]))
    # The caller waited 2 s and keyed four digits before we hung up: about 3 s on file.
    assert 2.0 <= wav_seconds(recording) <= 6.0


async def test_unknown_script_sends_the_call_to_the_dialplan_fallback(
    agi_routes: AgiRoutes, simulated_caller: SimulatedCaller, asterisk: object
) -> None:
    # No handler for "hotline" is set: the server routes the call to [incoming] fallback.
    from tests.asterisk_fixtures import DID_HOTLINE

    await simulated_caller.call(DID_HOTLINE, hold=3)
    instance = asterisk
    for _ in range(50):
        log = instance.messages_log.read_text()  # type: ignore[attr-defined]
        if "fallback-sorry" in log:
            break
        await asyncio.sleep(0.2)
    assert "fallback-sorry" in log
