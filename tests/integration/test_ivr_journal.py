"""Each call's IVR path lands in PostgreSQL: the call record and one row per node visited."""

from __future__ import annotations

import uuid
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from backend.flows.loader import load_flows
from backend.idcard import make_valid
from backend.models.calls import CallRecord, Disposition, Line
from backend.workcalendar import WorkCalendar
from ivr.flows.call import call_info
from ivr.flows.engine import FlowEngine, FlowPorts
from ivr.flows.ports import CallerProfile, QueueOutcome, QueueStatus
from ivr.journal import SqlCallJournal, ivr_path
from tests.ivr_scripted_call import (
    HANGUP,
    SILENCE,
    LabelRenderer,
    MemoryBookings,
    MemoryMessages,
    RecordingQueue,
    ScriptedChannel,
    StaticDirectory,
    SteppingClock,
    TranscriptRecognizer,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")


async def _call(
    session_factory: sessionmaker[Session],
    tmp_path: Path,
    line: str,
    actions: list[object],
    *,
    outcome: QueueOutcome | None = None,
    now: datetime | None = None,
) -> str:
    flow = load_flows(names=(line,))[line]
    engine = FlowEngine(
        flow,
        FlowPorts(
            renderer=LabelRenderer(),
            queue=RecordingQueue(outcome) if outcome else RecordingQueue(),
            journal=SqlCallJournal(session_factory),
            calendar=WorkCalendar.load(),
            clock=SteppingClock(now or datetime(2026, 11, 25, 10, 0, tzinfo=SHANGHAI)),
            callers=StaticDirectory({"13900000000": CallerProfile(elderly=True)}),
            messages=MemoryMessages(tmp_path),
            bookings=MemoryBookings(),
            speech=TranscriptRecognizer(tmp_path),
        ),
    )
    call_id = f"{uuid.uuid4().int % 10**10}.{uuid.uuid4().int % 1000}"
    channel = ScriptedChannel(
        actions,  # type: ignore[arg-type]
        env={"uniqueid": call_id, "linkedid": call_id, "callerid": "13800138000"},
        variables={"CC_DID": "010114"},
    )
    await engine.run(channel, await call_info(channel, flow.line))
    return call_id


def _record(db: Session, call_id: str) -> CallRecord:
    return db.scalars(select(CallRecord).where(CallRecord.call_id == call_id)).one()


async def test_hangup_in_the_menu_leaves_a_record_abandoned_in_ivr(
    session_factory: sessionmaker[Session], db: Session, tmp_path: Path
) -> None:
    call_id = await _call(session_factory, tmp_path, "114", [SILENCE, HANGUP])
    record = _record(db, call_id)
    assert record.line is Line.APPOINTMENT_114
    # The number is kept masked only.
    assert (record.caller_number, record.did) == ("138****8000", "010114")
    assert record.disposition is Disposition.ABANDONED_IVR
    assert record.ended_at is not None and record.ivr_seconds > 0
    path = ivr_path(db, call_id)
    assert [(s.node, s.kind) for s in path] == [
        ("caller_check", "caller_branch"),
        ("welcome", "play"),
        ("speech_intent", "speech"),
        ("main_menu", "menu"),
    ]
    assert path[-1].outcome == "caller_hangup"
    assert [s.seq for s in path] == [1, 2, 3, 4]


async def test_queue_handoff_records_intent_skill_and_elderly_priority(
    session_factory: sessionmaker[Session], db: Session, tmp_path: Path
) -> None:
    # 9: 敬老 mode, one key to a person.
    call_id = await _call(session_factory, tmp_path, "114", ["9"])
    record = _record(db, call_id)
    # From the hand-off on, the ACD decides the disposition.
    assert record.disposition is Disposition.IN_PROGRESS
    assert (record.intent, record.skill, record.priority, record.elderly) == (
        "elderly",
        "general",
        10,
        True,
    )
    handoff, queued = ivr_path(db, call_id)[-2:]
    assert (handoff.node, handoff.outcome) == ("elderly_queue", "handed_to_queue")
    assert handoff.details["intent"] == "elderly"
    assert handoff.details["priority"] == 10
    assert (queued.node, queued.outcome) == ("elderly_queue", "answered")


async def test_survey_score_is_stored_after_the_agent_hangs_up(
    session_factory: sessionmaker[Session], db: Session, tmp_path: Path
) -> None:
    outcome = QueueOutcome(QueueStatus.ANSWERED, caller_on_line=True)
    call_id = await _call(session_factory, tmp_path, "114", ["0", "4"], outcome=outcome)
    record = _record(db, call_id)
    assert (record.satisfaction, record.survey_outcome) == (4, "scored")
    assert record.survey_started_at is not None and record.survey_seconds > 0
    nodes = [s.node for s in ivr_path(db, call_id)]
    assert nodes[-4:] == ["agent_queue", "agent_queue", "survey", "goodbye"]


@pytest.mark.parametrize(("answer", "outcome"), [("7", "invalid"), (SILENCE, "no_answer")])
async def test_a_survey_without_a_score_is_stored_as_such(
    session_factory: sessionmaker[Session],
    db: Session,
    tmp_path: Path,
    answer: object,
    outcome: str,
) -> None:
    handed = QueueOutcome(QueueStatus.ANSWERED, caller_on_line=True)
    call_id = await _call(session_factory, tmp_path, "114", ["0", answer], outcome=handed)
    record = _record(db, call_id)
    assert (record.satisfaction, record.survey_outcome) == (None, outcome)
    assert record.survey_started_at is not None
    survey = [s for s in ivr_path(db, call_id) if s.node == "survey"]
    assert [(s.outcome, s.input) for s in survey] == [
        (outcome, answer if outcome == "invalid" else "")
    ]


async def test_no_survey_offered_leaves_the_survey_columns_empty(
    session_factory: sessionmaker[Session], db: Session, tmp_path: Path
) -> None:
    handed = QueueOutcome(QueueStatus.ANSWERED, caller_on_line=False)
    record = _record(db, await _call(session_factory, tmp_path, "114", ["0"], outcome=handed))
    assert (record.satisfaction, record.survey_started_at, record.survey_outcome) == (
        None,
        None,
        "",
    )


async def test_self_service_ends_the_call_as_self_service(
    session_factory: sessionmaker[Session], db: Session, tmp_path: Path
) -> None:
    call_id = await _call(session_factory, tmp_path, "114", ["3"])
    record = _record(db, call_id)
    assert record.disposition is Disposition.SELF_SERVICE
    assert record.intent == "report_query"


async def test_id_numbers_never_reach_the_ivr_path_in_clear(
    session_factory: sessionmaker[Session], db: Session, tmp_path: Path
) -> None:
    id_number = make_valid("11010519800101123")
    call_id = await _call(session_factory, tmp_path, "114", ["2", id_number, "1234567890"])
    stored = " ".join(f"{s.input} {s.details}" for s in ivr_path(db, call_id))
    assert id_number not in stored
    assert "booking_lookup" in {s.node for s in ivr_path(db, call_id)}


async def test_out_of_hours_message_is_a_voicemail_call(
    session_factory: sessionmaker[Session], db: Session, tmp_path: Path
) -> None:
    from tests.ivr_scripted_call import Say

    call_id = await _call(
        session_factory,
        tmp_path,
        "hotline",
        [Say("请回电")],
        now=datetime(2026, 10, 3, 11, 0, tzinfo=SHANGHAI),  # National Day holiday
    )
    record = _record(db, call_id)
    assert record.line is Line.HOTLINE
    assert record.disposition is Disposition.VOICEMAIL
    message_step = next(s for s in ivr_path(db, call_id) if s.node == "leave_message")
    assert message_step.details["reference"] == "T0001"


@pytest.mark.parametrize("repeat", [1, 2])
async def test_a_call_entering_the_ivr_twice_keeps_one_record(
    session_factory: sessionmaker[Session], db: Session, tmp_path: Path, repeat: int
) -> None:
    journal = SqlCallJournal(session_factory)
    from ivr.flows.ports import CallInfo

    call = CallInfo("twice-1", "twice-1", "114", "13800138000", "114")
    for _ in range(repeat):
        await journal.call_started(call)
    assert _record(db, "twice-1").line is Line.APPOINTMENT_114
