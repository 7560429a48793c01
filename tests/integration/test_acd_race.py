"""Two controller processes serve the same queues on the real Redis: no double assignment.

Each controller is a separate OS process with its own Redis connections, looping on
``pick()`` as fast as it can, so both race for every call. A tenth of the rings go
unanswered (the call must come back and be served once by someone else).
"""

from __future__ import annotations

import asyncio
import json
import random
import sys

from redis.asyncio import Redis

from backend.acd.model import AgentProfile
from backend.acd.policy import SkillConfig
from backend.acd.states import AgentState
from backend.acd.store import AcdStore
from backend.settings import Settings

SKILLS = [SkillConfig("booking", wrapup_seconds=0), SkillConfig("policy", wrapup_seconds=0)]
CALLS = 50
AGENTS = 8


async def controller(redis_url: str, namespace: str, name: str) -> None:
    """One controller: pick, ring, talk briefly, hang up; report any double booking."""
    redis = Redis.from_url(redis_url, decode_responses=True)
    store = AcdStore(redis, namespace, SKILLS, controller_id=name)
    rng = random.Random(name)
    log = f"{namespace}:race:log"
    # Both start picking together: a process that started late (imports take a few tenths of
    # a second) would find the other had served every call, and there would be no race.
    await redis.incr(f"{namespace}:race:ready")
    for _ in range(12000):
        if int(await redis.get(f"{namespace}:race:ready") or 0) >= 2:
            break
        await asyncio.sleep(0.005)
    idle_rounds = 0
    while idle_rounds < 200:
        assignment = await store.pick()
        if assignment is None:
            if await redis.get(f"{namespace}:race:done") == str(CALLS):
                break
            idle_rounds += 1
            await asyncio.sleep(0.005)
            continue
        idle_rounds = 0
        call, agent = assignment.call_id, assignment.agent_id
        # Flags any moment where another controller holds the same call or agent.
        got_call = await redis.hsetnx(f"{namespace}:race:call-holder", call, name)
        got_agent = await redis.hsetnx(f"{namespace}:race:agent-holder", str(agent), name)
        entry = {"call": call, "agent": agent, "by": name, "clash": not (got_call and got_agent)}
        await store.ringing(call, agent)
        await asyncio.sleep(rng.uniform(0, 0.01))
        answered = rng.random() > 0.1
        await redis.hdel(f"{namespace}:race:call-holder", call)
        await redis.hdel(f"{namespace}:race:agent-holder", str(agent))
        if answered:
            await store.connected(call, agent)
            await store.call_ended(call, agent, handle_seconds=1)
            await redis.incr(f"{namespace}:race:done")
        else:
            await store.ring_no_answer(call, agent)
            await store.change_state(agent, AgentState.READY, actor="test")
        entry["answered"] = answered
        await redis.rpush(log, json.dumps(entry))
    await redis.aclose()


async def test_two_controller_processes_never_double_assign(
    settings: Settings, redis_namespace: str
) -> None:
    namespace = f"{redis_namespace}-race"
    redis = Redis.from_url(settings.redis_url, decode_responses=True)
    store = AcdStore(redis, namespace, SKILLS, controller_id="setup")
    try:
        for agent_id in range(1, AGENTS + 1):
            skills = {"booking": 5} if agent_id % 2 else {"booking": 3, "policy": 8}
            await store.register_agent(AgentProfile(agent_id, str(agent_id), "x", skills))
            await store.change_state(agent_id, AgentState.READY)
        for n in range(CALLS):
            await store.enqueue(f"call-{n:02}", "policy" if n % 3 == 0 else "booking", n % 2)

        procs = [
            await asyncio.create_subprocess_exec(
                sys.executable, __file__, settings.redis_url, namespace, name
            )
            for name in ("controller-a", "controller-b")
        ]
        codes = await asyncio.wait_for(asyncio.gather(*(p.wait() for p in procs)), timeout=120)
        assert codes == [0, 0]

        entries = [json.loads(e) for e in await redis.lrange(f"{namespace}:race:log", 0, -1)]
        answered = [e for e in entries if e["answered"]]
        assert not [e for e in entries if e["clash"]]
        assert sorted(e["call"] for e in answered) == [f"call-{n:02}" for n in range(CALLS)]
        assert {e["by"] for e in answered} == {"controller-a", "controller-b"}
        policy_agents = {e["agent"] for e in answered if int(e["call"][5:]) % 3 == 0}
        assert all(agent % 2 == 0 for agent in policy_agents)  # only agents with the skill
        assert await store.waiting_calls() == []
        assert {a.status.state for a in await store.agents()} == {AgentState.READY}
    finally:
        async for key in redis.scan_iter(f"{namespace}*"):
            await redis.delete(key)
        await redis.aclose()


if __name__ == "__main__":
    asyncio.run(controller(*sys.argv[1:4]))
