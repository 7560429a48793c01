"""The ACD on the real Asterisk: simulated callers (Local/ channels) reach simulated agents."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import signal
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pytest
from redis.asyncio import Redis
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from backend.acd.model import AgentProfile, CallStatus
from backend.acd.policy import SkillConfig
from backend.acd.states import AgentState
from backend.acd.store import AcdStore
from backend.ami.client import AmiClient
from backend.flows.schema import PromptText
from backend.lines import LINES
from backend.models.audit import AuditRecord
from backend.models.workorders import CallbackTask
from backend.personal_data import PersonalDataCipher
from backend.settings import Settings
from backend.telephony.callback_bookings import CallbackBookings
from backend.telephony.callback_gate import DAILY_CAP, NUMBER_REFUSED, CallbackGate
from backend.workcalendar import WorkCalendar
from ivr.acd.answers import AnswerWatch
from ivr.acd.callbacks import (
    SCRIPT,
    CallbackDialer,
    CallbackObservers,
    CallbackReport,
    CallbackSettings,
)
from ivr.acd.dispatcher import Dispatcher
from ivr.acd.queue import AcdQueue, QueueReport
from ivr.acd.queuelog import QueueLogEntry, QueueLogFile, parse_line
from ivr.acd.waiter import QueueSettings
from ivr.agi.server import AgiServer, Handler
from ivr.agi.session import AgiSession
from ivr.flows.ports import CallInfo, QueueOutcome, QueueStatus
from ivr.outbound.callback_tasks import CallbackTaskFeeder, SqlCallbackTasks
from recordings.index import RecordingIndex
from tests.asterisk_fixtures import (
    DID_114,
    AgiRoutes,
    SimulatedAgents,
    SimulatedCaller,
    wait_for_recording,
    wav_seconds,
)
from tests.outbound_support import MovableClock, TheseCallsTasks
from tests.redis_support import holding, values_under

pytestmark = pytest.mark.asterisk

SKILLS = [
    SkillConfig("booking", wrapup_seconds=1, max_wait_seconds=120),
    SkillConfig("policy", wrapup_seconds=1, max_wait_seconds=120),
    SkillConfig("complaints", wrapup_seconds=0, max_wait_seconds=4),
    # The 114 flow's agent and elderly queues (tests/acceptance/test_ivr_pace.py).
    SkillConfig("general", wrapup_seconds=1, max_wait_seconds=120),
]
_names = itertools.count(1)


class SilencePrompts:
    """Announcements as short real sounds, so tests do not wait on espeak for every text."""

    def __init__(self) -> None:
        self.texts: list[str] = []
        self.elderly: list[bool] = []  # each text's delivery: slow and loud, or not

    async def sound(self, prompt: PromptText, *, elderly: bool) -> str:
        self.texts.append(prompt.text)
        self.elderly.append(elderly)
        return "silence/3" if prompt.id == "acd/callback-confirm" else "beep"


@dataclass
class Recorder:
    reports: list[QueueReport] = field(default_factory=list)
    callbacks: list[CallbackReport] = field(default_factory=list)

    async def queue_left(self, report: QueueReport) -> None:
        self.reports.append(report)

    async def callback_done(self, report: CallbackReport) -> None:
        self.callbacks.append(report)

    def by_caller(self, acd: Acd) -> dict[str, QueueReport]:
        return {acd.callers[r.call_id]: r for r in self.reports}


@dataclass
class Acd:
    store: AcdStore
    queue: AcdQueue
    dialer: CallbackDialer
    prompts: SilencePrompts
    recorder: Recorder
    gate: CallbackGate
    outcomes: dict[str, QueueOutcome]
    done: asyncio.Queue[str]
    # caller id -> (skill, priority) the simulated IVR hands to the queue
    routing: dict[str, tuple[str, int]] = field(default_factory=dict)
    # caller ids the simulated IVR hands over in 敬老 mode
    elderly: set[str] = field(default_factory=set)
    callers: dict[str, str] = field(default_factory=dict)  # call id -> caller id
    lines: dict[str, str] = field(default_factory=dict)  # caller id -> line (default 114)
    # caller id -> (recording path as Asterisk sees it, seconds the controller held the call)
    recordings: dict[str, tuple[str, float]] = field(default_factory=dict)
    prefix: str = ""
    # The lines' clock for callback windows and the task feeder; the real time unless moved.
    clock: MovableClock = field(default_factory=lambda: MovableClock(datetime.now(UTC)))
    feeder: CallbackTaskFeeder | None = None
    queue_log: QueueLogFile | None = None

    def queue_log_of(self, call_id: str) -> list[QueueLogEntry]:
        """The call's lines in this controller's queue_log (docs/queue-log.md)."""
        assert self.queue_log is not None
        lines = self.queue_log.path.read_text().splitlines()
        return [e for e in map(parse_line, lines) if e.call_id == call_id]


@pytest.fixture()
async def aredis(settings: Settings) -> AsyncIterator[Redis]:
    client = Redis.from_url(settings.redis_url, decode_responses=True)
    yield client
    await client.aclose()


@pytest.fixture()
async def acd(
    settings: Settings,
    redis_namespace: str,
    agi_routes: AgiRoutes,
    agi_server: tuple[AgiServer, AgiRoutes],
    ami: AmiClient,
    session_factory: sessionmaker[Session],
    tmp_path: Path,
) -> AsyncIterator[Acd]:
    redis = Redis.from_url(settings.redis_url, decode_responses=True)
    prefix = f"{redis_namespace}-acc{next(_names)}"
    store = AcdStore(redis, prefix, SKILLS, controller_id="acceptance")
    prompts, recorder = SilencePrompts(), Recorder()
    clock = MovableClock(datetime.now(UTC))
    tasks = SqlCallbackTasks(session_factory, settings, RecordingIndex(session_factory, settings))
    answers = AnswerWatch(store)
    answers.attach(ami)
    dialer = CallbackDialer(
        store,
        ami,
        prompts,
        CallbackSettings(
            recordings_dir=settings.effective_asterisk_recordings_dir,
            dial_template="Local/{number}@sim-agent",
            agent_ring_seconds=5,
            citizen_ring_seconds=10,
        ),
        PersonalDataCipher(settings.data_key.get_secret_value()),
        observer=CallbackObservers(recorder, tasks),
        answers=answers,
    )
    dispatcher = Dispatcher(store, start_callback=dialer.start, tick_seconds=0.05)
    dialer.set_kick(dispatcher.kick)
    gate = CallbackGate.from_settings(
        settings.model_copy(update={"desk_redis_prefix": prefix}), session_factory
    )
    server, _ = agi_server
    with contextlib.suppress(ValueError):  # the session's server keeps the route across tests
        server.add_route(SCRIPT, _route_to(agi_routes, SCRIPT))
    agi_routes.set(SCRIPT, dialer.serve)
    queue = AcdQueue(
        store,
        prompts,
        dispatcher,
        QueueSettings(ring_timeout_seconds=4, announce_every_seconds=6),
        callbacks=gate,
        bookings=CallbackBookings.from_settings(settings, session_factory, clock=clock.now),
        observer=recorder,
        answers=answers,
        queue_log=(queue_log := QueueLogFile(tmp_path / "queue_log")),
    )
    outcomes: dict[str, QueueOutcome] = {}
    done: asyncio.Queue[str] = asyncio.Queue()
    state = Acd(
        store, queue, dialer, prompts, recorder, gate, outcomes, done, prefix=prefix, clock=clock,
        queue_log=queue_log,
    )  # fmt: skip
    # Fed only with the tasks booked from this test's calls (the database is the session's).
    state.feeder = CallbackTaskFeeder(
        store,
        TheseCallsTasks(tasks, state.callers.keys(), session_factory),
        hours={spec.code: spec.hours for spec in LINES},
        skills={},
        calendar=WorkCalendar.load(),
        clock=clock,
        kick=dispatcher.kick,
    )

    async def controller(session: AgiSession) -> None:
        caller = session.env.get("callerid", "")
        skill, priority = state.routing.get(caller, ("booking", 0))
        state.callers[session.linked_id] = caller
        started = time.time()
        recording = await session.get_variable("CC_RECORDING") or ""
        call = CallInfo(
            call_id=session.linked_id,
            unique_id=session.call_id,
            line=state.lines.get(caller, "114"),
            caller_number=session.env.get("callerid", ""),
            did=DID_114,
        )
        try:
            outcomes[session.env.get("callerid", "")] = await queue.enter_queue(
                session, call, skill, priority, elderly=caller in state.elderly
            )
        finally:
            state.recordings[caller] = (recording, time.time() - started)
            await done.put(session.env.get("callerid", ""))

    agi_routes.set("114", controller)
    stop = asyncio.Event()
    runner = asyncio.create_task(dispatcher.run(stop))
    await asyncio.wait_for(dispatcher.ready.wait(), 10)
    yield state
    stop.set()
    await runner
    async for key in redis.scan_iter(f"{prefix}*"):
        await redis.delete(key)
    await redis.aclose()


def _route_to(routes: AgiRoutes, script: str) -> Handler:
    async def dispatch(session: AgiSession) -> None:
        await routes.handlers[script](session)

    return dispatch


async def add_agent(
    acd: Acd, agents: SimulatedAgents, agent_id: int, skills: dict[str, int], *,
    ring: float = 0.5, talk: float = 2,
) -> None:  # fmt: skip
    # talk: whole seconds (the sim-agent's MusicOnHold reads "0.5" as 0, i.e. forever)
    name = f"a{agent_id}x{next(_names)}"
    interface = await agents.configure(name, ring=ring, talk=talk)
    await acd.store.register_agent(AgentProfile(agent_id, str(1000 + agent_id), interface, skills))
    await acd.store.change_state(agent_id, AgentState.READY, actor="test")


async def wait_done(acd: Acd, count: int, timeout: float = 90) -> list[str]:
    return [await asyncio.wait_for(acd.done.get(), timeout) for _ in range(count)]


async def test_a_caller_is_answered_by_the_agent_with_the_skill(
    acd: Acd,
    simulated_caller: SimulatedCaller,
    simulated_agents: SimulatedAgents,
    settings: Settings,
) -> None:
    await add_agent(acd, simulated_agents, 1, {"policy": 9})
    await add_agent(acd, simulated_agents, 2, {"booking": 5}, talk=2)
    await simulated_caller.call(DID_114, caller_id="13800000001", hold=15)
    seen = set()
    while acd.done.empty():  # the agent's state is live while he talks
        agent = await acd.store.agent(2)
        assert agent is not None
        seen.add(agent.status.state)
        await asyncio.sleep(0.1)
    assert AgentState.ON_CALL in seen
    await wait_done(acd, 1)
    outcome = acd.outcomes["13800000001"]
    assert outcome.status == QueueStatus.ANSWERED and outcome.agent_id == 2
    (report,) = acd.recorder.reports
    assert report.status == "answered" and report.answered_at is not None
    assert 1.5 <= report.talk_seconds <= 3.0
    # The whole call is on file: IVR hand-over, queue and talk, to the second (± 1 s).
    path, held = acd.recordings["13800000001"]
    recording = await wait_for_recording(settings.host_path(path), timeout=20)
    assert abs(wav_seconds(recording) - held) <= 1.0
    agent = await acd.store.agent(2)
    assert agent is not None and agent.status.state in (AgentState.WRAP_UP, AgentState.READY)


async def test_caller_hanging_up_during_the_talk_frees_the_agent(
    acd: Acd, simulated_caller: SimulatedCaller, simulated_agents: SimulatedAgents
) -> None:
    await add_agent(acd, simulated_agents, 3, {"booking": 5}, talk=30)
    await simulated_caller.call(DID_114, caller_id="13800000009", hold=4)
    await wait_done(acd, 1, timeout=30)
    outcome = acd.outcomes["13800000009"]
    assert outcome.status == QueueStatus.ANSWERED and not outcome.caller_on_line
    (report,) = acd.recorder.reports
    # The caller's phone hangs up 5 s after it dialled; the agent answered about 0.5 s in.
    assert 3.0 <= report.talk_seconds <= 5.0
    agent = await acd.store.agent(3)
    assert agent is not None and agent.status.state in (AgentState.WRAP_UP, AgentState.READY)


async def test_ring_no_answer_reroutes_and_leaves_the_agent_not_ready(
    acd: Acd, simulated_caller: SimulatedCaller, simulated_agents: SimulatedAgents
) -> None:
    await add_agent(acd, simulated_agents, 1, {"booking": 9}, ring=999)  # never answers
    await asyncio.sleep(0.05)
    await add_agent(acd, simulated_agents, 2, {"booking": 5})
    await simulated_caller.call(DID_114, caller_id="13800000002", hold=20)
    await wait_done(acd, 1)
    outcome = acd.outcomes["13800000002"]
    assert outcome.status == QueueStatus.ANSWERED and outcome.agent_id == 2
    (report,) = acd.recorder.reports
    assert report.unanswered_rings == 1
    assert report.wait_seconds >= 4  # the 4 s ring timeout of agent 1 was waited out
    first = await acd.store.agent(1)
    assert first is not None
    assert (first.status.state, first.status.reason) == (AgentState.NOT_READY, "no_answer")


async def test_caller_hanging_up_in_the_queue_is_abandoned_and_removed(
    acd: Acd, simulated_caller: SimulatedCaller
) -> None:
    acd.routing["13800000003"] = ("policy", 0)
    await simulated_caller.call(DID_114, caller_id="13800000003", hold=3)
    await wait_done(acd, 1)
    assert acd.outcomes["13800000003"].status == QueueStatus.ABANDONED
    assert acd.recorder.reports[0].status == "abandoned"
    assert await acd.store.waiting_calls() == []


async def test_maximum_wait_sends_the_caller_to_voicemail(
    acd: Acd, simulated_caller: SimulatedCaller
) -> None:
    acd.routing["13800000004"] = ("complaints", 0)  # max wait 4 s, nobody serves it
    await simulated_caller.call(DID_114, caller_id="13800000004", hold=20)
    await wait_done(acd, 1)
    assert acd.outcomes["13800000004"].status == QueueStatus.NO_AGENT  # flow takes a message
    (report,) = acd.recorder.reports
    assert report.status == "voicemail" and report.wait_seconds >= 4  # not before the limit
    assert await acd.store.waiting_calls() == []


async def test_position_announcements_never_go_up(
    acd: Acd, simulated_caller: SimulatedCaller
) -> None:
    acd.routing["13800000005"] = ("policy", 0)
    acd.routing["13800000006"] = ("policy", 2)  # elderly: jumps ahead of the first caller
    await simulated_caller.call(DID_114, caller_id="13800000005", hold=14)
    await asyncio.sleep(5)
    await simulated_caller.call(DID_114, caller_id="13800000006", hold=9)
    await asyncio.sleep(2)
    order = [c.priority for c in await acd.store.waiting_calls()]
    assert order == [2, 0]  # the first caller really is second now
    await wait_done(acd, 2, timeout=40)
    # Yet he was never told he moved back: every announcement says "next".
    assert len(acd.prompts.texts) >= 3
    assert all(t.startswith("您是下一位") for t in acd.prompts.texts), acd.prompts.texts


async def test_announcements_are_slow_for_elderly_callers_not_for_high_priorities(
    acd: Acd, simulated_caller: SimulatedCaller
) -> None:
    # A repeat caller's priority 2 (as on 114) is not old age: ordinary announcements.
    acd.routing["13800000011"] = ("policy", 2)
    await simulated_caller.call(DID_114, caller_id="13800000011", hold=8)
    await wait_done(acd, 1, timeout=40)
    assert acd.prompts.texts and not any(acd.prompts.elderly)
    # A caller in 敬老 mode hears them slow and loud, whatever his priority.
    heard = len(acd.prompts.texts)
    acd.routing["13800000012"] = ("policy", 0)
    acd.elderly.add("13800000012")
    await simulated_caller.call(DID_114, caller_id="13800000012", hold=8)
    await wait_done(acd, 1, timeout=40)
    assert len(acd.prompts.texts) > heard and all(acd.prompts.elderly[heard:])


async def test_callback_keeps_the_place_and_rings_when_an_agent_frees_up(
    acd: Acd,
    simulated_caller: SimulatedCaller,
    simulated_agents: SimulatedAgents,
    settings: Settings,
    aredis: Redis,
) -> None:
    citizen = "13800000007"
    acd.routing[citizen] = ("policy", 0)
    acd.routing["13800000008"] = ("policy", 0)
    # The citizen's phone for the callback: rings 1 s, talks 3 s.
    await simulated_agents.configure(citizen, ring=1, talk=3)
    # The key twice, a second apart, as a caller who was not heard presses again: Asterisk
    # drops a key that ends between two of the queue's AGI commands (the waits are 200 ms
    # slices), and a second key during the confirmation is not listened for.
    await simulated_caller.call(DID_114, caller_id=citizen, dtmf="*ww*", delay=2, hold=15)
    await wait_done(acd, 1, timeout=30)
    assert acd.outcomes[citizen].status == QueueStatus.CALLBACK
    (left,) = acd.recorder.reports
    assert left.status == "callback"
    # queue_log: he left with the callback key (key|position|origposition|waittime).
    entered, left_by_key = acd.queue_log_of(left.call_id)
    assert (entered.event, left_by_key.event, left_by_key.data[:3]) == (
        "ENTERQUEUE", "EXITWITHKEY", ("*", "1", "1")
    )  # fmt: skip
    # The number waits in Redis only encrypted: nowhere under the ACD's prefix in clear.
    assert holding(await values_under(aredis, acd.prefix), citizen) == []
    waiting = await acd.store.waiting_calls()
    assert [(c.call_id, c.callback, c.entered_at) for c in waiting] == [
        (left.call_id, True, left.queued_at)
    ]

    # A later caller queues behind the callback; the first free agent takes the callback.
    await simulated_caller.call(DID_114, caller_id="13800000008", hold=30)
    await asyncio.sleep(3)
    await add_agent(acd, simulated_agents, 7, {"policy": 6}, ring=0.5, talk=20)
    for _ in range(200):
        if acd.recorder.callbacks:
            break
        await asyncio.sleep(0.1)
    (callback,) = acd.recorder.callbacks
    assert callback.parent_call_id == left.call_id  # linked to the original call
    assert callback.status == "answered" and callback.agent_id == 7
    assert 2.0 <= callback.talk_seconds <= 4.5
    assert callback.attempt_key == f"{left.call_id}#1"
    recording = await wait_for_recording(settings.host_path(callback.recording), timeout=30)
    assert 3.0 <= wav_seconds(recording) <= 8.0
    await wait_done(acd, 1, timeout=60)  # the later caller is served after the callback
    later = acd.outcomes["13800000008"]
    assert later.status == QueueStatus.ANSWERED and later.agent_id == 7


async def test_callback_stands_when_the_caller_hangs_up_during_the_confirmation(
    acd: Acd, simulated_caller: SimulatedCaller
) -> None:
    acd.routing["13800000010"] = ("policy", 0)
    # Twice, as above; the hang-up still falls inside the 5 s confirmation.
    await simulated_caller.call(DID_114, caller_id="13800000010", dtmf="*ww*", delay=2, hold=0.5)
    await wait_done(acd, 1, timeout=30)
    assert acd.outcomes["13800000010"].status == QueueStatus.CALLBACK
    assert [(c.status, c.callback) for c in await acd.store.waiting_calls()] == [
        (CallStatus.CALLBACK, True)
    ]


async def test_callback_refused_to_a_foreign_number_and_past_the_days_cap(
    acd: Acd, simulated_caller: SimulatedCaller, session_factory: sessionmaker[Session]
) -> None:
    foreign, capped = "+442071234567", "13800000011"
    for caller in (foreign, capped):
        acd.routing[caller] = ("complaints", 0)  # nobody staffed: voicemail after 4 s
    for n in range(acd.gate.daily_cap):  # the number's callbacks already asked for today
        acd.gate.admit(capped, call_id=f"earlier-{n}", line="114")
    await simulated_caller.call(DID_114, caller_id=foreign, dtmf="*ww*", delay=1, hold=10)
    await simulated_caller.call(DID_114, caller_id=capped, dtmf="*ww*", delay=1, hold=10)
    await wait_done(acd, 2, timeout=40)

    # Neither became a callback: each heard why and went on waiting until the voicemail.
    reports = acd.recorder.by_caller(acd)
    assert {c: (acd.outcomes[c].status, reports[c].status) for c in (foreign, capped)} == {
        foreign: (QueueStatus.NO_AGENT, "voicemail"),
        capped: (QueueStatus.NO_AGENT, "voicemail"),
    }
    assert any(t.startswith("您的来电号码不是境内手机或本地固定电话") for t in acd.prompts.texts)
    assert any("已达上限" in t for t in acd.prompts.texts)
    assert await acd.store.waiting_calls() == []
    # Each refusal is on the audit trail, the number masked and never in clear.
    with session_factory() as db:
        refusals = {
            r.target: r.details
            for r in db.scalars(select(AuditRecord).where(AuditRecord.action == "callback.refused"))
        }
    foreign_audit = refusals[f"call:{reports[foreign].call_id}"]
    capped_audit = refusals[f"call:{reports[capped].call_id}"]
    assert foreign_audit["reason"] == NUMBER_REFUSED and foreign_audit["line"] == "114"
    assert capped_audit["reason"] == DAILY_CAP and capped_audit["number"] == "138****0011"
    assert capped not in str(capped_audit) and "2071234567" not in str(foreign_audit)


# Friday 3 April 2026, 17:10 in Beijing; the Qingming holiday runs Saturday to Monday.
QINGMING_EVE = datetime(2026, 4, 3, 9, 10, tzinfo=UTC)
QINGMING_EVE_WINDOW = datetime(2026, 4, 3, 9, 31, tzinfo=UTC)  # 17:31, inside 17:30–18:00


async def test_a_caller_books_a_callback_window_by_keys_and_is_called_back_inside_it(
    acd: Acd,
    simulated_caller: SimulatedCaller,
    simulated_agents: SimulatedAgents,
    session_factory: sessionmaker[Session],
) -> None:
    citizen = "13800000013"
    acd.routing[citizen], acd.lines[citizen] = ("policy", 0), "hotline"
    acd.clock.at = QINGMING_EVE
    await simulated_agents.configure(citizen, ring=1, talk=3)  # the citizen's phone
    # The window key (twice, as a caller who was not heard), then the first window's key.
    await simulated_caller.call(DID_114, caller_id=citizen, dtmf="#ww#wwww1", delay=2, hold=20)
    await wait_done(acd, 1, timeout=40)
    assert acd.outcomes[citizen].status == QueueStatus.CALLBACK
    (left,) = acd.recorder.reports
    assert left.status == "callback"
    assert await acd.store.waiting_calls() == []  # he left the queue: no place is kept
    assert [(e.event, e.data[:1]) for e in acd.queue_log_of(left.call_id)] == [
        ("ENTERQUEUE", ("",)),
        ("EXITWITHKEY", ("#",)),
    ]
    # He heard the hotline's next free windows: none on the holiday, Saturday to Monday.
    assert (
        "预约回电时段：今天17点30分到18点请按1，4月7日9点到9点30分请按2，"
        "4月7日9点30分到10点请按3；继续排队请按0。"
    ) in acd.prompts.texts
    assert "好的，我们将在今天17点30分到18点之间给您回电，请保持电话畅通，请挂机。" in (
        acd.prompts.texts
    )
    with session_factory() as db:
        task = db.scalars(select(CallbackTask).where(CallbackTask.call_id == left.call_id)).one()
    assert task.window_start == datetime(2026, 4, 3, 9, 30, tzinfo=UTC)

    feeder = acd.feeder
    assert feeder is not None
    await add_agent(acd, simulated_agents, 8, {"policy": 6}, ring=0.5, talk=20)
    assert await feeder.feed_once() == []  # 17:10: not before the window
    await asyncio.sleep(1)
    assert acd.recorder.callbacks == []  # a free agent, yet nobody is dialled early
    acd.clock.at = QINGMING_EVE_WINDOW
    assert await feeder.feed_once() == [f"task-{task.id}"]
    for _ in range(300):
        if acd.recorder.callbacks:
            break
        await asyncio.sleep(0.1)
    (callback,) = acd.recorder.callbacks
    assert (callback.parent_call_id, callback.queue_call_id) == (left.call_id, f"task-{task.id}")
    assert callback.status == "answered" and callback.agent_id == 8
    for _ in range(50):
        with session_factory() as db:
            done = db.get(CallbackTask, task.id)
        if done is not None and done.status != "pending":
            break
        await asyncio.sleep(0.1)
    assert done is not None and (done.status, done.attempts) == ("done", 1)


AGENT_SKILLS = {
    1: {"booking": 8},
    2: {"booking": 8},
    3: {"booking": 5, "policy": 5},
    4: {"policy": 9},
    5: {"policy": 9},
}


async def test_thirty_callers_five_agents_skills_priority_and_longest_idle(
    acd: Acd,
    simulated_caller: SimulatedCaller,
    simulated_agents: SimulatedAgents,
    aredis: Redis,
    settings: Settings,
) -> None:
    for agent_id, skills in AGENT_SKILLS.items():
        await add_agent(acd, simulated_agents, agent_id, skills, ring=0.3, talk=1)
    callers = {}
    for n in range(30):
        caller = f"1390000{n:04}"
        skill = "policy" if n % 3 == 0 else "booking"
        acd.routing[caller] = (skill, 2 if n % 5 == 4 else 0)  # every fifth is elderly
        callers[caller] = skill
        await simulated_caller.call(DID_114, caller_id=caller, delay=0.5, hold=90)
    await wait_done(acd, 30, timeout=240)

    reports = acd.recorder.by_caller(acd)
    assert set(reports) == set(callers)
    for caller, report in reports.items():
        assert report.status == "answered", caller
        assert report.agent_id is not None
        assert callers[caller] in AGENT_SKILLS[report.agent_id], caller  # right skill
        assert report.answered_at is not None
        # The record's times add up: queued + wait = answered, answered + talk = left.
        assert report.wait_seconds == pytest.approx(report.answered_at - report.queued_at)
        assert report.answered_at + report.talk_seconds <= report.left_at + 0.5
        assert 0.5 <= report.talk_seconds <= 2.0  # simulated agents talk 1 s

    # No agent ever on two calls: his talk intervals never overlap.
    for agent_id in AGENT_SKILLS:
        spans = sorted(
            (r.answered_at or 0, (r.answered_at or 0) + r.talk_seconds)
            for r in reports.values()
            if r.agent_id == agent_id
        )
        assert all(a[1] <= b[0] + 0.05 for a, b in itertools.pairwise(spans)), agent_id

    events = await aredis.xrange(acd.store.events_key)
    replay_routing(events, acd, reports)

    # Every call left a playable recording as long as the controller held the call (± 1 s).
    for caller in callers:
        path, held = acd.recordings[caller]
        recording = await wait_for_recording(settings.host_path(path), timeout=20)
        assert abs(wav_seconds(recording) - held) <= 1.0, caller


def replay_routing(
    events: list[tuple[str, dict[str, str]]], acd: Acd, reports: dict[str, QueueReport]
) -> None:
    """Replay the agents' state changes: every reservation went to the best level, longest
    idle ready agent with the skill, for the best waiting call (priority, then entry)."""
    by_call = {r.call_id: r for r in reports.values()}
    ready_since: dict[int, float] = {}
    reserved_at: dict[str, float] = {}
    for _id, e in events:
        agent, at, state = int(e["agent_id"]), int(e["at"]) / 1000, e["state"]
        if state == "ready":
            ready_since[agent] = at
            continue
        idle_since = ready_since.pop(agent, None)
        if state != "reserved":
            continue
        assert idle_since is not None, f"agent {agent} reserved while not ready"
        call = by_call[e["call_id"]]
        level = AGENT_SKILLS[agent][call.skill]
        for other, since in ready_since.items():
            other_level = AGENT_SKILLS[other].get(call.skill)
            if other_level is None:
                continue
            assert (other_level, -since) <= (level, -idle_since), (
                f"agent {agent} got {call.call_id} though {other} was better or idle longer"
            )
        reserved_at[call.call_id] = at
    # Calls: within a skill, nobody who was already waiting with a better rank was passed over.
    # The entry time is stamped just before the call reaches Redis; under 30 simultaneous
    # arrivals that write can land some tens of ms later, hence the margin.
    for a in by_call.values():
        for b in by_call.values():
            if a.skill != b.skill or a is b:
                continue
            better = (-a.priority, a.queued_at) < (-b.priority, b.queued_at)
            if better and a.queued_at < reserved_at[b.call_id] - 0.25:
                assert reserved_at[a.call_id] <= reserved_at[b.call_id], (a, b)
    overtakes = [
        (a, b)
        for a in by_call.values()
        for b in by_call.values()
        if a.skill == b.skill
        and a.priority > b.priority
        and a.queued_at > b.queued_at
        and reserved_at[a.call_id] < reserved_at[b.call_id]
    ]
    assert overtakes  # elderly callers really went ahead of earlier callers


async def test_two_controller_processes_share_the_queues_without_double_assignment(
    acd: Acd,
    simulated_caller: SimulatedCaller,
    simulated_agents: SimulatedAgents,
    settings: Settings,
    aredis: Redis,
) -> None:
    agents = {n: {"booking": 5} for n in range(1, 7)}
    for agent_id, skills in agents.items():
        await add_agent(acd, simulated_agents, agent_id, skills, ring=0.2, talk=1)
    second = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tests.acceptance.test_acd_calls", settings.redis_url, acd.prefix,
        cwd=Path(__file__).resolve().parents[2],
    )  # fmt: skip
    try:
        callers = [f"1370000{n:04}" for n in range(50)]
        for caller in callers:
            await simulated_caller.call(DID_114, caller_id=caller, delay=0.5, hold=120)
        await wait_done(acd, 50, timeout=300)
    finally:
        second.terminate()
        await second.wait()
    reports = acd.recorder.by_caller(acd)
    assert sorted(reports) == callers
    assert [r for r in reports.values() if r.status != "answered"] == []
    pickers = {
        await aredis.hget(acd.store.key("call", r.call_id), "picked_by") for r in reports.values()
    }
    assert pickers == {"acceptance", "second"}  # both controllers routed calls
    for agent_id in agents:
        spans = sorted(
            (r.answered_at or 0, (r.answered_at or 0) + r.talk_seconds)
            for r in reports.values()
            if r.agent_id == agent_id
        )
        assert all(a[1] <= b[0] + 0.05 for a, b in itertools.pairwise(spans)), agent_id
    reserved = [
        e["call_id"] for _id, e in await aredis.xrange(acd.store.events_key)
        if e["state"] == "reserved"
    ]  # fmt: skip
    assert sorted(reserved) == sorted(r.call_id for r in reports.values())  # each once


async def _second_controller(redis_url: str, prefix: str) -> None:
    """A second controller process: routing only, on the same Redis queues."""
    redis = Redis.from_url(redis_url, decode_responses=True)
    store = AcdStore(redis, prefix, SKILLS, controller_id="second")
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    await Dispatcher(store, tick_seconds=0.05).run(stop)
    await redis.aclose()


if __name__ == "__main__":
    asyncio.run(_second_controller(sys.argv[1], sys.argv[2]))
