"""What the database knows about a caller changes the 114 flow: elderly, repeat, blacklisted."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from backend import idcard
from backend.booking.context import BookingContext
from backend.booking.service import BookingService
from backend.personal_data import PersonalDataCipher
from backend.settings import Settings
from backend.workcalendar import WorkCalendar
from ivr.flows.call import call_info
from ivr.flows.caller_adapter import SqlCallerDirectory
from ivr.flows.engine import FlowEngine, FlowPorts
from ivr.flows.loader import load_flows
from ivr.journal import SqlCallJournal
from tests.ivr_scripted_call import (
    LabelRenderer,
    MemoryBookings,
    MemoryMessages,
    RecordingQueue,
    ScriptedChannel,
    SteppingClock,
)

NOW = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)
NUISANCE = "13500000000"


def new_phone() -> str:
    return f"137{uuid.uuid4().int % 10**8:08d}"


@pytest.fixture()
def directory(settings: Settings, session_factory: sessionmaker[Session]) -> SqlCallerDirectory:
    cipher = PersonalDataCipher(settings.data_key.get_secret_value())
    return SqlCallerDirectory(session_factory, cipher, blacklist=[NUISANCE], clock=lambda: NOW)


def register(settings: Settings, session_factory: sessionmaker[Session], born: str) -> str:
    """A patient born on ``born`` (YYYYMMDD) registered with a new phone; returns the phone."""
    service = BookingService(session_factory, BookingContext.from_settings(settings))
    phone = new_phone()
    number = idcard.make_valid(f"110105{born}{uuid.uuid4().int % 1000:03d}")
    service.register_patient(id_number=number, name="王五", phone=phone, actor="agent:8001")
    return phone


async def _press_1(
    session_factory: sessionmaker[Session],
    directory: SqlCallerDirectory,
    tmp_path: Path,
    caller: str,
) -> RecordingQueue:
    queue = RecordingQueue()
    engine = FlowEngine(
        load_flows(names=("114",))["114"],
        FlowPorts(
            renderer=LabelRenderer(),
            queue=queue,
            journal=SqlCallJournal(session_factory),
            calendar=WorkCalendar.load(),
            clock=SteppingClock(NOW),
            callers=directory,
            messages=MemoryMessages(tmp_path),
            bookings=MemoryBookings(),
        ),
    )
    call_id = f"{uuid.uuid4().int % 10**10}.9"
    channel = ScriptedChannel(
        ["1"], env={"uniqueid": call_id, "linkedid": call_id, "callerid": caller}
    )
    await engine.run(channel, await call_info(channel, "114"))
    return queue


async def test_a_registered_patient_aged_65_gets_elderly_priority_without_pressing_9(
    settings, session_factory, directory, tmp_path
) -> None:
    phone = register(settings, session_factory, "19550101")  # 71 in November 2026
    queue = await _press_1(session_factory, directory, tmp_path, phone)
    assert queue.handoffs == [("booking", 10)]


async def test_a_patient_under_65_is_an_ordinary_caller(
    settings, session_factory, directory, tmp_path
) -> None:
    phone = register(settings, session_factory, "19611126")  # 65 only tomorrow
    queue = await _press_1(session_factory, directory, tmp_path, phone)
    assert queue.handoffs == [("booking", 0)]


async def test_a_second_call_within_a_day_is_a_repeat_caller(
    session_factory, directory, tmp_path
) -> None:
    phone = new_phone()
    first = await _press_1(session_factory, directory, tmp_path, phone)
    second = await _press_1(session_factory, directory, tmp_path, phone)
    assert first.handoffs == [("booking", 0)]
    assert second.handoffs == [("booking", 2)]


async def test_a_blacklisted_number_never_reaches_a_queue(
    session_factory, directory, tmp_path
) -> None:
    queue = await _press_1(session_factory, directory, tmp_path, NUISANCE)
    assert queue.handoffs == []
