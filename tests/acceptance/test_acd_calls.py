"""The ACD on the real Asterisk: simulated callers (Local/ channels) reach simulated agents."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import pytest
from redis.asyncio import Redis

from backend.settings import Settings
from ivr.acd.dispatcher import Dispatcher
from ivr.acd.policy import SkillConfig
from ivr.acd.queue import AcdQueue, QueueReport, QueueSettings
from ivr.acd.states import AgentState
from ivr.acd.store import AcdStore, AgentProfile
from ivr.agi.session import AgiSession
from ivr.flows.ports import CallInfo, PromptText, QueueOutcome, QueueStatus
from tests.asterisk_fixtures import DID_114, AgiRoutes, SimulatedAgents, SimulatedCaller

pytestmark = pytest.mark.asterisk

SKILLS = [
    SkillConfig("booking", wrapup_seconds=1, max_wait_seconds=120),
    SkillConfig("policy", wrapup_seconds=1, max_wait_seconds=120),
]
_names = itertools.count(1)


class SilencePrompts:
    """Announcements as short real sounds, so tests do not wait on espeak for every text."""

    def __init__(self) -> None:
        self.texts: list[str] = []

    async def sound(self, prompt: PromptText, *, elderly: bool) -> str:
        self.texts.append(prompt.text)
        return "beep"


@dataclass
class Recorder:
    reports: list[QueueReport] = field(default_factory=list)

    async def queue_left(self, report: QueueReport) -> None:
        self.reports.append(report)


@dataclass
class Acd:
    store: AcdStore
    queue: AcdQueue
    prompts: SilencePrompts
    recorder: Recorder
    outcomes: dict[str, QueueOutcome]
    done: asyncio.Queue[str]


@pytest.fixture()
async def acd(
    settings: Settings, redis_namespace: str, agi_routes: AgiRoutes
) -> AsyncIterator[Acd]:
    redis = Redis.from_url(settings.redis_url, decode_responses=True)
    prefix = f"{redis_namespace}-acc{next(_names)}"
    store = AcdStore(redis, prefix, SKILLS, controller_id="acceptance")
    dispatcher = Dispatcher(store, tick_seconds=0.05)
    prompts, recorder = SilencePrompts(), Recorder()
    queue = AcdQueue(
        store,
        prompts,
        dispatcher,
        QueueSettings(ring_timeout_seconds=4, announce_every_seconds=6),
        observer=recorder,
    )
    outcomes: dict[str, QueueOutcome] = {}
    done: asyncio.Queue[str] = asyncio.Queue()

    async def controller(session: AgiSession) -> None:
        skill = await session.get_variable("SIM_SKILL") or "booking"
        priority = int(await session.get_variable("SIM_PRIORITY") or 0)
        call = CallInfo(
            call_id=session.linked_id,
            unique_id=session.call_id,
            line="114",
            caller_number=session.env.get("callerid", ""),
            did=DID_114,
        )
        try:
            outcomes[session.env.get("callerid", "")] = await queue.enter_queue(
                session, call, skill, priority
            )
        finally:
            await done.put(session.env.get("callerid", ""))

    agi_routes.set("114", controller)
    stop = asyncio.Event()
    runner = asyncio.create_task(dispatcher.run(stop))
    yield Acd(store, queue, prompts, recorder, outcomes, done)
    stop.set()
    await runner
    async for key in redis.scan_iter(f"{prefix}*"):
        await redis.delete(key)
    await redis.aclose()


async def add_agent(
    acd: Acd, agents: SimulatedAgents, agent_id: int, skills: dict[str, int], *,
    ring: float = 0.5, talk: float = 2,
) -> None:  # fmt: skip
    name = f"a{agent_id}x{next(_names)}"
    interface = await agents.configure(name, ring=ring, talk=talk)
    await acd.store.register_agent(AgentProfile(agent_id, str(1000 + agent_id), interface, skills))
    await acd.store.change_state(agent_id, AgentState.READY, actor="test")


async def wait_done(acd: Acd, count: int, timeout: float = 90) -> list[str]:
    return [await asyncio.wait_for(acd.done.get(), timeout) for _ in range(count)]


async def test_a_caller_is_answered_by_the_agent_with_the_skill(
    acd: Acd, simulated_caller: SimulatedCaller, simulated_agents: SimulatedAgents
) -> None:
    await add_agent(acd, simulated_agents, 1, {"policy": 9})
    await add_agent(acd, simulated_agents, 2, {"booking": 5}, talk=2)
    await simulated_caller.call(DID_114, caller_id="13800000001", hold=15)
    await wait_done(acd, 1)
    outcome = acd.outcomes["13800000001"]
    assert outcome.status == QueueStatus.ANSWERED and outcome.agent_id == 2
    (report,) = acd.recorder.reports
    assert report.status == "answered" and report.answered_at is not None
    assert 1.5 <= report.talk_seconds <= 3.0
    assert report.wait_seconds < 3  # agent rang 0.5 s
    agent = await acd.store.agent(2)
    assert agent is not None and agent.status.state in (AgentState.WRAP_UP, AgentState.READY)
