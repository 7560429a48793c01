"""The wired controller on the real Asterisk: call records and recordings of real calls."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from backend.models.calls import CallRecord, Disposition, Recording, RecordingStatus
from backend.personal_data import PersonalDataCipher
from backend.settings import Settings
from ivr.main import Controller, build_controller
from tests.asterisk_fixtures import DID_114, AgiRoutes, SimulatedCaller
from tests.controller_support import DialplanFallbackQueue

pytestmark = pytest.mark.asterisk


@pytest.fixture(scope="module")
def controller(settings: Settings, session_factory: sessionmaker[Session]) -> Controller:
    return build_controller(settings, session_factory, DialplanFallbackQueue())


async def wait_for_record(
    session_factory: sessionmaker[Session],
    caller_hash: str,
    predicate,
    timeout: float = 30,  # type: ignore[no-untyped-def]
) -> CallRecord:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while loop.time() < deadline:
        with session_factory() as session:
            record = session.scalar(
                select(CallRecord)
                .where(CallRecord.caller_hash == caller_hash)
                .order_by(CallRecord.id.desc())
            )
            if record is not None and predicate(record):
                return record
        await asyncio.sleep(0.3)
    raise AssertionError("the call record did not reach the expected state")


async def test_caller_hanging_up_in_the_menu_leaves_a_protected_record_and_a_recording(
    controller: Controller,
    agi_routes: AgiRoutes,
    simulated_caller: SimulatedCaller,
    settings: Settings,
    session_factory: sessionmaker[Session],
) -> None:
    agi_routes.set("114", controller.handler("114"))
    cipher = PersonalDataCipher(settings.data_key.get_secret_value())
    number = "13700000005"
    await simulated_caller.call(DID_114, caller_id=number, hold=5)
    record = await wait_for_record(
        session_factory,
        cipher.lookup_hash(number),
        lambda r: r.ended_at is not None and r.disposition != Disposition.IN_PROGRESS,
    )
    assert record.disposition == Disposition.ABANDONED_IVR
    assert record.line == "114"
    assert record.caller_number == "137****0005"
    assert cipher.decrypt(record.caller_enc) == number
    assert record.recording_id is not None

    recording_done = lambda r: r.status == RecordingStatus.COMPLETE  # noqa: E731
    for _ in range(50):
        with session_factory() as session:
            recording = session.get(Recording, record.recording_id)
        assert recording is not None
        if recording_done(recording):
            break
        await asyncio.sleep(0.2)
    assert recording.status == RecordingStatus.COMPLETE
    # The caller stayed on the line about 6 s (1 s before the menu, 5 s in it).
    assert 4.0 <= recording.duration_seconds <= 8.0
    assert len(recording.sha256) == 64
