"""The queue's outcome lands in the call record; callbacks get their own, linked record."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from backend.models.agents import Agent
from backend.models.calls import CallRecord, Direction, Disposition, Line
from ivr.acd.callbacks import CallbackReport
from ivr.acd.queue import QueueReport
from ivr.acd.records import SqlQueueRecorder

T0 = 1_764_000_000.0


def make_agent(factory: sessionmaker[Session]) -> int:
    with factory() as session, session.begin():
        number = uuid.uuid4().hex[:8]
        agent = Agent(number=number, name="坐席", interface=f"Local/{number}@sim-agent")
        session.add(agent)
        session.flush()
        return agent.id


def record(factory: sessionmaker[Session], call_id: str) -> CallRecord:
    with factory() as session:
        row = session.scalar(select(CallRecord).where(CallRecord.call_id == call_id))
        assert row is not None
        return row


def report(call_id: str, status: str, **kw: object) -> QueueReport:
    values: dict[str, object] = {
        "call_id": call_id,
        "line": "114",
        "caller_number": "13800000000",
        "skill": "booking",
        "priority": 2,
        "queued_at": T0,
        "left_at": T0 + 50,
        "status": status,
    }
    values.update(kw)
    return QueueReport(**values)  # type: ignore[arg-type]


async def test_answered_call_gets_wait_talk_agent_and_wrapup(
    session_factory: sessionmaker[Session],
) -> None:
    agent_id = make_agent(session_factory)
    call_id = f"rec-{uuid.uuid4().hex[:8]}"
    with session_factory() as session, session.begin():
        session.add(CallRecord(call_id=call_id, line=Line.APPOINTMENT_114, ivr_seconds=12.5))
    recorder = SqlQueueRecorder(session_factory, wrapup_seconds={"booking": 15})
    await recorder.queue_left(
        report(call_id, "answered", agent_id=agent_id, answered_at=T0 + 20, talk_seconds=30)
    )
    row = record(session_factory, call_id)
    assert row.disposition == Disposition.ANSWERED
    assert (row.wait_seconds, row.talk_seconds, row.wrapup_seconds) == (20, 30, 15)
    assert row.agent_id == agent_id and row.skill == "booking" and row.priority == 2
    assert row.queued_at is not None and row.queued_at.timestamp() == T0
    assert row.ivr_seconds == 12.5  # the IVR's part is kept


async def test_a_caller_left_on_the_line_keeps_the_record_open_for_his_channel_end(
    session_factory: sessionmaker[Session],
) -> None:
    """The agent hung up first (the survey follows): the queue settles the call but does not
    end it; a caller who hung up on the agent ends it with the queue."""
    agent_id = make_agent(session_factory)
    recorder = SqlQueueRecorder(session_factory)
    stays, gone = (f"rec-{uuid.uuid4().hex[:8]}" for _ in range(2))
    for call_id, on_line in ((stays, True), (gone, False)):
        answered = {"agent_id": agent_id, "answered_at": T0 + 20, "talk_seconds": 30}
        await recorder.queue_left(report(call_id, "answered", caller_on_line=on_line, **answered))
    staying, left = record(session_factory, stays), record(session_factory, gone)
    assert (staying.disposition, staying.agent_id, staying.talk_seconds) == (
        Disposition.ANSWERED,
        agent_id,
        30,
    )
    assert staying.ended_at is None
    assert left.ended_at is not None and left.ended_at.timestamp() == T0 + 50


async def test_abandons_are_split_into_short_and_real(
    session_factory: sessionmaker[Session],
) -> None:
    recorder = SqlQueueRecorder(session_factory, short_abandon_seconds=5)
    short, real = f"s-{uuid.uuid4().hex[:8]}", f"r-{uuid.uuid4().hex[:8]}"
    await recorder.queue_left(report(short, "abandoned", left_at=T0 + 3))
    await recorder.queue_left(report(real, "abandoned", left_at=T0 + 40))
    assert record(session_factory, short).disposition == Disposition.SHORT_ABANDON
    assert record(session_factory, real).disposition == Disposition.ABANDONED_QUEUE
    assert record(session_factory, real).wait_seconds == 40


async def test_callback_attempt_is_an_outbound_record_linked_to_the_call(
    session_factory: sessionmaker[Session],
) -> None:
    agent_id = make_agent(session_factory)
    parent = f"p-{uuid.uuid4().hex[:8]}"
    recorder = SqlQueueRecorder(session_factory)
    await recorder.queue_left(report(parent, "callback"))
    leg = f"leg-{uuid.uuid4().hex[:8]}"
    await recorder.callback_done(
        CallbackReport(
            parent_call_id=parent,
            unique_id=leg,
            attempt_key=f"{parent}#1",
            agent_id=agent_id,
            status="answered",
            started_at=T0 + 100,
            answered_at=T0 + 104,
            talk_seconds=60,
            recording="/srv/x.wav",
            ended_at=T0 + 164,
        )
    )
    assert record(session_factory, parent).disposition == Disposition.CALLBACK
    row = record(session_factory, leg)
    assert row.direction == Direction.OUTBOUND and row.parent_call_id == parent
    assert row.caller_number == "13800000000" and row.skill == "booking"
    assert row.disposition == Disposition.ANSWERED and row.talk_seconds == 60
    assert row.agent_id == agent_id
