"""A real caller waits in the queue while Redis, which holds the whole ACD, is killed and
started again empty (issue 19: "Redis stopped and started: the ACD rebuilds its view; no agent
given two calls"). One agent is talking, the other on a break, when Redis goes; the waiting
caller keeps his music (not the fallback), the ACD's view is rebuilt from the controller's
held calls and PostgreSQL's agent-state history, and when the agent on a break is made ready
the caller is his, never the talking agent's.

The controller runs as a process on a Redis of the test's own (``tests.private_servers``,
nothing saved: a kill loses everything), never the machine's, and on a PostgreSQL of its own
(see ``own_factory``)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterator

import pytest
from redis.exceptions import ConnectionError as RedisConnectionError
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from backend.acd.model import CallStatus
from backend.acd.states import AgentState
from backend.db import make_engine, make_session_factory
from backend.models.agents import AgentStateChange
from backend.models.users import Role
from backend.settings import Settings
from ivr.pbx.instance import AsteriskInstance
from tests.call_safety_support import (
    Callers,
    FaultStack,
    records_of,
    running_fault_stack,
    states,
    until,
)
from tests.conftest import migrated_database
from tests.desk_support import make_user
from tests.private_servers import PrivateRedis, private_redis

pytestmark = pytest.mark.asterisk

SKILL = "booking"  # key 1 of the 114 flow


@pytest.fixture(scope="module")
def redis_server() -> Iterator[PrivateRedis]:
    with private_redis(persist=False) as server:
        yield server


@pytest.fixture(scope="module")
def own_database(run_id: str) -> Iterator[str]:
    """A database of the module's own: the rebuild restores every agent PostgreSQL's
    history shows signed in, and in the run's database other tests' agents with the same
    skill would be put back ready beside this test's two and could take its caller."""
    with migrated_database(f"cc_rediscalls_{run_id}") as url:
        yield url


@pytest.fixture(scope="module")
def own_factory(settings: Settings, own_database: str) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(settings.model_copy(update={"database_url": own_database}))
    yield make_session_factory(engine)
    engine.dispose()


@pytest.fixture(scope="module")
async def stack(
    asterisk: AsteriskInstance,  # the shared root is built
    settings: Settings,
    own_database: str,
    own_factory: sessionmaker[Session],
    tmp_path_factory: pytest.TempPathFactory,
    redis_server: PrivateRedis,
) -> AsyncIterator[FaultStack]:
    state = tmp_path_factory.mktemp("redis-calls")
    own = {"CC_REDIS_URL": redis_server.url}
    async with running_fault_stack(
        "rediscalls", own_database, own_factory, settings, state, own
    ) as built:
        yield built


def last_states(factory: sessionmaker[Session], agent_ids: list[int]) -> dict[int, str]:
    """Each agent's last state as PostgreSQL's history has it."""
    with factory() as db:
        rows = db.scalars(
            select(AgentStateChange)
            .where(AgentStateChange.agent_id.in_(agent_ids))
            .order_by(AgentStateChange.at, AgentStateChange.id)
        )
        return {row.agent_id: row.state for row in rows}


def dials_to(stack: FaultStack, interface: str) -> list[str]:
    """The callers Asterisk dialled ``interface`` for (each Dial's start)."""
    name = interface.split("/", 1)[1]
    return [
        e.get("CallerIDNum", "")
        for e in stack.seen(lambda e: e.get("Event") == "DialBegin")
        if name in e.get("DestChannel", "")
    ]


async def test_a_caller_waits_through_a_redis_loss_and_no_agent_gets_two_calls(
    stack: FaultStack, own_factory: sessionmaker[Session], redis_server: PrivateRedis
) -> None:
    session_factory = own_factory
    # Their phones as their agent rows have them: the rebuilt ACD dials what PostgreSQL says.
    phones = [f"rc{uuid.uuid4().hex[:8]}" for _ in range(2)]
    users = [
        make_user(session_factory, Role.AGENT, interface=f"Local/{p}@sim-agent") for p in phones
    ]
    talker, breaker = (u.agent_id for u in users)
    assert talker is not None and breaker is not None
    stack.watch("DialBegin")
    callers = Callers(stack)
    talker_phone = await stack.add_agent(talker, SKILL, talk=90, name=phones[0])
    breaker_phone = await stack.add_agent(breaker, SKILL, talk=3, name=phones[1])
    await stack.store.change_state(breaker, AgentState.NOT_READY, reason="break", actor="test")
    talking = await callers.call(key="1", hold=120)

    async def talker_on_call() -> bool:
        return await states(stack, [talker]) == [AgentState.ON_CALL]

    await until(talker_on_call, 60, "the talker on the first call", stack)
    waiting = await callers.call(key="1", hold=120)

    async def one_waiting() -> bool:
        calls = await stack.store.waiting_calls(SKILL)
        return [c.status for c in calls] == [CallStatus.WAITING]

    await until(one_waiting, 60, "the second caller waiting in the queue", stack)
    expected = {talker: AgentState.ON_CALL.value, breaker: AgentState.NOT_READY.value}
    await until(
        lambda: last_states(session_factory, [talker, breaker]) == expected,
        30,
        "the agents' states in PostgreSQL's history",
        stack,
    )

    redis_server.kill()
    await asyncio.sleep(3)  # the controller's rounds and the waiting caller's fail meanwhile
    redis_server.start()

    # The view is back: the talker busy with his call, the other on his break, the caller
    # queued again.
    async def rebuilt() -> bool:
        try:
            views = {a: await stack.store.agent(a) for a in (talker, breaker)}
            calls = await stack.store.waiting_calls(SKILL)
        except RedisConnectionError:  # this test's own pooled connection, closed by the kill
            return False
        return {a: v.status.state if v else None for a, v in views.items()} == {
            talker: AgentState.ON_CALL,
            breaker: AgentState.NOT_READY,
        } and [c.status for c in calls] == [CallStatus.WAITING]

    await until(rebuilt, 90, "the ACD's view rebuilt", stack)
    assert dials_to(stack, breaker_phone) == []

    await stack.store.change_state(breaker, AgentState.READY, actor="test")

    def answered_by_breaker() -> bool:
        record = records_of(session_factory, stack.settings, [waiting]).get(waiting)
        return record is not None and record.agent_id == breaker and record.ended_at is not None

    await until(answered_by_breaker, 60, "the waiting caller answered by the other agent", stack)
    # Nobody was given two calls, and the waiting caller never went to the fallback.
    assert dials_to(stack, talker_phone) == [talking]
    assert dials_to(stack, breaker_phone) == [waiting]
    assert not stack.seen(
        lambda e: e.get("UserEvent") == "CallFallback" and e.get("CallerIDNum") == waiting
    )
    # The talker is still on his first call, which the outage did not cut.
    assert await states(stack, [talker]) == [AgentState.ON_CALL]
