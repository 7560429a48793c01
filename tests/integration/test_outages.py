"""PostgreSQL, then Redis, stopped and started for real under a running desk process taking
online and desk bookings: only 503s (with ``Retry-After``) while the server is down, never a
500; the desk serves again within 10 s of the server's return without being restarted; no
acknowledged booking is lost and none is made twice. After Redis's restart the ACD's view is
back (Redis saves its data set when stopped and loads it on start): an agent on a call is not
given a second one.

Each test stops a server of its own (``tests.private_servers``), never the machine's."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from redis.asyncio import Redis as AsyncRedis
from sqlalchemy.orm import Session, sessionmaker

from backend.acd.policy import SkillConfig
from backend.acd.store import AcdStore
from backend.db import make_engine, make_session_factory
from backend.models.users import Role
from backend.settings import Settings, load_settings
from tests.booking_load import (
    LOST,
    Job,
    Outcome,
    alternating,
    check_bookings,
    desk_jobs,
    login_cookie,
    online_jobs,
    run_jobs,
    seed_schedules,
)
from tests.desk_process import running_desk
from tests.desk_support import make_user
from tests.private_servers import private_postgres, private_redis

BACK_WITHIN = 10.0  # seconds from the server's return to the desk's first good answer
DOWN_FOR = 3.0


@dataclass
class Outage:
    """When the server was down (monotonic clock), and what the desk answered meanwhile."""

    down: float = 0.0  # the stop had completed
    up: float = 0.0  # the start began
    back: float = 0.0  # the first good answer after the start
    answers: list[httpx.Response] = field(default_factory=list)


async def with_outage(
    base: str,
    probe: Callable[[httpx.AsyncClient], Awaitable[httpx.Response]],
    stop: Callable[[], None],
    start: Callable[[], None],
) -> Outage:
    """Stop the server, probe the desk while it is down, start it, probe until it serves."""
    outage = Outage()
    async with httpx.AsyncClient(base_url=base, timeout=15) as http:
        await asyncio.sleep(1.0)
        await asyncio.to_thread(stop)
        outage.down = time.monotonic()
        while time.monotonic() < outage.down + DOWN_FOR:
            outage.answers.append(await probe(http))
            await asyncio.sleep(0.3)
        outage.up = time.monotonic()
        await asyncio.to_thread(start)
        while (await probe(http)).status_code != 200:
            assert time.monotonic() < outage.up + 60, "the desk did not recover"
            await asyncio.sleep(0.1)
        outage.back = time.monotonic()
    return outage


def run_under_outage(
    base: str, jobs: Iterator[Job], outage: Callable[[], Awaitable[Outage]]
) -> tuple[list[Outcome], Outage]:
    async def both() -> tuple[list[Outcome], Outage]:
        load = run_jobs(base, jobs, clients=8, seconds=60, think=0.3)
        outcomes, seen = await asyncio.gather(load, outage())
        return outcomes, seen

    return asyncio.run(both())


def check_outage(outcomes: list[Outcome], outage: Outage, error: str) -> None:
    """Only 503s while down, each with Retry-After and the error shape; the service back in
    time; every job answered; nothing but answers and 503s (no 500, no lost connection)."""
    assert outage.answers, "the desk was never asked while the server was down"
    for answer in outage.answers:
        assert answer.status_code == 503, answer.text
        assert answer.headers["Retry-After"].isdigit()
        assert answer.json()["error"] == error and answer.json()["message"]
    assert outage.back - outage.up <= BACK_WITHIN
    statuses = [a.status for o in outcomes for a in o.attempts]
    assert LOST not in statuses and not [s for s in statuses if s >= 500 and s != 503]
    while_down = [
        a.status
        for o in outcomes
        for a in o.attempts
        if outage.down < a.sent < a.answered < outage.up
    ]
    assert while_down and set(while_down) == {503}, while_down
    assert all(o.status != 503 for o in outcomes), "a job was never answered"
    booked_after = [o for o in outcomes if o.acknowledged and o.attempts[-1].sent > outage.up]
    assert booked_after, "no booking was made after the server came back"


def test_postgresql_stopped_and_started_under_bookings(
    settings: Settings, run_id: str, tmp_path: Path
) -> None:
    with private_postgres(f"cc_outage_pg_{run_id}") as (server, url):
        engine = make_engine(load_settings(database_url=url), pool_size=2)
        factory: sessionmaker[Session] = make_session_factory(engine)
        schedules = seed_schedules(factory, settings, count=2, slots=60)
        agent = make_user(factory, Role.AGENT)
        online = online_jobs(factory, settings, schedules, 40)
        with running_desk(url, settings.redis_url, tmp_path, f"outage-pg-{run_id}") as (base, _):
            cookie = login_cookie(base, agent.username, agent.password)
            jobs = alternating(online, desk_jobs(schedules, [cookie]), 80)

            async def probe(http: httpx.AsyncClient) -> httpx.Response:
                return await http.get("/api/desk/booking/hospitals", headers={"Cookie": cookie})

            outcomes, outage = run_under_outage(
                base, jobs, lambda: with_outage(base, probe, server.stop, server.start)
            )
        check_outage(outcomes, outage, "database-unavailable")
        check_bookings(factory, schedules, outcomes)
        engine.dispose()


async def ring(redis_url: str, namespace: str, *call_ids: str) -> list[tuple[str, int]]:
    """The ACD queues the calls (skill booking) and hands each to a ready agent, as the
    controller's dispatcher does: the (call, agent) pairs it made."""
    client = AsyncRedis.from_url(redis_url, decode_responses=True)
    store = AcdStore(client, namespace, [SkillConfig("booking", wrapup_seconds=60)])
    for call_id in call_ids:
        await store.enqueue(call_id, "booking", line="114")
    given = []
    while (assignment := await store.pick()) is not None:
        await store.connected(assignment.call_id, assignment.agent_id)
        given.append((assignment.call_id, assignment.agent_id))
    await client.aclose()  # type: ignore[attr-defined]
    return given


def ready_agents(base: str, cookies: list[str]) -> None:
    for cookie in cookies:
        for step in ("/api/agent/sign-in", "/api/agent/ready"):
            reply = httpx.post(base + step, headers={"Cookie": cookie})
            assert reply.status_code == 200, reply.text


def test_redis_stopped_and_started_under_bookings(
    settings: Settings, session_factory: sessionmaker[Session], run_id: str, tmp_path: Path
) -> None:
    schedules = seed_schedules(session_factory, settings, count=2, slots=60)
    agent, other = (make_user(session_factory, Role.AGENT) for _ in range(2))
    online = online_jobs(session_factory, settings, schedules, 40)
    name = f"outage-redis-{run_id}"
    with (
        private_redis() as server,
        running_desk(settings.database_url, server.url, tmp_path, name) as (base, _),
    ):
        cookie = login_cookie(base, agent.username, agent.password)
        ready_agents(base, [cookie, login_cookie(base, other.username, other.password)])
        # One agent is talking when Redis goes down.
        before = asyncio.run(ring(server.url, name, f"{name}-1"))
        jobs = alternating(online, desk_jobs(schedules, [cookie]), 80)
        pages: list[httpx.Response] = []

        async def probe(http: httpx.AsyncClient) -> httpx.Response:
            # The agent's page (its session is in Redis) and an API call both.
            page = await http.get("/desk", headers={"Cookie": cookie})
            if page.status_code != 200:
                pages.append(page)
            return await http.get("/api/desk/booking/hospitals", headers={"Cookie": cookie})

        outcomes, outage = run_under_outage(
            base, jobs, lambda: with_outage(base, probe, server.stop, server.start)
        )
        # The ACD's view is back with Redis: the talking agent is not given a second call,
        # the other agent one, and the third waits.
        after = asyncio.run(ring(server.url, name, f"{name}-2", f"{name}-3"))
    check_outage(outcomes, outage, "redis-unavailable")
    check_bookings(session_factory, schedules, outcomes)
    assert pages and all(p.status_code == 503 and "暂时不可用" in p.text for p in pages)
    busy = before[0][1]
    assert len(before) == 1 and busy in (agent.agent_id, other.agent_id)
    assert after == [(f"{name}-2", other.agent_id if busy == agent.agent_id else agent.agent_id)]
