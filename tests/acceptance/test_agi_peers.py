"""The FastAGI server serves the Asterisk nodes of CC_AGI_PERMIT only. A stranger on another
address (127.0.0.2 here, the client socket bound to it) that speaks perfect AGI for the 114
line is disconnected unread, gets no AGI command and no handled call, and its address is
logged; a real call from the Asterisk on 127.0.0.1 is served as before."""

from __future__ import annotations

import asyncio
import logging
import socket

import pytest

from backend.settings import Settings
from ivr.agi.session import AgiSession
from tests.asterisk_fixtures import DID_114, AgiRoutes, SimulatedCaller

pytestmark = pytest.mark.asterisk

STRANGER = "127.0.0.2"


def forged_environment(settings: Settings) -> bytes:
    """What Asterisk sends first when its dialplan runs AGI(agi://…/114)."""
    lines = {
        "agi_network": "yes",
        "agi_network_script": "114",
        "agi_request": f"agi://{settings.agi_public_host}:{settings.agi_port}/114",
        "agi_channel": "PJSIP/carrier-00000001",
        "agi_uniqueid": "1700000000.1",
        "agi_callerid": "13800138000",
        "agi_extension": DID_114,
    }
    return "".join(f"{k}: {v}\n" for k, v in lines.items()).encode() + b"\n"


def connect_from(source: str, settings: Settings) -> bytes:
    """Connect from ``source``, speak AGI, and return everything the server sent back."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(10)
        sock.bind((source, 0))
        sock.connect((settings.agi_bind, settings.agi_port))
        received = b""
        try:
            sock.sendall(forged_environment(settings))
            while chunk := sock.recv(4096):
                received += chunk
        except ConnectionResetError:
            pass  # closed under our feet: refused, too
        return received


async def test_a_stranger_is_refused_and_asterisk_on_loopback_is_served(
    agi_routes: AgiRoutes,
    simulated_caller: SimulatedCaller,
    settings: Settings,
    caplog: pytest.LogCaptureFixture,
) -> None:
    served: list[str] = []
    answered = asyncio.Event()

    async def controller(session: AgiSession) -> None:
        served.append(session.env.get("channel", ""))
        answered.set()
        await session.hangup()

    agi_routes.set("114", controller)
    assert settings.agi_permit == "127.0.0.1/32"

    with caplog.at_level(logging.WARNING, logger="ivr.agi.server"):
        sent_back = await asyncio.to_thread(connect_from, STRANGER, settings)
    assert sent_back == b""  # not one AGI command
    refusals = [r.getMessage() for r in caplog.records if "refused" in r.getMessage()]
    assert refusals == [f"refused a FastAGI connection from {STRANGER}: not in CC_AGI_PERMIT"]

    # The real Asterisk, connecting from 127.0.0.1, still hands its calls over.
    await simulated_caller.call(DID_114, hold=5)
    await asyncio.wait_for(answered.wait(), 20)
    assert len(served) == 1 and served[0] != "PJSIP/carrier-00000001"
