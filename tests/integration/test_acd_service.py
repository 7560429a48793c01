"""The ACD as the controller builds it: routing loop and history writer run together."""

from __future__ import annotations

import asyncio
import uuid

from redis.asyncio import Redis
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from backend.acd.model import AgentProfile
from backend.acd.policy import SkillConfig
from backend.acd.states import AgentState
from backend.ami.client import AmiClient
from backend.ami.users import AmiUser
from backend.flows.schema import PromptText
from backend.models.agents import Agent, AgentStateChange
from backend.settings import Settings
from ivr.acd.callbacks import SCRIPT
from ivr.acd.service import build_acd


class Silence:
    async def sound(self, prompt: PromptText, *, elderly: bool) -> str:
        return "silence/1"


async def test_built_service_routes_calls_and_records_agent_history(
    settings: Settings, redis_namespace: str, session_factory: sessionmaker[Session]
) -> None:
    with session_factory() as db, db.begin():
        agent = Agent(number=uuid.uuid4().hex[:8], name="坐席", interface="Local/x@sim-agent")
        db.add(agent)
        db.flush()
        agent_id = agent.id
    redis = Redis.from_url(settings.redis_url, decode_responses=True)
    prefix = f"{redis_namespace}-svc"
    service = build_acd(
        settings.model_copy(update={"desk_redis_prefix": prefix}),
        redis,
        session_factory,
        AmiClient(settings, AmiUser.CONTROLLER),  # not connected: nothing here dials
        Silence(),
        [SkillConfig("booking")],
        controller_id="node-1",
    )
    assert set(service.agi_routes()) == {SCRIPT}
    stop = asyncio.Event()
    runner = asyncio.create_task(service.run(stop))
    await asyncio.wait_for(service.dispatcher.ready.wait(), 10)
    try:
        await queue_log_following(redis, service.store.events_key)
        await service.store.register_agent(AgentProfile(agent_id, "8101", "x", {"booking": 5}))
        await service.store.change_state(agent_id, AgentState.READY, actor="desk:8101")
        await service.store.enqueue("svc-call", "booking")
        service.dispatcher.kick()
        for _ in range(100):
            view = await service.store.agent(agent_id)
            if view is not None and view.status.state == AgentState.RESERVED:
                break
            await asyncio.sleep(0.05)
        assert view is not None and view.status.call_id == "svc-call"
        for _ in range(100):
            with session_factory() as db:
                states = db.scalars(
                    select(AgentStateChange.state)
                    .where(AgentStateChange.agent_id == agent_id)
                    .order_by(AgentStateChange.id)
                ).all()
            if len(states) == 2:
                break
            await asyncio.sleep(0.05)
        assert list(states) == ["ready", "reserved"]
        # The agent's sign-in is in the controller's queue_log too (docs/queue-log.md).
        signed_in = f"|NONE|booking|Agent/{agent_id}|ADDMEMBER|"
        log = settings.state_dir / "queue_log"
        for _ in range(100):
            if log.exists() and signed_in in log.read_text():
                break
            await asyncio.sleep(0.05)
        assert signed_in in log.read_text()
    finally:
        stop.set()
        await runner
        async for key in redis.scan_iter(f"{prefix}*"):
            await redis.delete(key)
        await redis.aclose()


async def queue_log_following(redis: Redis, events_key: str) -> None:
    """Wait for the service's queue_log writer to follow the event stream: its group starts
    at the stream's end, so a change made before would not be its to write."""
    for _ in range(100):
        if await redis.exists(events_key):
            groups = await redis.xinfo_groups(events_key)
            if any(g["name"] == "queue-log:node-1" for g in groups):
                return
        await asyncio.sleep(0.05)
    raise AssertionError("the queue_log writer never joined the event stream")
