"""A background loop whose database call fails is restarted by its supervisor, and the
restart shows in the process's health (issue 19): the agent-state history writer, its
PostgreSQL write refused for real by a table lock it may not wait for."""

from __future__ import annotations

import asyncio
import threading
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from redis.asyncio import Redis
from sqlalchemy import create_engine, select, text
from sqlalchemy.orm import Session, sessionmaker

from backend.acd.model import AgentProfile
from backend.acd.policy import SkillConfig
from backend.acd.states import AgentState
from backend.acd.store import AcdStore
from backend.db import make_session_factory
from backend.models.agents import AgentStateChange
from backend.settings import Settings
from backend.supervision import Backoff, HealthFile, Supervisor, health_lines, read_health
from ivr.acd.history import AgentHistoryWriter
from tests.integration.test_acd_history import make_agent


@pytest.fixture()
async def aredis(settings: Settings, redis_namespace: str) -> AsyncIterator[Redis]:
    client = Redis.from_url(settings.redis_url, decode_responses=True)
    yield client
    async for key in client.scan_iter(f"{redis_namespace}:sup*"):
        await client.delete(key)
    await client.aclose()


@pytest.fixture()
def impatient_sessions(settings: Settings) -> Iterator[sessionmaker[Session]]:
    """Sessions that give up on a lock after 0.3 s, as a busy production database would
    time a statement out: the lock below then fails the writer's call at once."""
    engine = create_engine(settings.database_url, connect_args={"options": "-c lock_timeout=300"})
    yield make_session_factory(engine)
    engine.dispose()


class TableLock:
    """An administrator's ACCESS EXCLUSIVE lock on a table, held until ``release``."""

    def __init__(self, factory: sessionmaker[Session], table: str) -> None:
        self._factory, self._table = factory, table
        self._taken, self._release = threading.Event(), threading.Event()
        self._thread = threading.Thread(target=self._hold, daemon=True)

    def __enter__(self) -> TableLock:
        self._thread.start()
        assert self._taken.wait(10)
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()

    def release(self) -> None:
        self._release.set()
        self._thread.join(10)

    def _hold(self) -> None:
        with self._factory() as session, session.begin():
            session.execute(text(f"LOCK TABLE {self._table} IN ACCESS EXCLUSIVE MODE"))
            self._taken.set()
            self._release.wait(30)


async def test_the_history_loop_is_restarted_after_a_database_error_and_counted(
    aredis: Redis,
    redis_namespace: str,
    session_factory: sessionmaker[Session],
    impatient_sessions: sessionmaker[Session],
    tmp_path: Path,
) -> None:
    agent_id = make_agent(session_factory)
    store = AcdStore(aredis, f"{redis_namespace}:sup{uuid.uuid4().hex[:6]}", [SkillConfig("b")])
    await store.register_agent(AgentProfile(agent_id, "8101", "Local/8101@sim-agent", {"b": 5}))
    writer = AgentHistoryWriter(aredis, store.events_key, impatient_sessions, consumer="c1")
    supervisor = Supervisor("controller", Backoff(first_seconds=0.2))
    stop = asyncio.Event()

    with TableLock(session_factory, AgentStateChange.__tablename__) as lock:
        await store.change_state(agent_id, AgentState.READY, actor="test")
        supervisor.start("agent-history", lambda: writer.run(stop, block_ms=200), stop)
        health = supervisor.health()["agent-history"]
        for _ in range(100):  # the write fails once the lock has waited 0.3 s
            if health.restarts:
                break
            await asyncio.sleep(0.1)
        lock.release()
        assert health.restarts >= 1 and "LockNotAvailable" in health.last_error

        def written() -> list[AgentStateChange]:
            with session_factory() as db:
                query = select(AgentStateChange).where(AgentStateChange.agent_id == agent_id)
                return list(db.scalars(query))

        for _ in range(100):  # restarted, the loop writes the change it failed to
            if await asyncio.to_thread(written):
                break
            await asyncio.sleep(0.1)
    stop.set()
    await supervisor.wait()
    assert [row.state for row in written()] == [AgentState.READY]
    assert health.running is False

    HealthFile(supervisor, tmp_path).write()
    loops = read_health(tmp_path, "controller")
    assert loops is not None and int(str(loops["agent-history"]["restarts"])) >= 1
    (line,) = health_lines(loops)
    assert line.startswith("loop agent-history: ") and "LockNotAvailable" in line
