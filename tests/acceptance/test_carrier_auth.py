"""A carrier that wants digest authentication: the trunk registers with its credentials,
answers the carrier's challenge on outbound calls, and challenges the carrier's own INVITEs
(CC_CARRIER_USERNAME, CC_CARRIER_PASSWORD, CC_CARRIER_REGISTER, CC_CARRIER_INBOUND_AUTH).

These settings change pjsip.conf, so the tests run a second Asterisk instance of their own,
with the session's FastAGI server and a SIPp carrier that challenges (tests/sip/carrier.py).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from backend.ami.client import AmiClient
from backend.ami.users import AmiUser
from backend.settings import Settings
from ivr.agi.server import AgiServer
from ivr.agi.session import AgiSession
from ivr.pbx.instance import AsteriskInstance
from tests.asterisk_fixtures import DID_114, AgiRoutes
from tests.sip.addresses import CARRIER_HOST
from tests.sip.caller import SipCaller
from tests.sip.carrier import SipCarrier
from tests.sip.processes import free_udp_port
from tests.sip_fixtures import running_asterisk, variant_settings

pytestmark = pytest.mark.asterisk

USER, PASSWORD = "cc114trunk", "trunk-secret-7"


@dataclass
class AuthTrunk:
    settings: Settings
    asterisk: AsteriskInstance
    carrier: SipCarrier
    ami: AmiClient
    workdir: Path


@pytest.fixture(scope="module")
def trunk_workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("auth-trunk")


@pytest.fixture(scope="module")
def auth_instance(
    settings: Settings,
    trunk_workdir: Path,
    asterisk: AsteriskInstance,  # the root is built, the prompts rendered
    agi_server: tuple[AgiServer, AgiRoutes],
) -> Iterator[tuple[Settings, AsteriskInstance, SipCarrier]]:
    own = variant_settings(
        settings,
        "auth",
        carrier_port=free_udp_port(CARRIER_HOST),
        carrier_username=USER,
        carrier_password=PASSWORD,
        carrier_register=True,
        carrier_inbound_auth=True,
    )
    # The carrier first: the trunk registers as soon as Asterisk starts.
    carrier = SipCarrier.start(
        trunk_workdir / "carrier",
        host=own.carrier_host,
        port=own.carrier_port,
        credentials=(USER, PASSWORD),
    )
    try:
        with running_asterisk(own) as instance:
            yield own, instance, carrier
    finally:
        carrier.stop()


@pytest.fixture()
async def trunk(
    auth_instance: tuple[Settings, AsteriskInstance, SipCarrier], trunk_workdir: Path
) -> AsyncIterator[AuthTrunk]:
    own, instance, carrier = auth_instance
    ami = AmiClient(own, AmiUser.TOOLS)
    await ami.connect()
    yield AuthTrunk(own, instance, carrier, ami, trunk_workdir)
    ami.close()


async def test_the_trunk_registers_with_the_carrier_using_its_credentials(trunk: AuthTrunk) -> None:
    deadline = time.monotonic() + 20
    while (USER, 200) not in trunk.carrier.registrations() and time.monotonic() < deadline:
        await asyncio.sleep(0.2)
    assert (USER, 200) in trunk.carrier.registrations()
    shown = await asyncio.to_thread(trunk.asterisk.cli, "pjsip show registrations")
    assert "carrier-registration" in shown and "Registered" in shown


async def test_an_outbound_call_answers_the_carriers_challenge(trunk: AuthTrunk) -> None:
    number = "13811112222"
    caller_id = trunk.settings.caller_id["hotline"]
    await trunk.ami.originate(
        f"PJSIP/{number}@carrier",
        context="sim-caller",
        exten="s",
        caller_id=f'"{caller_id}" <{caller_id}>',
        variables={"SIM_DELAY": "1", "SIM_HOLD": "1"},
    )
    call = await trunk.carrier.wait_for_call(number, ended=True)
    assert call.authenticated and call.answered and call.caller_id == caller_id


async def test_the_carriers_own_calls_must_authenticate(
    trunk: AuthTrunk, agi_routes: AgiRoutes
) -> None:
    reached: asyncio.Queue[str] = asyncio.Queue()

    async def controller(session: AgiSession) -> None:
        await reached.put(session.env.get("callerid", ""))
        await session.hangup()

    agi_routes.set("114", controller)

    def call(caller_id: str, credentials: tuple[str, str] | None = None) -> SipCaller:
        return SipCaller.start(
            trunk.workdir / caller_id,
            asterisk=(trunk.settings.sip_bind, trunk.settings.sip_port),
            local_host=CARRIER_HOST,
            did=DID_114,
            caller_id=caller_id,
            stay=10,
            credentials=credentials,
        )

    refused = await call("13800000011").finished(30)
    assert refused.status == 401 and not refused.answered
    wrong = await call("13800000012", (USER, "not-the-password")).finished(30)
    assert wrong.status in (401, 403) and not wrong.answered
    assert reached.empty()

    good = call("13800000013", (USER, PASSWORD))
    assert await asyncio.wait_for(reached.get(), 30) == "13800000013"
    result = await good.finished()
    assert result.answered and result.hung_up_by == "asterisk"
