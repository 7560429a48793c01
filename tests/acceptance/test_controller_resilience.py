"""The call path survives a stopped controller and a restarted Asterisk."""

from __future__ import annotations

import asyncio
import contextlib

import pytest

from backend.ami.client import AmiClient
from ivr.agi.server import AgiServer
from ivr.agi.session import AgiSession
from ivr.pbx.instance import AsteriskInstance
from tests.asterisk_fixtures import DID_114, AgiRoutes, SimulatedCaller

pytestmark = pytest.mark.asterisk


class EventLog:
    def __init__(self, ami: AmiClient, pattern: str) -> None:
        self.events: list[dict[str, str]] = []
        self._new = asyncio.Event()
        ami.subscribe(pattern, self._add)

    def _add(self, event: dict[str, str]) -> None:
        self.events.append(event)
        self._new.set()

    async def wait_for(self, predicate, timeout: float = 20.0) -> dict[str, str]:  # type: ignore[no-untyped-def]
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            for event in self.events:
                if predicate(event):
                    return event
            self._new.clear()
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise AssertionError("expected AMI event did not come")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._new.wait(), remaining)


def answered_call(routes: AgiRoutes) -> asyncio.Future[str]:
    seen: asyncio.Future[str] = asyncio.get_running_loop().create_future()

    async def controller(session: AgiSession) -> None:
        if not seen.done():
            seen.set_result(session.env["callerid"])
        await session.hangup()

    routes.set("114", controller)
    return seen


async def test_with_the_controller_stopped_callers_reach_the_fallback_agents_then_service_resumes(
    agi_server: tuple[AgiServer, AgiRoutes],
    agi_routes: AgiRoutes,
    simulated_caller: SimulatedCaller,
    ami: AmiClient,
) -> None:
    server, _ = agi_server
    fallbacks = EventLog(ami, "UserEvent")
    dials = EventLog(ami, "DialEnd")
    await server.stop()
    try:
        await simulated_caller.call(DID_114, caller_id="13700000001", hold=12)
        fallback = await fallbacks.wait_for(lambda e: e.get("UserEvent") == "CallFallback")
        assert fallback.get("Line") == "114"
        dial = await dials.wait_for(
            lambda e: e.get("DestChannel", "").startswith("Local/fallback@sim-agent")
        )
        assert dial.get("DialStatus") == "ANSWER"
    finally:
        await server.start()
    served = answered_call(agi_routes)
    await simulated_caller.call(DID_114, caller_id="13700000002", hold=5)
    assert await asyncio.wait_for(served, 20) == "13700000002"


async def test_ami_reconnects_after_asterisk_restarts_and_the_next_call_works(
    asterisk: AsteriskInstance,
    agi_routes: AgiRoutes,
    simulated_caller: SimulatedCaller,
    ami: AmiClient,
) -> None:
    logins_before = ami.logins
    await asyncio.to_thread(asterisk.stop)
    await asyncio.sleep(1.5)
    assert not ami.connected
    await asyncio.to_thread(asterisk.start)
    await ami.wait_connected(30)
    assert ami.logins == logins_before + 1
    served = answered_call(agi_routes)
    await simulated_caller.call(DID_114, caller_id="13700000003", hold=5)
    assert await asyncio.wait_for(served, 20) == "13700000003"
