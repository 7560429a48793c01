"""A carrier on SIP over TCP (CC_CARRIER_TRANSPORT=tcp): outbound calls reach it over TCP and
its calls over TCP reach the lines. A second Asterisk instance of its own, since the setting
changes pjsip.conf."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from backend.ami.client import AmiClient
from backend.ami.users import AmiUser
from backend.settings import Settings
from ivr.agi.server import AgiServer
from ivr.agi.session import AgiSession
from ivr.pbx.instance import AsteriskInstance
from tests.asterisk_fixtures import DID_HOTLINE, AgiRoutes
from tests.sip.addresses import CARRIER_HOST
from tests.sip.caller import SipCaller
from tests.sip.carrier import SipCarrier
from tests.sip.processes import free_tcp_port
from tests.sip_fixtures import running_asterisk, variant_settings

pytestmark = pytest.mark.asterisk


@pytest.fixture(scope="module")
def tcp_trunk(
    settings: Settings,
    tmp_path_factory: pytest.TempPathFactory,
    asterisk: AsteriskInstance,  # the root is built, the prompts rendered
    agi_server: tuple[AgiServer, AgiRoutes],
) -> Iterator[tuple[Settings, SipCarrier, Path]]:
    workdir = tmp_path_factory.mktemp("tcp-trunk")
    own = variant_settings(
        settings, "tcp", carrier_transport="tcp", carrier_port=free_tcp_port(CARRIER_HOST)
    )
    carrier = SipCarrier.start(
        workdir / "carrier", host=own.carrier_host, port=own.carrier_port, transport="tcp"
    )
    try:
        with running_asterisk(own):
            yield own, carrier, workdir
    finally:
        carrier.stop()


async def test_outbound_calls_reach_a_tcp_carrier_over_tcp(
    tcp_trunk: tuple[Settings, SipCarrier, Path],
) -> None:
    own, carrier, _ = tcp_trunk
    ami = AmiClient(own, AmiUser.TOOLS)
    await ami.connect()
    try:
        await ami.originate("PJSIP/13822223333@carrier", context="sim-caller", exten="s",
                            caller_id=own.caller_id["hotline"],
                            variables={"SIM_DELAY": "1", "SIM_HOLD": "1"})  # fmt: skip
        call = await carrier.wait_for_call("13822223333", ended=True)
    finally:
        ami.close()
    assert call.answered and call.hung_up_by == "asterisk"
    assert call.invite.header("Via").startswith("SIP/2.0/TCP")
    assert call.caller_id == own.caller_id["hotline"]


async def test_a_tcp_carriers_call_reaches_the_hotline(
    tcp_trunk: tuple[Settings, SipCarrier, Path], agi_routes: AgiRoutes
) -> None:
    own, _, workdir = tcp_trunk
    reached: asyncio.Future[str] = asyncio.get_running_loop().create_future()

    async def controller(session: AgiSession) -> None:
        reached.set_result(await session.get_variable("CC_LINE") or "")
        await session.hangup()

    agi_routes.set("hotline", controller)
    call = SipCaller.start(
        workdir / "caller",
        asterisk=(own.sip_bind, own.sip_port),
        local_host=CARRIER_HOST,
        did=DID_HOTLINE,
        stay=10,
        transport="tcp",
    )
    assert await asyncio.wait_for(reached, 30) == "hotline"
    result = await call.finished()
    assert result.answered and result.hung_up_by == "asterisk"
    assert result.messages[0].header("Via").startswith("SIP/2.0/TCP")
