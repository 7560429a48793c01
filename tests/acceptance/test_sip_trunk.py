"""The carrier trunk over real SIP: SIPp calls into the DIDs, outbound calls to the SIPp carrier,
peers that are not the carrier, and broken INVITEs.

The callers and the carrier are SIPp processes on the carrier's address (127.0.0.30) with
RTP; see tests/sip/ and tests/sip_fixtures.py.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest

from backend.ami.client import AmiClient
from backend.settings import Settings
from ivr.agi.session import AgiSession
from ivr.pbx.instance import AsteriskInstance
from tests.asterisk_fixtures import DID_114, DID_HOTLINE, AgiRoutes, wait_for_recording
from tests.sip.addresses import CARRIER_HOST, STRANGER_HOST
from tests.sip.carrier import SipCarrier
from tests.sip.rtp import PCMA, KeyPress
from tests.sip.rtp_listener import listen
from tests.sip.siptrace import parse_message
from tests.sip.tones import band_rms, holds_tone
from tests.sip_fixtures import CARRIER_BUSY, CARRIER_NO_ANSWER, SipCallers

pytestmark = pytest.mark.asterisk

TONE = 700


def reading_keys(routes: AgiRoutes, script: str, digits: int) -> asyncio.Future[dict[str, str]]:
    """An AGI route that reads ``digits`` keys, reports them with the call, and hangs up."""
    seen: asyncio.Future[dict[str, str]] = asyncio.get_running_loop().create_future()

    async def controller(session: AgiSession) -> None:
        reply = await session.get_data("silence/1", 10000, digits)
        seen.set_result(
            {
                "caller": session.env.get("callerid", ""),
                "did": await session.get_variable("CC_DID") or "",
                "line": await session.get_variable("CC_LINE") or "",
                "digits": reply.digits,
                "recording": await session.get_variable("CC_RECORDING") or "",
            }
        )
        await session.hangup()

    routes.set(script, controller)
    return seen


async def test_a_sip_call_into_114_brings_its_number_keys_and_tone_to_the_controller(
    agi_routes: AgiRoutes, sip_callers: SipCallers, settings: Settings
) -> None:
    seen = reading_keys(agi_routes, "114", 2)
    call = sip_callers.call(
        DID_114,
        caller_id="13912340001",
        tone_hz=TONE,
        stay=30,
        keys=[KeyPress("4", at=2.5), KeyPress("2", at=3.5)],
    )
    got = await asyncio.wait_for(seen, 30)
    result = await call.finished()

    assert got["caller"] == "13912340001" and got["did"] == DID_114 and got["line"] == "114"
    assert got["digits"] == "42"
    assert (result.exit_status, result.answered, result.hung_up_by) == (0, True, "asterisk")
    recording = await wait_for_recording(settings.host_path(got["recording"]))
    assert holds_tone(recording, TONE)


async def test_a_sip_call_into_the_hotline_reaches_the_hotline_script(
    agi_routes: AgiRoutes, sip_callers: SipCallers
) -> None:
    seen = reading_keys(agi_routes, "hotline", 1)
    call = sip_callers.call(DID_HOTLINE, caller_id="13912340002", keys=[KeyPress("*", at=2.5)])
    got = await asyncio.wait_for(seen, 30)
    assert (got["line"], got["did"], got["digits"]) == ("hotline", DID_HOTLINE, "*")
    assert (await call.finished()).hung_up_by == "asterisk"


async def test_the_caller_hanging_up_first_is_reported(
    agi_routes: AgiRoutes, sip_callers: SipCallers
) -> None:
    async def controller(session: AgiSession) -> None:
        await session.exec("Wait", "60")

    agi_routes.set("114", controller)
    result = await sip_callers.call(DID_114, stay=3).finished()
    assert result.answered and result.hung_up_by == "caller" and result.exit_status == 0


async def test_an_outbound_call_reaches_the_carrier_with_the_lines_caller_id(
    ami: AmiClient, sip_carrier: SipCarrier, settings: Settings
) -> None:
    number = "13812345678"
    caller_id = settings.caller_id["114"]
    await ami.originate(
        f"PJSIP/{number}@carrier",
        context="sim-caller",
        exten="s",
        caller_id=f'"{caller_id}" <{caller_id}>',
        variables={"SIM_DELAY": "1", "SIM_HOLD": "2"},
    )
    call = await sip_carrier.wait_for_call(number, ended=True)
    assert call.answered and call.hung_up_by == "asterisk"
    assert call.caller_id == caller_id and call.asserted_id == caller_id


async def test_a_busy_number_gets_busy_from_the_carrier(
    ami: AmiClient, sip_carrier: SipCarrier, settings: Settings
) -> None:
    await ami.originate(
        f"PJSIP/{CARRIER_BUSY}@carrier",
        context="sim-caller",
        exten="s",
        caller_id=settings.caller_id["hotline"],
    )
    call = await sip_carrier.wait_for_call(CARRIER_BUSY, ended=True)
    assert call.status == 486 and not call.answered


async def test_an_unanswered_number_rings_until_asterisk_gives_up(
    ami: AmiClient, sip_carrier: SipCarrier, settings: Settings
) -> None:
    await ami.originate(f"PJSIP/{CARRIER_NO_ANSWER}@carrier", context="sim-caller", exten="s",
                        caller_id=settings.caller_id["114"], timeout_ms=3000)  # fmt: skip
    call = await sip_carrier.wait_for_call(CARRIER_NO_ANSWER, ended=True)
    assert call.status == 487 and not call.answered  # cancelled while ringing


async def test_the_carrier_hanging_up_first_is_reported(
    ami: AmiClient, start_carrier: Callable[..., SipCarrier], settings: Settings
) -> None:
    carrier = start_carrier(hangup_after=2)
    await ami.originate("PJSIP/13812340003@carrier", context="sim-caller", exten="s",
                        caller_id=settings.caller_id["114"], variables={"SIM_HOLD": "30"})  # fmt: skip
    call = await carrier.wait_for_call("13812340003", ended=True)
    assert call.answered and call.hung_up_by == "carrier"


async def test_a_call_from_an_address_that_is_not_the_carrier_is_refused(
    agi_routes: AgiRoutes, sip_callers: SipCallers, asterisk: AsteriskInstance
) -> None:
    seen = reading_keys(agi_routes, "114", 1)
    result = await sip_callers.call(DID_114, host=STRANGER_HOST, stay=3).finished(30)
    assert result.status >= 400 and not result.answered
    # Naming itself after the trunk does not help: only the carrier's address does.
    named = sip_callers.call(DID_114, host=STRANGER_HOST, caller_id="carrier", stay=3)
    assert (await named.finished(30)).status >= 400
    assert not seen.done()
    assert "anonymous" not in asterisk.cli("pjsip show endpoints").lower()


async def test_a_malformed_offer_gets_an_error_and_asterisk_keeps_serving(
    agi_routes: AgiRoutes, sip_callers: SipCallers
) -> None:
    broken = "v=0\no=- 1 1 IN IP4 127.0.0.30\ns=-\nc=IN IP4 127.0.0.30\nt=0 0\nm=audio notaport RTP/AVP 8\n"
    result = await sip_callers.call(DID_114, sdp=broken, stay=3).finished(30)
    assert result.status in (400, 488) and not result.answered
    # Only codecs the trunk does not allow: nothing to agree on.
    g729 = "v=0\no=- 1 1 IN IP4 127.0.0.30\ns=-\nc=IN IP4 127.0.0.30\nt=0 0\nm=audio 4000 RTP/AVP 18\na=rtpmap:18 G729/8000\n"
    result = await sip_callers.call(DID_114, sdp=g729, stay=3).finished(30)
    assert result.status == 488
    seen = reading_keys(agi_routes, "114", 1)
    call = sip_callers.call(DID_114, keys=[KeyPress("7", at=2.5)])
    assert (await asyncio.wait_for(seen, 30))["digits"] == "7"
    await call.finished()


async def test_the_caller_hears_the_music_asterisk_plays(
    agi_routes: AgiRoutes, sip_callers: SipCallers, tmp_path: Path
) -> None:
    playing: asyncio.Event = asyncio.Event()

    async def controller(session: AgiSession) -> None:
        playing.set()
        await session.exec("MusicOnHold", "default,6")

    agi_routes.set("114", controller)
    call = sip_callers.call(DID_114, tone_hz=None, stay=10)
    await asyncio.wait_for(playing.wait(), 30)
    heard = await asyncio.to_thread(listen, *call.media, seconds=3)
    assert heard.packets > 100 and heard.payload_types.keys() == {PCMA}
    assert heard.rms() > 0.01
    music = heard.write_wav(tmp_path / "heard.wav")
    assert band_rms(music, 100, 3400) > 0.01
    await call.finished()


def sip_exchange(
    target: tuple[str, int], datagrams: list[bytes], wait: float = 1.0
) -> dict[str, str]:
    """Send raw datagrams from the carrier's address; the status line of each reply, by
    Call-ID."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind((CARRIER_HOST, 0))
        sock.settimeout(wait)
        for datagram in datagrams:
            sock.sendto(datagram, target)
        replies = {}
        with contextlib.suppress(TimeoutError):
            while True:
                reply = parse_message("received", "", sock.recv(65535).decode(errors="replace"))
                replies[reply.call_id] = reply.start_line
    return replies


def request(method: str, target: tuple[str, int], call_id: str, cseq: str, extra: str = "",
            body: str = "") -> bytes:  # fmt: skip
    host, port = target
    lines = [
        f"{method} sip:{DID_114}@{host}:{port} SIP/2.0",
        # rport: the answer comes back to the socket that sent, not to the port named here.
        f"Via: SIP/2.0/UDP {CARRIER_HOST}:5999;rport;branch=z9hG4bK-{uuid.uuid4().hex}",
        f"From: <sip:13800000077@{CARRIER_HOST}>;tag=t{uuid.uuid4().hex[:8]}",
        f"To: <sip:{DID_114}@{host}>",
        f"Contact: <sip:13800000077@{CARRIER_HOST}:5999>",
        "Max-Forwards: 70",
        *([f"Call-ID: {call_id}"] if call_id else []),
        *([f"CSeq: {cseq}"] if cseq else []),
        *([extra] if extra else []),
        f"Content-Length: {len(body)}" if "Content-Length" not in extra else "",
    ]
    return ("\r\n".join(line for line in lines if line) + "\r\n\r\n" + body).encode()


async def test_malformed_sip_messages_are_refused_and_asterisk_keeps_serving(
    asterisk: AsteriskInstance, settings: Settings, agi_routes: AgiRoutes
) -> None:
    seen = reading_keys(agi_routes, "114", 1)
    target = (settings.sip_bind, settings.sip_port)
    pid = asterisk.pid()
    sdp = "v=0\r\no=- 1 1 IN IP4 127.0.0.30\r\ns=-\r\nc=IN IP4 127.0.0.30\r\nt=0 0\r\n"
    broken = [
        b"\x00\xff\x10 not SIP at all\r\n\r\n",
        request("INVITE", target, "", ""),  # no Call-ID, no CSeq: nothing to answer to
        request("INVITE", target, "short-body", "1 INVITE", body=sdp,
                extra="Content-Type: application/sdp\r\nContent-Length: 5000"),
        request("INVITE", target, "cseq-not-a-number", "one INVITE"),
        request("INVITE", target, "sdp-garbage", "1 INVITE", body="this is no SDP\r\n",
                extra="Content-Type: application/sdp"),
    ]  # fmt: skip
    replies = await asyncio.to_thread(sip_exchange, target, broken)
    # Each request that can be answered gets an error; the rest are dropped, never a call.
    assert replies["sdp-garbage"] == "SIP/2.0 400 Bad Request"
    assert replies["short-body"].startswith("SIP/2.0 4")
    assert all(status.startswith("SIP/2.0 4") for status in replies.values()), replies
    assert not seen.done()
    options = request("OPTIONS", target, "still-there", "1 OPTIONS")
    replies = await asyncio.to_thread(sip_exchange, target, [options])
    assert replies == {"still-there": "SIP/2.0 200 OK"}
    assert asterisk.pid() == pid
