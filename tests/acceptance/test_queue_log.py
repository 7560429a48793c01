"""Our ACD's queue_log against app_queue's own, on the real Asterisk: one scenario, both ways.

The scenario (``play``) runs once through Asterisk's ``Queue()`` (app_queue, loaded into the
session's instance for this test; Asterisk writes its own queue_log) and once through our ACD
(FastAGI + Redis, our queue_log file), with the same simulated callers and agents:

1. agent 2 then agent 1 sign in; agent 2's phone never answers;
2. call 1 rings agent 2 (RINGNOANSWER, automatic pause), then agent 1, who answers and
   hangs up first (COMPLETEAGENT);
3. agent 2 comes back, then goes for a meal (UNPAUSE, PAUSE with the reason);
4. call 2 is answered by agent 1, and the caller hangs up first (COMPLETECALLER);
5. call 3 is answered by agent 1, who sends it on with a blind transfer (BLINDTRANSFER);
6. agent 1 takes a break; call 4 hangs up while waiting (ABANDON); call 5 waits out the
   longest wait (EXITWITHTIMEOUT);
7. agent 1 comes back; both sign out (REMOVEMEMBER).

Compared per call: the event sequence with the agent of each event; per agent: the member
events with their queue and reason. Fields that are times are checked for shape (whole
non-negative numbers, the configured timeouts as lower bounds), positions for equality.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from redis.asyncio import Redis

from backend.acd.model import AgentProfile
from backend.acd.policy import SkillConfig
from backend.acd.states import CALL_STATES, AgentState
from backend.acd.store import AcdStore
from backend.ami.client import AmiClient
from backend.flows.schema import PromptText
from backend.settings import Settings
from ivr.acd.answers import AnswerWatch
from ivr.acd.dispatcher import Dispatcher
from ivr.acd.memberlog import MemberLogWriter
from ivr.acd.queue import AcdQueue
from ivr.acd.queuelog import QueueLogEntry, QueueLogFile, parse_line
from ivr.acd.waiter import QueueSettings
from ivr.agi.session import AgiSession
from ivr.flows.ports import CallInfo
from ivr.pbx.instance import AsteriskInstance
from ivr.pbx.simulated import carrier_channel, simulated_call
from tests.asterisk_fixtures import DID_114, AgiRoutes, SimulatedAgents

pytestmark = pytest.mark.asterisk

RING_TIMEOUT = 4  # seconds an agent's phone rings before the next is tried
MAX_WAIT = 12  # seconds a caller waits at most (call 1 needs about 6: a missed ring first)
TERMINAL = {
    "COMPLETEAGENT", "COMPLETECALLER", "ABANDON", "EXITWITHTIMEOUT", "EXITWITHKEY",
    "BLINDTRANSFER", "ATTENDEDTRANSFER",
}  # fmt: skip
MEMBER_EVENTS = {"ADDMEMBER", "REMOVEMEMBER", "PAUSE", "UNPAUSE", "PAUSEALL", "UNPAUSEALL"}
# Data fields compared for equality: places in line, where a transfer went (the others are
# times or channel ids).
SAME = {
    "ENTERQUEUE": (2,),
    "ABANDON": (0, 1),
    "EXITWITHTIMEOUT": (0, 1),
    "COMPLETEAGENT": (2,),
    "COMPLETECALLER": (2,),
    "BLINDTRANSFER": (0, 1, 4),
}
CALLER_NUMBER = ("ENTERQUEUE", 1)  # app_queue writes it; we leave it out (docs/queue-log.md)
# Lower bounds the configuration sets on time fields (load can only make them longer).
AT_LEAST = {
    ("RINGNOANSWER", 0): (RING_TIMEOUT - 1) * 1000,
    ("EXITWITHTIMEOUT", 2): MAX_WAIT - 1,
    ("COMPLETEAGENT", 1): 1,
    ("COMPLETECALLER", 1): 1,
    ("BLINDTRANSFER", 3): 1,
}


class Silence:
    async def sound(self, prompt: PromptText, *, elderly: bool) -> str:
        return "beep"


@dataclass
class System:
    """One ACD under test: its members, how a caller reaches it, where its queue_log is."""

    name: str
    log: Path
    offset: int  # the log's length before the scenario: older lines are not this run's
    caller_channel: str
    add: Callable[[int, str], Awaitable[object]]  # agent, his phone's interface
    remove: Callable[[int, str], Awaitable[object]]
    pause: Callable[[int, str, str], Awaitable[object]]  # agent, interface, reason
    unpause: Callable[[int, str], Awaitable[object]]

    def entries(self, queue: str) -> list[QueueLogEntry]:
        if not self.log.exists():
            return []
        with self.log.open(encoding="utf-8") as text:
            text.seek(self.offset)
            entries = [parse_line(line) for line in text if line.strip()]
        agents = {e.agent for e in entries if e.queue == queue}
        return [e for e in entries if e.queue == queue or (e.queue == "NONE" and e.agent in agents)]


async def until(what: str, check: Callable[[], bool], timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"waited {timeout} s for {what}")
        await asyncio.sleep(0.2)


async def play(system: System, queue: str, ami: AmiClient) -> None:
    agents = SimulatedAgents(ami)
    one = await agents.configure(f"ql1{system.name}{queue}", ring=0.5, talk=2)
    two = await agents.configure(f"ql2{system.name}{queue}", ring=999)
    calls = 0

    def count(events: set[str]) -> int:
        return sum(e.event in events for e in system.entries(queue))

    async def call(caller: str, hold: float, *, transfer: bool = False) -> None:
        nonlocal calls
        calls += 1
        answered = count({"CONNECT"})
        await simulated_call(ami, system.caller_channel, caller_id=caller, hold=hold)
        if transfer:
            await until(f"call {calls} answered", lambda: count({"CONNECT"}) > answered)
            await asyncio.sleep(1.5)  # a word with the caller first
            await blind_transfer(ami, one, f"{queue}-gone")
        await until(
            f"call {calls} to end in {system.name}'s queue_log",
            lambda: count(TERMINAL) >= calls,
        )

    await system.add(2, two)
    await asyncio.sleep(0.1)  # agent 2 has waited longest: he is rung first
    await system.add(1, one)
    await call("13900000001", hold=30)  # agent 2 misses it, agent 1 talks 2 s and hangs up
    await system.unpause(2, two)
    await system.pause(2, two, "meal")
    await agents.configure(f"ql1{system.name}{queue}", ring=0.5, talk=30)
    await call("13900000002", hold=4)  # hangs up while talking to agent 1
    await call("13900000003", hold=30, transfer=True)  # agent 1 sends him on
    await system.pause(1, one, "break")
    await call("13900000004", hold=2)  # nobody free: hangs up
    await call("13900000005", hold=30)  # nobody free: waits out the longest wait
    await system.unpause(1, one)
    await system.remove(2, two)
    await system.remove(1, one)
    await until(
        f"the last member change in {system.name}'s queue_log",
        lambda: sum(e.event == "REMOVEMEMBER" for e in system.entries(queue)) >= 2,
    )


async def blind_transfer(ami: AmiClient, agent_interface: str, context: str) -> None:
    """The agent's leg sends the caller to s@context, as the desk's blind transfer does."""
    phone = agent_interface.removeprefix("Local/") + "-"
    await ami.command(f"dialplan add extension s,1,Hangup() into {context} replace")
    legs = [c["Channel"] for c in await ami.channels() if c.get("Channel", "").endswith(";1")]
    (leg,) = [c for c in legs if c.removeprefix("Local/").startswith(phone)]
    await ami.action("BlindTransfer", Channel=leg, Exten="s", Context=context)


# app_queue --------------------------------------------------------------------------------


def queues_conf(queue: str) -> str:
    return f"""[general]
persistentmembers = no
log_membername_as_agent = yes

[{queue}]
strategy = linear
timeout = {RING_TIMEOUT}
retry = 1
wrapuptime = 0
ringinuse = no
autopause = all
joinempty = yes
leavewhenempty = no
announce-frequency = 0
periodic-announce-frequency = 0
announce-position = no
musicclass = default
"""


async def app_queue(instance: AsteriskInstance, ami: AmiClient, queue: str) -> System:
    (instance.dir / "etc" / "queues.conf").write_text(queues_conf(queue))
    loaded = await ami.command("module show like app_queue.so")
    if "app_queue.so" in loaded and "Running" in loaded:
        await ami.command("module reload app_queue.so")
    else:
        await ami.action("ModuleLoad", Module="app_queue.so", LoadType="load")
    context = f"{queue}-aq"
    for line in ("s,1,Answer()", f"s,2,Queue({queue},,,,{MAX_WAIT})", "s,3,Hangup()"):
        await ami.command(f"dialplan add extension {line} into {context}")
    log = instance.dir / "log" / "queue_log"

    async def add(agent: int, interface: str) -> None:
        # The CLI, not AMI QueueAdd: panoramisk takes QueueAdd's reply ("Added interface to
        # queue") for the start of a list and waits for the rest.
        await ami.command(f"queue add member {interface} to {queue} penalty 0 as Agent/{agent}")

    async def remove(agent: int, interface: str) -> None:
        await ami.action("QueueRemove", Queue=queue, Interface=interface)

    async def pause(agent: int, interface: str, reason: str) -> None:
        await ami.action("QueuePause", Interface=interface, Paused="true", Reason=reason)

    async def unpause(agent: int, interface: str) -> None:
        await ami.action("QueuePause", Interface=interface, Paused="false")

    offset = log.stat().st_size if log.exists() else 0
    return System("app_queue", log, offset, f"Local/s@{context}", add, remove, pause, unpause)


# Our ACD ----------------------------------------------------------------------------------


@pytest.fixture()
async def our_acd(
    settings: Settings, redis_namespace: str, agi_routes: AgiRoutes, ami: AmiClient, tmp_path: Path
) -> AsyncIterator[tuple[System, str]]:
    queue = f"ql{uuid.uuid4().hex[:6]}"
    redis = Redis.from_url(settings.redis_url, decode_responses=True)
    prefix = f"{redis_namespace}-ql{queue}"
    skill = SkillConfig(queue, wrapup_seconds=0, max_wait_seconds=MAX_WAIT)
    store = AcdStore(redis, prefix, [skill], controller_id="queue-log")
    queue_log = QueueLogFile(tmp_path / "queue_log")
    answers = AnswerWatch(store)
    answers.attach(ami)
    dispatcher = Dispatcher(store, tick_seconds=0.05)
    acd = AcdQueue(
        store,
        Silence(),
        dispatcher,
        QueueSettings(ring_timeout_seconds=RING_TIMEOUT, callback_key=None),
        answers=answers,
        queue_log=queue_log,
    )
    members = MemberLogWriter(redis, store.events_key, queue_log, group="queue-log-test")
    await members.ensure_group()

    async def controller(session: AgiSession) -> None:
        call = CallInfo(session.linked_id, session.call_id, "114", "", DID_114)
        await acd.enter_queue(session, call, queue, 0)

    agi_routes.set("114", controller)
    stop = asyncio.Event()
    tasks = [asyncio.create_task(dispatcher.run(stop)), asyncio.create_task(members.run(stop))]

    async def add(agent: int, interface: str) -> None:
        await store.register_agent(AgentProfile(agent, str(1000 + agent), interface, {queue: 5}))
        await store.change_state(agent, AgentState.READY, actor="desk")

    async def remove(agent: int, interface: str) -> None:
        await store.change_state(agent, AgentState.LOGGED_OUT, actor="desk")

    async def pause(agent: int, interface: str, reason: str) -> None:
        # As on the desk: not ready once his last call is over (a transfer is logged when it
        # is made, a moment before his leg hangs up).
        deadline = time.monotonic() + 30
        while (view := await store.agent(agent)) and view.status.state in CALL_STATES - {
            AgentState.WRAP_UP
        }:
            assert time.monotonic() < deadline, f"agent {agent} still {view.status.state}"
            await asyncio.sleep(0.1)
        await store.change_state(agent, AgentState.NOT_READY, reason=reason, actor="desk")

    async def unpause(agent: int, interface: str) -> None:
        await store.change_state(agent, AgentState.READY, actor="desk")

    system = System(
        "ours", queue_log.path, 0, carrier_channel(DID_114), add, remove, pause, unpause
    )
    yield system, queue
    stop.set()
    await asyncio.gather(*tasks)
    async for key in redis.scan_iter(f"{prefix}*"):
        await redis.delete(key)
    await redis.aclose()


# The comparison ---------------------------------------------------------------------------


def per_call(entries: list[QueueLogEntry]) -> list[list[QueueLogEntry]]:
    """Each call's events, calls in the order they entered."""
    calls: dict[str, list[QueueLogEntry]] = {}
    for entry in entries:
        if entry.event not in MEMBER_EVENTS:
            calls.setdefault(entry.call_id, []).append(entry)
    return list(calls.values())


def per_agent(entries: list[QueueLogEntry]) -> dict[str, list[tuple[str, str, tuple[object, ...]]]]:
    agents: dict[str, list[tuple[str, str, tuple[object, ...]]]] = {}
    for entry in entries:
        if entry.event in MEMBER_EVENTS:
            agents.setdefault(entry.agent, []).append((entry.event, entry.queue, entry.data))
    return agents


def assert_same_shape(ours: QueueLogEntry, theirs: QueueLogEntry) -> None:
    where = f"{theirs.event} (ours {ours.line()!r}, app_queue {theirs.line()!r})"
    assert len(ours.data) == len(theirs.data), where
    for index in SAME.get(theirs.event, ()):
        assert ours.data[index] == theirs.data[index], where
    for index, (mine, asterisk) in enumerate(zip(ours.data, theirs.data, strict=True)):
        if (theirs.event, index) == CALLER_NUMBER:
            assert mine == "", where  # personal data: not on file
        elif str(asterisk).isdigit() and index not in SAME.get(theirs.event, ()):
            assert str(mine).isdigit(), where  # a time: whole, non-negative
            bound = AT_LEAST.get((theirs.event, index), 0)
            assert int(str(mine)) >= bound and int(str(asterisk)) >= bound, where
    if theirs.event == "CONNECT":
        assert ours.data[1] and theirs.data[1], where  # the agent's channel's uniqueid


async def test_our_queue_log_tells_each_call_as_app_queue_does(
    asterisk: AsteriskInstance, ami: AmiClient, our_acd: tuple[System, str]
) -> None:
    ours, queue = our_acd
    theirs = await app_queue(asterisk, ami, queue)
    await play(theirs, queue, ami)
    await play(ours, queue, ami)
    our_entries, their_entries = ours.entries(queue), theirs.entries(queue)

    our_calls, their_calls = per_call(our_entries), per_call(their_entries)
    assert len(their_calls) == 5, [e.line() for e in their_entries]
    sequences = [[(e.event, e.agent) for e in call] for call in our_calls]
    assert sequences == [[(e.event, e.agent) for e in call] for call in their_calls]
    assert sequences[0] == [
        ("ENTERQUEUE", "NONE"),
        ("RINGNOANSWER", "Agent/2"),
        ("CONNECT", "Agent/1"),
        ("COMPLETEAGENT", "Agent/1"),
    ]
    for mine, asterisks in zip(our_calls, their_calls, strict=True):
        for our_entry, their_entry in zip(mine, asterisks, strict=True):
            assert_same_shape(our_entry, their_entry)

    assert per_agent(our_entries) == per_agent(their_entries)
    assert [event for event, _, _ in per_agent(our_entries)["Agent/2"]] == [
        "ADDMEMBER", "PAUSEALL", "PAUSE", "UNPAUSEALL", "UNPAUSE", "PAUSEALL", "PAUSE",
        "REMOVEMEMBER",
    ]  # fmt: skip
