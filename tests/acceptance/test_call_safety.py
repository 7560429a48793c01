"""Calls survive their controller and Asterisk (issue 19), faults injected for real on a
stack of the module's own: `callcenter controller` killed with SIGKILL mid-call, and Asterisk
restarted under bridged calls. Both tests share one stack (one Asterisk, one controller
process, restarted as a supervisor would)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from backend.acd.model import CallStatus
from backend.acd.states import AgentState
from backend.models.calls import CallRecord, Disposition, RecordingStatus
from backend.models.users import Role
from backend.settings import Settings
from backend.supervision import read_health
from ivr.agi.server import AgiServer
from ivr.agi.session import AgiSession
from ivr.pbx.instance import AsteriskInstance
from tests.call_safety_support import (
    FALLBACK_AGENT,
    Callers,
    FaultStack,
    all_on_call,
    recordings_of,
    records_of,
    running_fault_stack,
    states,
    until,
)
from tests.conftest import free_port
from tests.desk_support import make_user

pytestmark = pytest.mark.asterisk

SKILL = "booking"  # key 1 of the 114 flow
TALK = 20  # seconds each agent talks before hanging up: long after the controller is killed


@pytest.fixture(scope="module")
async def stack(
    asterisk: AsteriskInstance,  # the shared root is built
    settings: Settings,
    database_url: str,
    session_factory: sessionmaker[Session],
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[FaultStack]:
    # A backup controller: nobody listens there but in the test that starts one, so the
    # other tests' calls find it refused and go on to the fallback agents.
    backup = {"CC_AGI_BACKUP_URLS": f"agi://127.0.0.1:{free_port()}"}
    state = tmp_path_factory.mktemp("safety")
    async with running_fault_stack(
        "safety", database_url, session_factory, settings, state, backup
    ) as built:
        yield built


@pytest.fixture(scope="module")
def agents(session_factory: sessionmaker[Session]) -> list[int]:
    """The module's two agents (both tests': no agent of one test is left to take the
    other's calls)."""
    ids = [make_user(session_factory, Role.AGENT).agent_id for _ in range(2)]
    return [i for i in ids if i is not None]


async def test_a_killed_controller_sends_its_callers_to_the_fallback_and_cuts_no_talk(
    stack: FaultStack, session_factory: sessionmaker[Session], agents: list[int]
) -> None:
    for agent_id in agents:
        await stack.add_agent(agent_id, SKILL, talk=TALK)
    callers = Callers(stack)
    talking = [await callers.call(key="1") for _ in range(2)]
    await until(lambda: all_on_call(stack, agents), 40, "both agents on call", stack)
    queued = [await callers.call(key="1") for _ in range(5)]
    in_menu = [await callers.call() for _ in range(5)]
    waiting = lambda: stack.store.waiting_calls(SKILL)  # noqa: E731

    async def five_waiting() -> bool:
        return len([c for c in await waiting() if c.status == CallStatus.WAITING]) == 5

    await until(five_waiting, 40, "five callers waiting in the queue", stack)
    await until(
        lambda: len(records_of(session_factory, stack.settings, in_menu)) == 5,
        20,
        "the menu callers' calls opened",
        stack,
    )

    stack.kill_controller()
    killed_at = time.time()

    # Every caller in the menu or the queue reaches the fallback agents, told why.
    def fallbacks() -> set[str]:
        return {
            e.get("CallerIDNum", "")
            for e in stack.seen(lambda e: e.get("UserEvent") == "CallFallback")
            if e.get("Reason") == "controller-lost"
        }

    def served_by_fallback_agents() -> set[str]:
        dials = stack.seen(
            lambda e: (
                e.get("DestChannel", "").startswith(FALLBACK_AGENT)
                and e.get("DialStatus") == "ANSWER"
            )
        )
        return {e.get("CallerIDNum", "") for e in dials}

    await until(lambda: fallbacks() >= set(queued + in_menu), 40, "ten fallbacks", stack)
    await until(
        lambda: served_by_fallback_agents() >= set(queued + in_menu),
        30,
        "the fallback agents answering the ten",
        stack,
    )
    assert fallbacks().isdisjoint(talking)
    assert served_by_fallback_agents().isdisjoint(talking)

    # The controller comes back (as its supervisor would start it): its resync closes what
    # the killed one left open, once each call is over.
    stack.start_controller()
    await stack.serving()
    everyone = talking + queued + in_menu

    def all_closed() -> bool:
        records = records_of(session_factory, stack.settings, everyone)
        return len(records) == 12 and all(r.ended_at is not None for r in records.values())

    await until(all_closed, TALK + 40, "every record closed", stack)
    # The restarted controller's loops run supervised, their health where `status` reads it.
    loops = read_health(stack.settings.state_dir, "controller") or {}
    assert {"dispatcher", "agent-history", "resync", "answers.DialEnd"} <= set(loops)
    records = records_of(session_factory, stack.settings, everyone)
    # One record a call: the call cards of the ten fallback calls closed theirs, none new.
    with session_factory() as db:
        hashes = [r.caller_hash for r in records.values()]
        assert db.scalar(select(func.count()).where(CallRecord.caller_hash.in_(hashes))) == 12
    for number in queued + in_menu:
        assert records[number].disposition == Disposition.CONTROLLER_LOST, number
    for number in talking:
        assert records[number].disposition == Disposition.ANSWERED, number
        assert records[number].agent_id in agents
    assert await states(stack, agents) != [] and AgentState.ON_CALL not in await states(
        stack, agents
    )

    # Every call is on file from its first second to its end: the talks went on long after
    # the kill (bridged calls are never cut), and the fallback callers' too.
    ids = {n: records[n].call_id for n in everyone}

    def recordings_complete() -> bool:
        found = recordings_of(session_factory, list(ids.values()))
        return len(found) == 12 and all(
            r.status == RecordingStatus.COMPLETE for r in found.values()
        )

    await until(recordings_complete, 30, "every recording complete", stack)
    found = recordings_of(session_factory, list(ids.values()))
    for number in talking:
        # Recorded to the agent's hang-up, TALK s after he answered: well after the kill.
        answered_at = records[number].answered_at
        assert answered_at is not None and answered_at.timestamp() < killed_at
        lasted = callers.started[number] + found[ids[number]].duration_seconds
        assert lasted > answered_at.timestamp() + TALK - 2 > killed_at, number


async def test_after_asterisk_restarts_no_agent_is_stuck_and_new_calls_route(
    stack: FaultStack, session_factory: sessionmaker[Session], agents: list[int]
) -> None:
    for agent_id in agents:
        await stack.add_agent(agent_id, SKILL, talk=60)
    callers = Callers(stack)
    talking = [await callers.call(key="1", hold=90) for _ in range(2)]
    await until(lambda: all_on_call(stack, agents), 40, "both agents on call", stack)
    await asyncio.to_thread(stack.asterisk.stop)
    await asyncio.to_thread(stack.asterisk.start)
    await stack.ami.wait_connected(30)

    async def nobody_on_call() -> bool:
        return not {AgentState.ON_CALL, AgentState.ON_HOLD} & set(await states(stack, agents))

    await until(nobody_on_call, 30, "the agents released", stack)

    def closed() -> bool:
        records = records_of(session_factory, stack.settings, talking)
        return len(records) == 2 and all(r.ended_at is not None for r in records.values())

    await until(closed, 30, "the lost calls' records closed", stack)

    # A new call routes as usual, to one of the agents, ready again after their wrap-up.
    for agent_id in agents:
        await stack.add_agent(agent_id, SKILL, talk=2)
    number = await callers.call(key="1", hold=30)

    def answered() -> list[dict[str, str]]:
        return stack.seen(
            lambda e: (
                e.get("CallerIDNum") == number
                and e.get("DialStatus") == "ANSWER"
                and "@sim-agent" in e.get("DestChannel", "")
                and not e.get("DestChannel", "").startswith(FALLBACK_AGENT)
            )
        )

    await until(answered, 40, "the new call answered by an agent", stack)


async def test_a_lost_call_goes_to_the_backup_controller_first(
    stack: FaultStack, session_factory: sessionmaker[Session]
) -> None:
    taken: asyncio.Future[tuple[str, str | None]] = asyncio.get_running_loop().create_future()

    async def backup(session: AgiSession) -> None:
        lost = await session.get_variable("CC_CONTROLLER_LOST")
        if not taken.done():
            taken.set_result((session.env.get("callerid", ""), lost))
        await session.hangup()

    _, address = stack.settings.agi_backups[0].rsplit(":", 1)
    server = AgiServer({"114": backup}, "127.0.0.1", int(address))
    await server.start()
    try:
        number = await Callers(stack).call(hold=40)  # stays in the menu
        await until(
            lambda: records_of(session_factory, stack.settings, [number]),
            20,
            "the call in the controller's menu",
            stack,
        )
        stack.kill_controller()
        assert await asyncio.wait_for(taken, 30) == (number, "1")
    finally:
        await server.stop()
        if stack.process is None:
            stack.start_controller()
            await stack.serving()
    assert not stack.seen(
        lambda e: e.get("UserEvent") == "CallFallback" and e.get("CallerIDNum") == number
    )
