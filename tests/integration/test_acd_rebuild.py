"""Redis killed (``kill -9``) and started again EMPTY (no persistence) under two running
controllers' routing loops: the ACD rebuilds its view (``ivr/acd/rebuild.py``). The signed-in
agents are back as PostgreSQL's state history last saw them (the talking one busy, never
given a second call), the callers the controllers hold are queued again in their order, and
routing continues. A Redis of the test's own (``tests.private_servers``), never the machine's."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable

from redis.asyncio import Redis as AsyncRedis
from sqlalchemy.orm import Session, sessionmaker

from backend.acd.model import AgentProfile, CallStatus
from backend.acd.policy import SkillConfig
from backend.acd.states import AgentState
from backend.acd.store import AcdStore
from backend.db import transaction
from backend.models.agents import AgentSkill
from backend.models.users import Role
from ivr.acd.dispatcher import Dispatcher
from ivr.acd.history import AgentHistoryWriter
from ivr.acd.rebuild import HeldCall, HeldCalls, Rebuilder
from tests.desk_support import ensure_skill, make_user
from tests.private_servers import PrivateRedis, private_redis


async def until(what: str, check: Callable[[], Awaitable[bool]], within: float = 15.0) -> None:
    deadline = time.monotonic() + within
    while True:
        with contextlib.suppress(ConnectionError, OSError):
            if await check():
                return
        assert time.monotonic() < deadline, f"never happened: {what}"
        await asyncio.sleep(0.1)


def agents_with_skill(factory: sessionmaker[Session], skill: str, count: int) -> list[int]:
    """Agents (desk users with an agent row) who serve ``skill`` only."""
    ensure_skill(factory, skill)
    ids = []
    for _ in range(count):
        user = make_user(factory, Role.AGENT)
        assert user.agent_id is not None
        with transaction(factory) as db:
            db.query(AgentSkill).filter_by(agent_id=user.agent_id).delete()
            db.add(AgentSkill(agent_id=user.agent_id, skill_code=skill, level=5))
        ids.append(user.agent_id)
    return ids


def test_acd_rebuilt_after_redis_came_back_empty(
    session_factory: sessionmaker[Session], run_id: str
) -> None:
    skill, other = f"rb{run_id}", f"ro{run_id}"
    talker, breaker, later = agents_with_skill(session_factory, skill, 3)
    (idle,) = agents_with_skill(session_factory, other, 1)
    with private_redis(persist=False) as server:
        asyncio.run(
            scenario(
                server, session_factory, run_id, (skill, other), (talker, breaker, later, idle)
            )
        )


async def scenario(
    server: PrivateRedis,
    factory: sessionmaker[Session],
    run_id: str,
    skills: tuple[str, str],
    agents: tuple[int, int, int, int],
) -> None:
    skill, other = skills
    talker, breaker, later, idle = agents
    client = AsyncRedis.from_url(server.url, decode_responses=True)
    ns = f"rebuild-{run_id}"
    configs = [SkillConfig(skill, wrapup_seconds=60), SkillConfig(other)]
    x, y = (AcdStore(client, ns, configs, controller_id=c) for c in ("ctl-x", "ctl-y"))
    held = {"ctl-x": HeldCalls(), "ctl-y": HeldCalls()}
    history = AgentHistoryWriter(client, x.events_key, factory, consumer="test")
    profiles = {
        a: AgentProfile(a, f"9{a}", f"Local/a{a}@sim-agent", {other if a == idle else skill: 5})
        for a in agents
    }
    stop = asyncio.Event()
    dispatchers = [
        Dispatcher(
            s, recover_every_seconds=0.5, rebuild=Rebuilder(s, held[s.controller_id], factory)
        )
        for s in (x, y)
    ]
    loops = [asyncio.create_task(d.run(stop)) for d in dispatchers]
    await until("the controllers' first round", lambda: client.exists(x.key("epoch")))

    # Agents sign in as the desk signs them in; the history writer records it in PostgreSQL.
    for agent in agents:
        await x.register_agent(profiles[agent])
    await x.change_state(talker, AgentState.READY)
    await x.change_state(idle, AgentState.READY)
    for agent in (breaker, later):
        await x.change_state(agent, AgentState.NOT_READY, reason="break")
    # One caller is talking to the talker; three wait (two on ctl-x, one on ctl-y).
    talking = f"{ns}-c1"
    await x.enqueue(talking, skill, line="114")
    await until("the talker's call", lambda: _reserved(x, talker, talking))
    assert await x.take_assignment(talking) == talker
    assert await x.ringing(talking, talker) and await x.connected(talking, talker)
    waiting = [f"{ns}-c{i}" for i in (2, 3, 4)]
    for i, call_id in enumerate(waiting):
        store = y if i == 1 else x
        queued = await store.enqueue(call_id, skill, 1 if i == 0 else 0, line="114")
        held[store.controller_id].hold(
            HeldCall(call_id, skill, queued.priority, "114", queued.entered_at)
        )
    before = [(c.call_id, c.entered_at, c.priority) for c in await x.waiting_calls(skill)]
    assert [c for c, _, _ in before] == waiting
    while await history.drain():
        pass

    server.kill()
    assert not server.persist
    await asyncio.sleep(1.0)  # the controllers' rounds fail meanwhile, and go on
    server.start()

    await until("the view rebuilt", lambda: _rebuilt(x, len(waiting)))
    after = [(c.call_id, c.entered_at, c.priority) for c in await x.waiting_calls(skill)]
    assert after == before  # same callers, same order, first entry times kept
    states = {a: (await x.agent(a)) for a in agents}
    assert {a: v.status.state if v else None for a, v in states.items()} == {
        talker: AgentState.ON_CALL,  # busy with his call, not ready
        breaker: AgentState.NOT_READY,
        later: AgentState.NOT_READY,
        idle: AgentState.READY,
    }
    assert states[talker] and states[talker].status.call_id == talking
    assert states[breaker] and states[breaker].status.reason == "break"
    assert await x.ready_count(other) == 1

    # Routing continues: agents made ready get the callers in order, the talker none.
    await x.change_state(breaker, AgentState.READY)
    await until("the first caller routed", lambda: _reserved(x, breaker, waiting[0]))
    await y.change_state(later, AgentState.READY)
    await until("the second caller routed", lambda: _reserved(x, later, waiting[1]))
    stop.set()
    await asyncio.gather(*loops)
    talker_now = await x.agent(talker)
    assert talker_now and talker_now.status.state == AgentState.ON_CALL
    assert [c.call_id for c in await x.waiting_calls(skill)] == waiting[2:]
    reserved = [c for c in waiting if (call := await x.call(c)) and call.agent_id is not None]
    assert reserved == waiting[:2]
    await client.aclose()  # type: ignore[attr-defined]


async def _reserved(store: AcdStore, agent_id: int, call_id: str) -> bool:
    view = await store.agent(agent_id)
    call = await store.call(call_id)
    return bool(
        view
        and view.status.state == AgentState.RESERVED
        and view.status.call_id == call_id
        and call
        and call.status == CallStatus.RESERVED
        and call.agent_id == agent_id
    )


async def _rebuilt(store: AcdStore, calls: int) -> bool:
    marked = await store.redis.exists(store.key("epoch"))
    return bool(marked) and len(await store.waiting_calls()) == calls and bool(await store.agents())
