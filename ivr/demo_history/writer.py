"""Writes the demo's call history through the controller's own writers, so the rows are the
rows production writes: the call lifecycle opens the record (the number encrypted, hashed and
masked) and closes it, the call journal records the IVR's outcome and the survey score, the
queue recorder what happened in the queue, and agent states become rows as the history
writer makes them from the ACD's event stream. Only the clock is simulated.

Each day is written in one database transaction (the writers' own commits join it), so an
interrupted load leaves no half-written day, and several days are written at once.
"""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session, sessionmaker

from backend.acd.states import NotReadyReason
from backend.flows.schema import SurveyOutcome
from backend.models.agents import Agent, AgentSkill, AgentStateChange, Skill
from backend.models.calls import CallRecord
from backend.personal_data import PersonalDataCipher
from backend.settings import Settings
from backend.workcalendar import WorkCalendar
from ivr.acd.history import row_from_event
from ivr.acd.queue import QueueReport
from ivr.acd.records import SqlQueueRecorder
from ivr.call_lifecycle import CallLifecycle
from ivr.demo_history.arrivals import PROFILES, SimCall, calls_of_day
from ivr.flows.ports import CallInfo, IvrExit, IvrSummary, SurveyResult
from ivr.journal import SqlCallJournal
from recordings.index import RecordingIndex

HISTORY_PREFIX = "demo-"
WORKERS = 4  # days written at once (each on its own connection)
# Agents' working hours by team (local): sign-in, lunch, sign-out.
SHIFTS = {
    "114": (time(7), time(12), time(13), time(22)),
    "hotline": (time(9), time(12), time(13), time(18)),
}
IVR_EXITS = {"self_service": IvrExit.SELF_SERVICE, "ivr_hangup": IvrExit.ABANDONED}
QUEUE_STATUS = {"answered": "answered", "abandoned": "abandoned", "callback": "callback"}


@dataclass(frozen=True)
class HistoryResult:
    first: date
    last: date
    calls: int


class SimClock:
    """The writers' ``now``: the simulated moment of the call being written."""

    def __init__(self) -> None:
        self.at = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.at


def history_days(session: Session, today: date, days: int) -> list[date]:
    """The days to (re)generate: from the last day already written (it may be partial) or
    ``days`` back, to today."""
    latest = session.scalar(
        select(CallRecord.started_at)
        .where(CallRecord.call_id.like(f"{HISTORY_PREFIX}%"))
        .order_by(CallRecord.started_at.desc())
        .limit(1)
    )
    first = today - timedelta(days=days - 1)
    if latest is not None:
        first = max(first, latest.date() - timedelta(days=1))
    return [first + timedelta(days=n) for n in range((today - first).days + 1)]


def write_history(
    engine: Engine,
    settings: Settings,
    days: list[date],
    *,
    now: datetime | None = None,
    workers: int = WORKERS,
) -> HistoryResult:
    """Writes the calls of ``days`` (up to ``now``), each day in one transaction of its own
    (a day is written whole or not at all; loading again fills in what is missing), several
    days at once."""
    tz = ZoneInfo(settings.timezone)
    until = now or datetime.now(UTC)
    calendar = WorkCalendar.load()  # the demo's days may lie in a year nobody entered yet
    with Session(engine) as session:
        agents = _agents_by_skill(session)

    def one_day(day: date) -> int:
        working = calendar.is_working_day(day)
        calls = [
            call
            for profile in PROFILES
            for call in calls_of_day(profile, day, working, tz)
            if call.ended <= until
        ]
        with engine.connect() as conn, conn.begin():
            # The writers' own commits join this transaction: the day is committed once.
            factory = sessionmaker(bind=conn, expire_on_commit=False)
            with factory() as session:
                by_team = {"114": [day], "hotline": [day] if working else []}
                _write_states(session, agents, by_team, tz, until)
                session.flush()
            asyncio.run(_write_calls(factory, settings, calls, agents))
        return len(calls)

    with ThreadPoolExecutor(workers) as pool:
        written = sum(pool.map(one_day, days))
    return HistoryResult(days[0], days[-1], written)


async def _write_calls(
    factory: sessionmaker[Session],
    settings: Settings,
    calls: list[SimCall],
    agents: dict[str, list[int]],
) -> None:
    clock = SimClock()
    journal = SqlCallJournal(factory, now=clock)
    recorder = SqlQueueRecorder(factory, wrapup_seconds=_wrapups(factory))
    with tempfile.TemporaryDirectory() as spool_dir:
        lifecycle = CallLifecycle(
            factory, RecordingIndex(factory, settings), PersonalDataCipher.of(settings),
            Path(spool_dir) / "spool.jsonl", now=clock,
        )  # fmt: skip
        for nth, call in enumerate(calls):
            info = CallInfo(call.call_id, call.call_id, call.line, call.caller_number, call.did)
            clock.at = call.arrived
            lifecycle.open_record(info)
            clock.at = call.queued_at
            await journal.ivr_left(info, _summary(call))
            if call.outcome in QUEUE_STATUS:
                await recorder.queue_left(_queue_report(call, agents, nth))
            if call.outcome == "answered":  # the caller stays for the survey
                await journal.after_queue(info, [], _survey(call))
                clock.at = call.ended
                lifecycle.close_record(info)  # no recording to finish in a simulated call
            # Other calls have ended already (the IVR's exit, the queue's report): closing
            # sets the end only on a record still open, so it is not asked for.


def _summary(call: SimCall) -> IvrSummary:
    return IvrSummary(
        exit=IVR_EXITS.get(call.outcome, IvrExit.QUEUE), intent=call.intent, elderly=False,
        ivr_seconds=call.ivr_seconds, steps=[], skill=call.skill,
    )  # fmt: skip


def _survey(call: SimCall) -> SurveyResult:
    scored = call.satisfaction is not None
    return SurveyResult(
        started_at=call.queue_left, seconds=call.survey_seconds,
        outcome=SurveyOutcome.SCORED if scored else SurveyOutcome.HUNG_UP,
        score=call.satisfaction, key=str(call.satisfaction) if scored else "",
    )  # fmt: skip


def _queue_report(call: SimCall, agents: dict[str, list[int]], nth: int) -> QueueReport:
    queued = call.queued_at.timestamp()
    answered = call.outcome == "answered"
    staff = agents.get(call.skill, [])
    return QueueReport(
        call_id=call.call_id, line=call.line, caller_number=call.caller_number,
        skill=call.skill, priority=0, queued_at=queued, left_at=call.queue_left.timestamp(),
        caller_on_line=answered,
        status=QUEUE_STATUS[call.outcome], agent_id=staff[nth % len(staff)] if answered and staff else None,
        answered_at=queued + call.wait_seconds if answered else None,
        talk_seconds=call.talk_seconds, hold_seconds=call.hold_seconds,
    )  # fmt: skip


def _agents_by_skill(session: Session) -> dict[str, list[int]]:
    found: dict[str, list[int]] = {}
    for skill, agent_id in session.execute(
        select(AgentSkill.skill_code, AgentSkill.agent_id).order_by(AgentSkill.agent_id)
    ):
        found.setdefault(skill, []).append(agent_id)
    return found


def _wrapups(factory: sessionmaker[Session]) -> dict[str, float]:
    with factory() as session:
        return {
            code: float(s) for code, s in session.execute(select(Skill.code, Skill.wrapup_seconds))
        }


def _write_states(
    session: Session,
    agents: dict[str, list[int]],
    days_by_team: dict[str, list[date]],
    tz: ZoneInfo,
    until: datetime,
) -> None:
    """Each demo agent's working day as state changes: signed in ready, lunch, signed out
    (the hotline's agents on working days only)."""
    ids = sorted({a for staff in agents.values() for a in staff})
    found = session.execute(select(Agent.id, Agent.team).where(Agent.id.in_(ids)))
    teams = {agent_id: team for agent_id, team in found}
    rows = [
        row_from_event(
            {"agent_id": str(agent), "at": str(ms), "state": state, "reason": reason}, f"{ms}-0"
        )
        for agent in ids
        for day in days_by_team.get(teams.get(agent, ""), [])
        for ms, state, reason in _shift_events(teams[agent], day, tz, until)
    ]
    for row in rows:
        values = {
            c.name: getattr(row, c.name)
            for c in AgentStateChange.__table__.columns
            if c.name != "id"
        }
        session.execute(
            insert(AgentStateChange)
            .values(**values)
            .on_conflict_do_nothing(index_elements=["agent_id", "event_id"])
        )


def _shift_events(
    team: str, day: date, tz: ZoneInfo, until: datetime
) -> Iterator[tuple[int, str, str]]:
    shift = SHIFTS.get(team)
    if shift is None:
        return
    starts, lunch, back, ends = shift
    for at, state, reason in (
        (starts, "ready", ""),
        (lunch, "not_ready", NotReadyReason.MEAL.value),
        (back, "ready", ""),
        (ends, "logged_out", ""),
    ):
        moment = datetime.combine(day, at, tzinfo=tz)
        if moment <= until:
            yield int(moment.timestamp() * 1000), state, reason
