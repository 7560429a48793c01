"""The post-call survey on a real call: a caller into 114 (a Local/ channel placed over AMI,
as the ACD tests place theirs) presses 1, the controller queues him, a simulated agent
answers, talks and hangs up; the caller, still on the line, hears the survey and presses a
key the moment it plays (AMI PlayDTMF on his phone's half of the call).

What the score reaches: the call record (with the survey's own time and outcome), the
agent's day on the desk, the agent report's and the daily service report's 满意率 and the
work-order report's 来电满意率, each compared with the figure the raw records give. The record ends with the caller's
channel, so it spans exactly what the recording holds (± 1 s).

114 is open around the clock: the flows run on the real clock here, so every time on the
record is the real one.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from agent_desk.myday import my_day
from backend.ami.client import AmiClient
from backend.audit.records import Actor
from backend.models.agents import Agent
from backend.models.calls import CallRecord, Disposition, Line
from backend.models.users import Role
from backend.models.workorders import WorkOrder
from backend.speech.tts import prompt_seconds
from backend.workorders.composition import workorder_service
from backend.workorders.service import OrderDraft
from ivr.flows.ports import Clock, SystemClock
from reports import kpi
from reports.agent_report import build_agent_report
from reports.periods import Edition, ReportFilter, edition_range
from reports.service_report import build_service_report
from reports.workorder_report import build_workorder_report
from tests.asterisk_fixtures import DID_114, SimulatedAgents, SimulatedCaller, wav_seconds
from tests.controller_lines import Lines
from tests.desk_support import make_user

pytestmark = pytest.mark.asterisk

BEIJING = ZoneInfo("Asia/Shanghai")
TALK_SECONDS = 5


@pytest.fixture()
def lines_clock() -> Clock:
    return SystemClock()


@dataclass(frozen=True)
class ServedCall:
    agent_id: int
    caller: str


@pytest.fixture()
async def served_call(
    lines: Lines,
    simulated_caller: SimulatedCaller,
    simulated_agents: SimulatedAgents,
    session_factory: sessionmaker[Session],
) -> ServedCall:
    """A new agent ready on booking, and a new caller into 114 on his way to him."""
    agent_id = await agent_on_booking(lines, simulated_agents, session_factory)
    return ServedCall(agent_id, await call_pressing_1(lines, simulated_caller))


async def agent_on_booking(
    lines: Lines, simulated_agents: SimulatedAgents, session_factory: sessionmaker[Session]
) -> int:
    """A new agent, signed in and ready on the booking skill, whose phone answers after a
    second, talks ``TALK_SECONDS`` and hangs up."""
    interface = await simulated_agents.configure(
        f"s{uuid.uuid4().hex[:8]}", ring=1, talk=TALK_SECONDS
    )
    agent = make_user(session_factory, Role.AGENT, interface=interface)
    assert agent.agent_id is not None
    await lines.ready(agent.agent_id, agent.agent_number, interface, "booking")
    return agent.agent_id


async def call_pressing_1(lines: Lines, simulated_caller: SimulatedCaller) -> str:
    """A new caller into 114 pressing 1 (booking) once the welcome has played, staying on
    the line until the controller hangs up; the caller's number."""
    welcome = await asyncio.to_thread(prompt_seconds, lines.settings, "114", "welcome")
    # Rendered now, so that the survey starts the moment the agent hangs up.
    await asyncio.to_thread(prompt_seconds, lines.settings, "114", "survey")
    caller = f"137{uuid.uuid4().int % 10**8:08d}"
    await simulated_caller.call(DID_114, caller_id=caller, dtmf="1", delay=welcome + 1.5, hold=180)
    return caller


async def record_when(
    lines: Lines, caller: str, done: Callable[[CallRecord], bool], what: str, timeout: float = 90
) -> CallRecord:
    """The caller's call record once ``done`` holds for it."""
    hashed = lines.cipher.lookup_hash(caller)
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        with lines.session_factory() as db:
            record = db.scalar(select(CallRecord).where(CallRecord.caller_hash == hashed))
        if record is not None and done(record):
            return record
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"{what}: {record}")
        await asyncio.sleep(0.3)


async def caller_phone(ami: AmiClient, caller: str, timeout: float = 30) -> str:
    """The caller's half of the Local/ call (what he presses is sent from there), once the
    originated call is up."""
    deadline = asyncio.get_running_loop().time() + timeout
    while asyncio.get_running_loop().time() < deadline:
        for channel in await ami.channels():
            name = channel.get("Channel", "")
            numbers = {channel.get("CallerIDNum"), channel.get("ConnectedLineNum")}
            if name.startswith(f"Local/{DID_114}@") and name.endswith(";1") and caller in numbers:
                return name
        await asyncio.sleep(0.3)
    raise AssertionError(f"no phone for caller {caller}")


async def press_in_survey(ami: AmiClient, lines: Lines, caller: str, key: str) -> None:
    """Wait for the agent to hang up (the queue settles the record as answered), then press
    ``key`` while the survey prompt plays: three times a second apart, the first one
    landing in the prompt counts (the thanks and goodbye take no keys)."""
    phone = await caller_phone(ami, caller)
    await record_when(lines, caller, answered_and_released, "the agent never hung up")
    for _ in range(3):
        await asyncio.sleep(1.0)
        # Async=false: panoramisk reads a reply ending "successfully queued" as the start
        # of an async list unless the action says otherwise (Asterisk ignores the header).
        await ami.action("PlayDTMF", Channel=phone, Digit=key, Duration="200", Async="false")


def answered_and_released(record: CallRecord) -> bool:
    return record.disposition == Disposition.ANSWERED and record.answered_at is not None


def assert_record_spans_the_recording(record: CallRecord, recorded: float) -> None:
    """The record's start to end is what the recording holds (± 1 s), and the survey sits
    after the talk, inside the call."""
    assert record.ended_at is not None and record.answered_at is not None
    assert abs((record.ended_at - record.started_at).total_seconds() - recorded) <= 1.0
    talk_end = record.answered_at + timedelta(seconds=record.talk_seconds + record.hold_seconds)
    assert record.survey_started_at is not None
    assert record.survey_started_at >= talk_end - timedelta(seconds=1)
    survey_end = record.survey_started_at + timedelta(seconds=record.survey_seconds)
    assert survey_end <= record.ended_at + timedelta(seconds=1)


async def test_a_survey_score_after_a_real_agent_call_reaches_the_record_the_day_and_reports(
    lines: Lines, ami: AmiClient, served_call: ServedCall, session_factory: sessionmaker[Session]
) -> None:
    agent_id, caller = served_call.agent_id, served_call.caller
    talking = await record_when(lines, caller, lambda r: True, "no call record", timeout=30)
    # The agent files a work order from the call while they talk, as the desk does.
    order_number = file_order(lines, talking.call_id)
    await press_in_survey(ami, lines, caller, "4")
    record, recording = await lines.call_record(caller, timeout=120)

    assert (record.agent_id, record.skill, record.disposition) == (
        agent_id,
        "booking",
        Disposition.ANSWERED,
    )
    assert (record.satisfaction, record.survey_outcome) == (4, "scored")
    assert TALK_SECONDS - 1 <= record.talk_seconds <= TALK_SECONDS + 2
    assert_record_spans_the_recording(record, wav_seconds(recording))

    with session_factory() as db:
        today = datetime.now(BEIJING).date()
        raw = list(
            db.scalars(
                select(CallRecord.satisfaction).where(
                    CallRecord.agent_id == agent_id, CallRecord.satisfaction.is_not(None)
                )
            )
        )
        assert raw == [4]
        # The agent's day on the desk: the mean score of the day's calls.
        day = {i["label"]: i["value"] for i in my_day(db, [agent_id], datetime.now(UTC), BEIJING)}
        assert day["满意度"] == f"{sum(raw) / len(raw):.1f} / 5"
        # The agent report: 满意率 = scores of 4 or 5 over the calls scored.
        report = build_agent_report(db, ReportFilter(first=today, last=today, agent_id=agent_id))
        table = report.table("坐席绩效")
        row = next(r for r in table.rows if r[1] == agent_number(db, agent_id))
        satisfied = sum(score >= kpi.SATISFIED_MIN_SCORE for score in raw) / len(raw)
        assert row[table.columns.index("满意率")] == f"{satisfied * 100:.1f}%"
        # The daily service report of 114's booking queue, and the work-order report.
        assert_service_report_counts_the_call(db, today)
        assert_workorder_report_counts_the_call(db, order_number, today)


def assert_service_report_counts_the_call(db: Session, today: date) -> None:
    """满意率 of the day's report: the day's answered booking calls on 114 that were scored,
    read from the raw records."""
    f = ReportFilter(first=today, last=today, line="114", skill="booking")
    start, end = f.utc_range()
    scores = list(
        db.scalars(
            select(CallRecord.satisfaction).where(
                CallRecord.line == Line("114"),
                CallRecord.skill == "booking",
                CallRecord.started_at >= start,
                CallRecord.started_at < end,
                CallRecord.agent_id.is_not(None),
                CallRecord.answered_at.is_not(None),
                CallRecord.satisfaction.is_not(None),
            )
        )
    )
    assert 4 in scores
    satisfied = sum(s >= kpi.SATISFIED_MIN_SCORE for s in scores) / len(scores)
    table = build_service_report(db, f).table("总体指标")
    overall = dict(zip(table.columns, table.rows[0], strict=True))
    assert overall["满意率"] == f"{satisfied * 100:.1f}%"


def file_order(lines: Lines, call_id: str) -> str:
    with lines.session_factory() as db:
        service = workorder_service(db, lines.settings)
        draft = OrderDraft(title="预约改期咨询", line="114", call_id=call_id)
        number = service.create(draft, Actor("agent_survey"), datetime.now(UTC)).number
        db.commit()
        return number


def agent_number(db: Session, agent_id: int) -> str:
    agent = db.get(Agent, agent_id)
    assert agent is not None
    return agent.number


def assert_workorder_report_counts_the_call(db: Session, order_number: str, today: date) -> None:
    first, last = edition_range(Edition.WEEKLY, today)
    start, end = ReportFilter(first=first, last=last).utc_range()
    scores = {
        number: score
        for number, score in db.execute(
            select(WorkOrder.number, CallRecord.satisfaction)
            .join(CallRecord, CallRecord.call_id == WorkOrder.call_id)
            .where(WorkOrder.created_at >= start, WorkOrder.created_at < end)
        )
    }
    assert scores[order_number] == 4
    scored = [s for s in scores.values() if s is not None]
    satisfied = sum(s >= kpi.SATISFIED_MIN_SCORE for s in scored) / len(scored)
    rates = dict(build_workorder_report(db, Edition.WEEKLY, today).table("三率").rows)  # type: ignore[arg-type]
    assert rates["来电满意率"] == f"{satisfied * 100:.1f}%"


@pytest.mark.parametrize(("key", "outcome"), [("9", "invalid"), (None, "no_answer")])
async def test_a_bad_key_or_none_in_the_survey_is_stored_as_such_without_a_score(
    lines: Lines, ami: AmiClient, served_call: ServedCall, key: str | None, outcome: str
) -> None:
    caller = served_call.caller
    if key is not None:
        await press_in_survey(ami, lines, caller, key)
    record, recording = await lines.call_record(caller, timeout=120)
    assert (record.satisfaction, record.survey_outcome) == (None, outcome)
    assert record.disposition == Disposition.ANSWERED
    assert_record_spans_the_recording(record, wav_seconds(recording))


async def test_a_caller_hanging_up_in_the_survey_ends_the_record_then(
    lines: Lines, ami: AmiClient, served_call: ServedCall
) -> None:
    caller = served_call.caller
    phone = await caller_phone(ami, caller)
    await record_when(lines, caller, answered_and_released, "the agent never hung up")
    await asyncio.sleep(2.0)  # into the survey prompt
    await ami.hangup(phone)
    record, recording = await lines.call_record(caller, timeout=60)
    assert (record.satisfaction, record.survey_outcome) == (None, "hung_up")
    assert record.disposition == Disposition.ANSWERED
    assert_record_spans_the_recording(record, wav_seconds(recording))
