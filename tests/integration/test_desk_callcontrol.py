"""Call control and listening through the real Asterisk: the desk's HTTP API acts on the
agent's leg of a live call over AMI (hold mutes it, hang-up ends the controller's Dial) and
a team leader's phone is connected to ChanSpy on the agent."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import redis
import redis.asyncio as aioredis
from sqlalchemy.orm import Session, sessionmaker

from agent_desk.app import create_app
from agent_desk.callcontrol import agent_channels
from backend.acd.policy import SkillConfig
from backend.acd.store import AcdStore
from backend.ami.client import AmiClient
from backend.models.users import Role
from backend.settings import Settings
from ivr.agi.session import AgiSession
from tests.asterisk_fixtures import DID_114, AgiRoutes, SimulatedAgents, SimulatedCaller
from tests.desk_support import PASSWORD, DeskUser, desk_settings, fresh_totp_code, make_user

pytestmark = pytest.mark.asterisk


@pytest.fixture()
async def desk_http(
    settings: Settings,
    redis_namespace: str,
    session_factory: sessionmaker[Session],
    ami: AmiClient,  # the switch is up before the desk opens its own AMI connection to it
) -> AsyncIterator[Any]:
    client = redis.Redis.from_url(settings.redis_url, decode_responses=True)
    app = create_app(
        desk_settings(settings, redis_namespace),
        session_factory=session_factory,
        redis_client=client,
    )

    def make() -> httpx.AsyncClient:
        transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 40001))
        return httpx.AsyncClient(transport=transport, base_url="http://desk")

    yield make
    app.state.app.close_ami()
    client.close()


async def log_in(http: httpx.AsyncClient, user: DeskUser) -> None:
    reply = await http.post(
        "/api/auth/login", json={"username": user.username, "password": PASSWORD}
    )
    if reply.json()["stage"] == "totp":  # a supervisor: the code from the enrolled secret
        code = fresh_totp_code(user.totp_secret or "")
        reply = await http.post("/api/auth/totp", json={"code": code})
    assert reply.json()["stage"] == "ready"


async def channels(ami: AmiClient) -> list[dict[str, str]]:
    return await ami.channels()


async def wait_until(predicate: Any, timeout: float = 15.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not await predicate():
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.2)


@dataclass
class Phones:
    """The real-Asterisk fixtures a live call needs, in one place."""

    desk_http: Any
    settings: Settings
    redis_namespace: str
    session_factory: sessionmaker[Session]
    ami: AmiClient
    agi_routes: AgiRoutes
    simulated_caller: SimulatedCaller
    simulated_agents: SimulatedAgents


@pytest.fixture()
def phones(
    desk_http: Any,
    settings: Settings,
    redis_namespace: str,
    session_factory: sessionmaker[Session],
    ami: AmiClient,
    agi_routes: AgiRoutes,
    simulated_caller: SimulatedCaller,
    simulated_agents: SimulatedAgents,
) -> Phones:
    return Phones(desk_http, settings, redis_namespace, session_factory, ami, agi_routes,
                  simulated_caller, simulated_agents)  # fmt: skip


async def live_call(p: Phones) -> tuple[httpx.AsyncClient, DeskUser, asyncio.Future[str], str]:
    """An agent logged in to the desk and talking to a simulated caller: the controller's
    AGI dialled the agent's phone and the ACD shows the agent on the call."""
    name = f"d{uuid.uuid4().hex[:6]}"
    interface = await p.simulated_agents.configure(name, ring=0, talk=60)
    agent = make_user(p.session_factory, Role.AGENT, interface=interface)
    call_id = f"cc-{uuid.uuid4().hex[:8]}"
    dial_done: asyncio.Future[str] = asyncio.get_running_loop().create_future()

    async def controller(session: AgiSession) -> None:
        await session.answer()
        await session.exec("Dial", f"{interface},20")
        dial_done.set_result(await session.get_variable("DIALSTATUS") or "")
        await session.hangup()

    p.agi_routes.set("114", controller)
    http = p.desk_http()
    await log_in(http, agent)
    await http.post("/api/agent/sign-in")
    await http.post("/api/agent/ready")
    client = aioredis.Redis.from_url(p.settings.redis_url, decode_responses=True)
    store = AcdStore(client, p.redis_namespace, [SkillConfig("booking")])
    await store.enqueue(call_id, "booking")
    assert (await store.pick()) is not None
    await p.simulated_caller.call(DID_114, hold=60)

    async def agent_leg_up() -> bool:
        return bool(agent_channels(await channels(p.ami), interface))

    await wait_until(agent_leg_up)
    await store.connected(call_id, agent.agent_id or 0)
    await client.aclose()
    return http, agent, dial_done, interface


async def test_agent_hangs_up_a_live_call_while_the_supervisor_listens(phones: Phones) -> None:
    http, agent, dial_done, interface = await live_call(phones)
    ami = phones.ami
    boss_phone = await phones.simulated_agents.configure(
        f"s{uuid.uuid4().hex[:6]}", ring=0, talk=60
    )
    boss = make_user(phones.session_factory, Role.SUPERVISOR, interface=boss_phone)
    async with phones.desk_http() as sup:
        await log_in(sup, boss)
        listened = await sup.post("/api/supervisor/listen", json={"agent_id": agent.agent_id})
        assert listened.status_code == 202, listened.text

        async def spying() -> bool:
            return any(c.get("Application") == "ChanSpy" for c in await channels(ami))

        await wait_until(spying)
        assert (await http.post("/api/agent/call/hangup")).status_code == 204
        assert await asyncio.wait_for(dial_done, 15) == "ANSWER"
        await wait_until(lambda: _gone(ami, interface))
        again = await http.post("/api/agent/call/hangup")
        assert again.status_code == 409 and again.json()["error"] == "no-active-channel"
    await http.aclose()


async def test_agent_puts_a_live_call_on_hold_and_resumes_it(phones: Phones) -> None:
    http, _, dial_done, _ = await live_call(phones)
    try:
        held = await http.post("/api/agent/call/hold")
        assert held.status_code == 200, held.text
        assert held.json()["state"] == "on_hold"
        again = await http.post("/api/agent/call/hold")
        assert again.json()["error"] == "no-call-to-hold"
        assert (await http.post("/api/agent/call/resume")).json()["state"] == "on_call"
    finally:
        await http.post("/api/agent/call/hangup")
        await asyncio.wait_for(dial_done, 15)
        await http.aclose()


async def _gone(ami: AmiClient, interface: str) -> bool:
    return not agent_channels(await channels(ami), interface)
