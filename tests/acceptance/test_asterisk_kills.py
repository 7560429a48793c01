"""Asterisk killed with SIGKILL and started again, twice in a row, under a running controller
(issue 19; what the soak found): after each start the controller's AMI is back by itself, an
agent left "on call" by the killed call is released, and a new call reaches the controller
and an agent. The second time the controller is killed too and started again while Asterisk
is still down: it must serve calls without AMI and log in once Asterisk is back (it used to
give up after 10 s and exit).

Both faults hit a stack of the module's own (``running_fault_stack``). Asterisk is started
again by this process, as the soak's chaos loop does: the killed one stays a zombie child of
this process until reaped, which ``AsteriskInstance.start`` once took for a running Asterisk.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
from collections.abc import AsyncIterator

import pytest
from sqlalchemy.orm import Session, sessionmaker

from backend.acd.states import AgentState
from backend.models.users import Role
from backend.settings import Settings
from backend.supervision import health_lines, health_path
from ivr.pbx.instance import AsteriskInstance
from tests.call_safety_support import (
    FALLBACK_AGENT,
    Callers,
    FaultStack,
    records_of,
    running_fault_stack,
    states,
    until,
)
from tests.desk_support import make_user

pytestmark = pytest.mark.asterisk

SKILL = "booking"  # key 1 of the 114 flow
DOWN_SECONDS = 2.0  # as the soak's chaos loop


@pytest.fixture(scope="module")
async def stack(
    asterisk: AsteriskInstance,  # the shared root is built
    settings: Settings,
    database_url: str,
    session_factory: sessionmaker[Session],
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[FaultStack]:
    state = tmp_path_factory.mktemp("kills")
    async with running_fault_stack("kills", database_url, session_factory, settings, state) as s:
        yield s


def kill_asterisk(stack: FaultStack) -> int:
    pid = stack.asterisk.pid()
    assert pid is not None, "Asterisk is not running"
    os.kill(pid, signal.SIGKILL)
    return pid


def controller_ami(stack: FaultStack) -> dict[str, object]:
    """The controller's AMI connection as the running controller's health file shows it
    (a killed one's file is not read)."""
    try:
        body = json.loads(health_path(stack.settings.state_dir, "controller").read_text())
    except (OSError, ValueError):
        return {}
    if stack.process is None or body.get("pid") != stack.process.pid:
        return {}
    ami: dict[str, object] = body.get("loops", {}).get("ami", {})
    return ami


async def restarted(stack: FaultStack, killed: int) -> None:
    """Asterisk started again; the controller's and this test's AMI logged in again."""
    await asyncio.to_thread(stack.asterisk.start)
    assert stack.asterisk.pid() not in (None, killed)
    await stack.ami.wait_connected(30)
    await until(lambda: controller_ami(stack).get("running"), 40, "the controller's AMI", stack)


async def nobody_on_call(stack: FaultStack, agents: list[int]) -> bool:
    return not {AgentState.ON_CALL, AgentState.ON_HOLD} & set(await states(stack, agents))


async def routes_to_an_agent(
    stack: FaultStack, factory: sessionmaker[Session], agents: list[int], callers: Callers
) -> None:
    """A new call reaches the controller (its record, opened by it) and an agent answers."""
    for agent_id in agents:  # ready again, past any wrap-up
        await stack.add_agent(agent_id, SKILL, talk=3)
    number = await callers.call(key="1", hold=30)

    def answered() -> bool:
        return bool(
            stack.seen(
                lambda e: (
                    e.get("CallerIDNum") == number
                    and e.get("DialStatus") == "ANSWER"
                    and "@sim-agent" in e.get("DestChannel", "")
                    and not e.get("DestChannel", "").startswith(FALLBACK_AGENT)
                )
            )
        )

    await until(answered, 60, f"the call of {number} answered by an agent", stack)

    def closed_by_an_agent() -> bool:
        record = records_of(factory, stack.settings, [number]).get(number)
        return record is not None and record.ended_at is not None and record.agent_id in agents

    await until(closed_by_an_agent, 40, f"the record of {number}, answered and closed", stack)
    await until(lambda: nobody_on_call(stack, agents), 30, "the agents off the call", stack)


async def test_asterisk_killed_twice_calls_reach_the_controller_and_no_agent_is_stuck(
    stack: FaultStack, session_factory: sessionmaker[Session]
) -> None:
    agents = [make_user(session_factory, Role.AGENT).agent_id for _ in range(2)]
    agent_ids = [a for a in agents if a is not None]
    callers = Callers(stack)
    await routes_to_an_agent(stack, session_factory, agent_ids, callers)

    # 1: killed under a bridged call (the agent talks long), started again 2 s later.
    for agent_id in agent_ids:
        await stack.add_agent(agent_id, SKILL, talk=120)
    talking = await callers.call(key="1", hold=150)

    async def one_on_call() -> bool:
        return AgentState.ON_CALL in await states(stack, agent_ids)

    await until(one_on_call, 60, "an agent on the call", stack)
    killed = kill_asterisk(stack)
    await asyncio.sleep(DOWN_SECONDS)
    await restarted(stack, killed)
    await until(lambda: nobody_on_call(stack, agent_ids), 40, "the agent released", stack)

    def lost_call_closed() -> bool:
        record = records_of(session_factory, stack.settings, [talking]).get(talking)
        return record is not None and record.ended_at is not None

    await until(lost_call_closed, 40, "the lost call's record closed", stack)
    await routes_to_an_agent(stack, session_factory, agent_ids, callers)

    # 2: killed again; the controller killed too and started while Asterisk is down.
    killed = kill_asterisk(stack)
    stack.kill_controller()
    stack.start_controller()
    await stack.serving()  # serving calls without AMI: it no longer waits for a login
    assert not controller_ami(stack).get("running")
    await asyncio.sleep(DOWN_SECONDS)
    await restarted(stack, killed)
    await routes_to_an_agent(stack, session_factory, agent_ids, callers)

    # The restarted controller's attempts while Asterisk was down were counted, and why,
    # where `callcenter status` reads them.
    await until(lambda: controller_ami(stack).get("running"), 10, "health written", stack)
    health = controller_ami(stack)
    assert int(str(health["restarts"])) >= 1
    (line,) = health_lines({"ami": health})
    assert line.startswith("loop ami: ") and "(last: " in line, line
