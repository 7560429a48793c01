"""Bench: ACD routing decision latency in Redis, against plain Redis round trips, same run.

Part 1. Loads 300 agents (1–3 of five skills, levels 1–10) and 1,000 waiting calls (mixed
priorities, some past their overflow time) into a scratch key prefix, then times
``AcdStore.pick()`` — one atomic "best call, best agent, reserve both" — many times. After each
timed pick the reservation is undone outside the timing (call back in its place, agent ready),
so every decision sees the same 300/1,000 load. Two shapes:

* ``all ready``: every agent ready (the decision is found on the first candidate);
* ``busy``: only 10 agents ready, all on the least common skill, so the script walks every
  queue's candidates before it finds the match.

Baselines measured in the same run on the same connection: ``PING`` and ``ZRANGE`` of the head
of one queue. The figures are printed as ratios against them; the issue's target is p99 < 5 ms.

Usage: ``.venv/bin/python bench/acd/run.py [--rounds 2000] [--asa]``; ``--asa`` also runs part 2
(:mod:`asa`, average speed of answer against app_queue on a scratch Asterisk).
"""

from __future__ import annotations

import argparse
import asyncio
import random
import time
import uuid
from collections.abc import Awaitable, Callable

from redis.asyncio import Redis

from backend.acd.model import AgentProfile
from backend.acd.policy import SkillConfig
from backend.acd.states import AgentState
from backend.acd.store import AcdStore
from backend.settings import load_settings

SKILLS = [
    SkillConfig("booking", overflow_skill="reimbursement", overflow_after_seconds=60),
    SkillConfig("policy", overflow_skill="complaints", overflow_after_seconds=90),
    SkillConfig("reimbursement"),
    SkillConfig("card"),
    SkillConfig("complaints"),
]
AGENTS, CALLS = 300, 1000


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def timed(fn: Callable[[], Awaitable[object]], rounds: int) -> list[float]:
    samples = []
    for _ in range(rounds):
        start = time.perf_counter()
        await fn()
        samples.append((time.perf_counter() - start) * 1000)
    return samples


async def load(store: AcdStore, rng: random.Random, ready_filter: Callable[[int], bool]) -> None:
    now = time.time()
    codes = [s.code for s in SKILLS]
    for agent_id in range(1, AGENTS + 1):
        if agent_id <= 10:
            skills = {"card": rng.randint(1, 10)}
        else:
            picked = rng.sample(codes[:3] + codes[4:], rng.randint(1, 3))
            skills = {s: rng.randint(1, 10) for s in picked}
        await store.register_agent(AgentProfile(agent_id, str(1000 + agent_id), "x", skills))
        if ready_filter(agent_id):
            await store.change_state(agent_id, AgentState.READY, at=now - rng.uniform(0, 600))
    for n in range(CALLS):
        skill = codes[n % len(codes)]
        if skill == "card" and n % 50 != 3:
            skill = "booking"  # card is rare: in the busy shape it is found last
        priority = rng.choice([0, 0, 0, 1, 2])
        await store.enqueue(f"bench-{n}", skill, priority, entered_at=now - rng.uniform(0, 300))


async def measure_picks(redis: Redis, store: AcdStore, rounds: int) -> list[float]:
    samples = []
    for _ in range(rounds):
        start = time.perf_counter()
        assignment = await store.pick()
        samples.append((time.perf_counter() - start) * 1000)
        if assignment is None:
            raise RuntimeError("no assignment: the bench load is wrong")
        # Undo outside the timing: the agent keeps his idle place, the call its entry time.
        call = await store.call(assignment.call_id)
        assert call is not None
        await store.abandon(assignment.call_id)
        await redis.delete(store.key("call", assignment.call_id))
        await store.enqueue(call.call_id, call.skill, call.priority, entered_at=call.entered_at)
    return samples


def row(name: str, samples: list[float], ping: list[float], zrange: list[float]) -> str:
    p50, p99 = percentile(samples, 0.5), percentile(samples, 0.99)
    return (
        f"{name:<22} p50 {p50:6.3f} ms  p99 {p99:6.3f} ms   "
        f"p50/PING {p50 / percentile(ping, 0.5):4.1f}x  "
        f"p50/ZRANGE {p50 / percentile(zrange, 0.5):4.1f}x  "
        f"p99/PING p99 {p99 / percentile(ping, 0.99):4.1f}x  "
        f"target p99 < 5 ms: {'met' if p99 < 5 else 'MISSED'}"
    )


async def main(rounds: int) -> None:
    settings = load_settings()
    redis = Redis.from_url(settings.redis_url, decode_responses=True)
    prefix = f"bench-acd-{uuid.uuid4().hex[:8]}"
    try:
        results: list[tuple[str, list[float]]] = []
        for shape, ready in (
            ("all ready", lambda _i: True),
            ("busy (10 ready)", lambda i: i <= 10),
        ):
            store = AcdStore(redis, f"{prefix}-{len(results)}", SKILLS, controller_id="bench")
            await load(store, random.Random(114), ready)
            await measure_picks(redis, store, 50)  # warm the script cache and the connection
            results.append((shape, await measure_picks(redis, store, rounds)))
            queue_key = store.key("queue", "booking")
        ping = await timed(redis.ping, rounds)
        zrange = await timed(lambda: redis.zrange(queue_key, 0, 0, withscores=True), rounds)
        print(f"ACD routing decision, {AGENTS} agents, {CALLS} waiting calls, {rounds} decisions")
        for name, base in (("baseline PING", ping), ("baseline ZRANGE head", zrange)):
            p50, p99 = percentile(base, 0.5), percentile(base, 0.99)
            print(f"{name:<22} p50 {p50:6.3f} ms  p99 {p99:6.3f} ms")
        for shape, samples in results:
            print(row(f"pick, {shape}", samples, ping, zrange))
    finally:
        async for key in redis.scan_iter(f"{prefix}*"):
            await redis.delete(key)
        await redis.aclose()  # type: ignore[attr-defined]


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=2000)
    parser.add_argument("--asa", action="store_true", help="also run part 2 (needs Asterisk)")
    args = parser.parse_args()
    asyncio.run(main(args.rounds))
    if args.asa:
        from bench.acd import asa  # run from the repository root: python -m bench.acd.run

        asyncio.run(asa.main(callers=20, agents=5))
