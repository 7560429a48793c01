"""The agents' queue_log lines, from the ACD's event stream in Redis into the file."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from redis.asyncio import Redis

from backend.acd.model import AgentProfile
from backend.acd.policy import SkillConfig
from backend.acd.states import AgentState
from backend.acd.store import AcdStore
from backend.settings import Settings
from ivr.acd.memberlog import MemberLogWriter
from ivr.acd.queuelog import QueueLogFile, parse_line


@pytest.fixture()
async def store(settings: Settings, redis_namespace: str) -> AsyncIterator[AcdStore]:
    client = Redis.from_url(settings.redis_url, decode_responses=True)
    prefix = f"{redis_namespace}:{uuid.uuid4().hex[:8]}"
    yield AcdStore(client, prefix, [SkillConfig("booking"), SkillConfig("policy")])
    async for key in client.scan_iter(f"{prefix}*"):
        await client.delete(key)
    await client.aclose()


def events(path: Path) -> list[tuple[str, str, str, str]]:
    lines = path.read_text().splitlines() if path.exists() else []
    return [(e.queue, e.agent, e.event, "|".join(map(str, e.data))) for e in map(parse_line, lines)]


async def test_sign_in_pause_and_sign_out_are_logged_once_each(
    store: AcdStore, tmp_path: Path
) -> None:
    log = QueueLogFile(tmp_path / "queue_log")
    writer = MemberLogWriter(store.redis, store.events_key, log, group="queue-log:test")
    await store.register_agent(AgentProfile(7, "1007", "Local/1007@sim-agent", {"booking": 5}))
    await store.change_state(7, AgentState.READY, actor="desk")  # before the writer ever ran
    await writer.ensure_group()
    await store.change_state(7, AgentState.NOT_READY, reason="meal", actor="desk")
    await store.change_state(7, AgentState.READY, actor="desk")
    await store.change_state(7, AgentState.LOGGED_OUT, actor="desk")
    await store.register_agent(
        AgentProfile(7, "1007", "Local/1007@sim-agent", {"booking": 5, "policy": 2})
    )
    await store.change_state(7, AgentState.NOT_READY, reason="login", actor="desk")
    assert await writer.drain() == 4
    assert await writer.drain() == 0  # acknowledged: never written twice
    assert events(log.path) == [
        ("NONE", "Agent/7", "PAUSEALL", "meal"),
        ("booking", "Agent/7", "PAUSE", "meal"),
        ("NONE", "Agent/7", "UNPAUSEALL", ""),
        ("booking", "Agent/7", "UNPAUSE", ""),
        # Each change in the queues of the skills he had then.
        ("booking", "Agent/7", "REMOVEMEMBER", ""),
        ("booking", "Agent/7", "ADDMEMBER", "PAUSED"),
        ("policy", "Agent/7", "ADDMEMBER", "PAUSED"),
    ]
