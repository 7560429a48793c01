"""Agent state history lands in PostgreSQL, once per change, across writer restarts."""

from __future__ import annotations

import asyncio
import itertools
import uuid
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from backend.acd.model import AgentProfile
from backend.acd.policy import SkillConfig
from backend.acd.states import AgentState
from backend.acd.store import AcdStore
from backend.models.agents import Agent, AgentStateChange
from backend.settings import Settings
from ivr.acd.history import AgentHistoryWriter, row_from_event


@pytest.fixture()
async def aredis(settings: Settings, redis_namespace: str) -> AsyncIterator[Redis]:
    client = Redis.from_url(settings.redis_url, decode_responses=True)
    yield client
    async for key in client.scan_iter(f"{redis_namespace}*"):
        await client.delete(key)
    await client.aclose()


def make_agent(factory: sessionmaker[Session]) -> int:
    with factory() as session, session.begin():
        number = uuid.uuid4().hex[:8]
        agent = Agent(number=number, name="测试坐席", interface=f"Local/{number}@sim-agent")
        session.add(agent)
        session.flush()
        return agent.id


async def test_every_change_is_one_row_with_its_reason(
    aredis: Redis, redis_namespace: str, session_factory: sessionmaker[Session]
) -> None:
    agent_id = make_agent(session_factory)
    # Its own prefix: the event stream must hold this test's events only.
    prefix = f"{redis_namespace}:{uuid.uuid4().hex[:8]}"
    store = AcdStore(aredis, prefix, [SkillConfig("booking", wrapup_seconds=5)])
    await store.register_agent(
        AgentProfile(agent_id, "8001", "Local/8001@sim-agent", {"booking": 6})
    )
    await store.change_state(agent_id, AgentState.READY, actor="desk:8001")
    await store.change_state(agent_id, AgentState.NOT_READY, reason="break", actor="desk:8001")
    await store.change_state(agent_id, AgentState.NOT_READY, reason="meal", actor="desk:8001")
    await store.change_state(agent_id, AgentState.READY, actor="desk:8001")
    await store.enqueue("hist-1", "booking")
    assert await store.pick() is not None
    assert await store.ringing("hist-1", agent_id)
    assert await store.ring_no_answer("hist-1", agent_id)

    first = AgentHistoryWriter(aredis, store.events_key, session_factory, consumer="c1")
    assert await first.drain() == 7
    assert await first.drain() == 0  # acknowledged: nothing twice

    with session_factory() as session:
        rows = session.scalars(
            select(AgentStateChange)
            .where(AgentStateChange.agent_id == agent_id)
            .order_by(AgentStateChange.id)
        ).all()
    assert [(r.state, r.reason) for r in rows] == [
        ("ready", ""),
        ("not_ready", "break"),
        ("not_ready", "meal"),
        ("ready", ""),
        ("reserved", ""),
        ("ringing", ""),
        ("not_ready", "no_answer"),
    ]
    assert rows[0].actor == "desk:8001" and rows[4].call_id == "hist-1"
    assert all(a.at <= b.at for a, b in itertools.pairwise(rows))


async def test_changes_alike_within_one_millisecond_are_each_written(
    aredis: Redis, redis_namespace: str, session_factory: sessionmaker[Session]
) -> None:
    """Ready, not ready, ready again in the same millisecond: three changes, three rows (they
    were once told apart by what they say, and the second "ready" was taken for the first)."""
    agent_id = make_agent(session_factory)
    key = f"{redis_namespace}:{uuid.uuid4().hex[:8]}:acd:events"
    at = "1764150000123"
    for state, reason in (("ready", ""), ("not_ready", "break"), ("ready", "")):
        await aredis.xadd(
            key,
            {"agent_id": str(agent_id), "at": at, "state": state, "reason": reason,
             "call_id": "", "actor": "desk:8001"},
        )  # fmt: skip
    writer = AgentHistoryWriter(aredis, key, session_factory, consumer="c1")
    assert await writer.drain() == 3
    with session_factory() as session:
        states = session.scalars(
            select(AgentStateChange.state)
            .where(AgentStateChange.agent_id == agent_id)
            .order_by(AgentStateChange.id)
        ).all()
    assert states == ["ready", "not_ready", "ready"]


@pytest.mark.parametrize("kept_event_id", [True, False], ids=["event-id", "row-before-event-ids"])
async def test_a_change_committed_but_not_acknowledged_is_not_written_twice(
    aredis: Redis,
    redis_namespace: str,
    session_factory: sessionmaker[Session],
    kept_event_id: bool,
) -> None:
    agent_id = make_agent(session_factory)
    store = AcdStore(aredis, f"{redis_namespace}-w{kept_event_id:d}", [SkillConfig("booking")])
    await store.register_agent(AgentProfile(agent_id, "8002", "x", {"booking": 6}))
    await store.change_state(agent_id, AgentState.READY)
    writer = AgentHistoryWriter(aredis, store.events_key, session_factory, consumer="c1")
    await writer.ensure_group()
    # The writer read the event and committed its row, then died before acknowledging.
    ((_stream, [(event_id, fields)]),) = await aredis.xreadgroup(
        "agent-history", "c1", {store.events_key: ">"}
    )
    with session_factory() as session, session.begin():
        session.add(row_from_event(fields, event_id if kept_event_id else None))
    await store.change_state(agent_id, AgentState.LOGGED_OUT)

    restarted = AgentHistoryWriter(aredis, store.events_key, session_factory, consumer="c1")
    assert await restarted.drain() == 1  # the pending one is skipped, the new one written
    with session_factory() as session:
        states = session.scalars(
            select(AgentStateChange.state).where(AgentStateChange.agent_id == agent_id)
        ).all()
    assert sorted(states) == ["logged_out", "ready"]
    async for key in aredis.scan_iter(f"{redis_namespace}-w*"):
        await aredis.delete(key)


async def test_a_redis_timeout_does_not_end_the_history_writer(
    settings: Settings, aredis: Redis, redis_namespace: str, session_factory: sessionmaker[Session]
) -> None:
    agent_id = make_agent(session_factory)
    prefix = f"{redis_namespace}:{uuid.uuid4().hex[:8]}"
    store = AcdStore(aredis, prefix, [SkillConfig("booking")])
    await store.register_agent(AgentProfile(agent_id, "8001", "Local/8001@sim-agent", {}))
    # A client whose reads time out before the writer's blocking read returns: every idle
    # round fails as a busy host's would.
    hasty = Redis.from_url(settings.redis_url, decode_responses=True, socket_timeout=0.2)
    writer = AgentHistoryWriter(hasty, store.events_key, session_factory, consumer="c1")
    stop = asyncio.Event()
    running = asyncio.create_task(writer.run(stop, block_ms=1000, retry_seconds=0.1))
    await asyncio.sleep(0.5)  # a few failed rounds
    await store.change_state(agent_id, AgentState.READY, actor="desk:8001")

    def written() -> list[str]:
        with session_factory() as session:
            return list(
                session.scalars(
                    select(AgentStateChange.state).where(AgentStateChange.agent_id == agent_id)
                )
            )

    for _ in range(100):
        if written():
            break
        await asyncio.sleep(0.1)
    assert written() == ["ready"] and not running.done()
    stop.set()
    await asyncio.wait_for(running, 10)  # ends normally at stop, no error escapes
    await hasty.aclose()
