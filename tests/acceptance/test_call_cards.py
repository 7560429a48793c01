"""Calls no controller took still get one closed call record and one indexed recording
(issues 19 and 21): with no controller running, callers of 114 reach the fallback agent over
the real Asterisk; the cards Asterisk wrote at their hang-up are settled by the worker's
recording sweep — two sweeps at once, as two workers would — and again by a controller's
resync when one starts, without a second record."""

from __future__ import annotations

import asyncio
import time
import uuid
import wave
from array import array
from collections.abc import AsyncIterator
from datetime import date, timedelta

import pytest
from redis.asyncio import Redis
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from backend.models.calls import CallRecord, Disposition, Recording, RecordingStatus
from backend.personal_data import PersonalDataCipher
from backend.settings import Settings
from callcenter.worker.recording_tasks import sweep_recordings
from ivr.pbx.instance import AsteriskInstance
from ivr.pbx.simulated import carrier_channel, simulated_call
from recordings.call_cards import CARDS_DIR
from reports.periods import ReportFilter
from reports.recording_report import missing_recordings
from tests.asterisk_fixtures import wait_for_recording
from tests.call_safety_support import (
    FLOW_SKILLS,
    FaultStack,
    fault_stack,
    fault_stack_environment,
)
from tests.conftest import DID_114
from tests.desk_support import ensure_skill

pytestmark = pytest.mark.asterisk

TALK = 3  # seconds the fallback agent talks (music on hold is his voice)


@pytest.fixture(scope="module")
async def stack(
    asterisk: AsteriskInstance,  # the shared root is built
    settings: Settings,
    database_url: str,
    session_factory: sessionmaker[Session],
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[FaultStack]:
    for skill, line in FLOW_SKILLS.items():  # the controller refuses flows without them
        ensure_skill(session_factory, skill, line)
    state = tmp_path_factory.mktemp("cards")
    name = f"cards-{uuid.uuid4().hex[:6]}"
    env = fault_stack_environment(database_url, state, name, settings)
    redis = Redis.from_url(settings.redis_url, decode_responses=True)
    built = await fault_stack(env, state / "controller.log", session_factory, redis)
    await built.ami.db_put("simagent", "fallback/ring", "0.5")
    await built.ami.db_put("simagent", "fallback/talk", str(TALK))
    built.watch("UserEvent")
    try:
        yield built
    finally:
        built.stop_controller()
        built.ami.close()
        await asyncio.to_thread(built.asterisk.stop)
        async for key in redis.scan_iter(f"{name}*"):
            await redis.delete(key)
        await redis.aclose()


def records_of(factory: sessionmaker[Session], settings: Settings, number: str) -> list[CallRecord]:
    digest = PersonalDataCipher.of(settings).lookup_hash(number)
    with factory() as db:
        return list(db.scalars(select(CallRecord).where(CallRecord.caller_hash == digest)))


def cards_left(settings: Settings) -> list[str]:
    return sorted(p.name for p in (settings.effective_recordings_dir / CARDS_DIR).iterdir())


async def two_sweeps_at_once(factory: sessionmaker[Session], settings: Settings) -> None:
    """The worker's recording sweep, twice at the same moment: neither fails."""
    await asyncio.gather(
        asyncio.to_thread(sweep_recordings, factory, settings),
        asyncio.to_thread(sweep_recordings, factory, settings),
    )


async def test_calls_no_controller_took_get_one_closed_fallback_record_and_recording(
    stack: FaultStack, session_factory: sessionmaker[Session]
) -> None:
    assert stack.process is None  # no controller runs: FastAGI is refused
    numbers = [f"137{uuid.uuid4().int % 10**8:08d}" for _ in range(3)]
    for number in numbers:
        await simulated_call(
            stack.ami, carrier_channel(DID_114), caller_id=number, delay=1, hold=60
        )

    # Each reaches the fallback agent, who talks TALK s and hangs up; each call then has its
    # record, written from the card Asterisk left, by the worker's sweeps.
    deadline = time.monotonic() + 90
    while not all(records_of(session_factory, stack.settings, n) for n in numbers):
        assert time.monotonic() < deadline, f"no records; cards: {cards_left(stack.settings)}"
        await two_sweeps_at_once(session_factory, stack.settings)
        await asyncio.sleep(1)
    fallbacks = {
        e.get("CallerIDNum")
        for e in stack.seen(lambda e: e.get("UserEvent") == "CallFallback")
        if e.get("Reason") == "unreachable"
    }
    assert set(numbers) <= fallbacks

    # A controller starting now settles the same cards again through its resync: nothing
    # new is written, and more sweeps change nothing.
    stack.start_controller()
    await stack.serving()
    await two_sweeps_at_once(session_factory, stack.settings)
    await asyncio.sleep(6)  # a resync round (every 5 s) has run
    for number in numbers:
        (record,) = records_of(session_factory, stack.settings, number)  # exactly one
        assert record.disposition is Disposition.FALLBACK, number
        assert record.ended_at is not None and record.answered_at is not None
        assert TALK - 1 <= record.talk_seconds <= TALK + 2, record.talk_seconds
        assert record.line.value == "114" and record.caller_number.endswith(number[-4:])
        assert record.recording_id is not None
        await assert_recorded_whole(session_factory, stack.settings, record)
    with session_factory() as db:
        ids = [r.call_id for n in numbers for r in records_of(session_factory, stack.settings, n)]
        indexed = db.scalar(select(func.count()).where(Recording.call_id.in_(ids)))
        assert indexed == len(numbers)
        today = date.today()
        window = ReportFilter(today - timedelta(days=1), today + timedelta(days=1))
        lacking = {row[0] for row in missing_recordings(db, window)}
    assert lacking.isdisjoint(ids)


async def assert_recorded_whole(
    factory: sessionmaker[Session], settings: Settings, record: CallRecord
) -> None:
    """The call's recording is complete, from answer to hang-up, and holds its audio."""
    deadline = time.monotonic() + 30
    while True:
        with factory() as db:
            recording = db.get(Recording, record.recording_id)
        assert recording is not None
        if recording.status is RecordingStatus.COMPLETE:
            break
        assert time.monotonic() < deadline, f"recording {recording.path}: {recording.status}"
        await asyncio.to_thread(sweep_recordings, factory, settings)
        await asyncio.sleep(1)
    assert record.ended_at is not None
    lasted = (record.ended_at - record.started_at).total_seconds()
    assert abs(recording.duration_seconds - lasted) <= 2.5, (recording.duration_seconds, lasted)
    heard = await wait_for_recording(settings.effective_recordings_dir / recording.path, 10)
    with wave.open(str(heard)) as wav:
        samples = array("h", wav.readframes(wav.getnframes()))
    assert max(map(abs, samples)) > 1000  # the apology and the agent's voice, not silence
