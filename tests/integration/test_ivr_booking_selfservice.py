"""The 114 self-service booking check against the real booking service on PostgreSQL:
a caller keys the ID number and booking code, hears the booking, and can cancel it."""

from __future__ import annotations

from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.orm import Session, sessionmaker

from backend.booking.service import BookingService
from backend.flows.loader import load_flows
from backend.settings import Settings
from backend.workcalendar import WorkCalendar
from ivr.flows.booking_adapter import ServiceBookingLookup
from ivr.flows.call import call_info
from ivr.flows.engine import FlowEngine, FlowPorts
from ivr.flows.ports import IvrExit
from tests.ivr_bookings import BOOKING_NOW, BookedCase, book_one
from tests.ivr_scripted_call import (
    LabelRenderer,
    MemoryJournal,
    MemoryMessages,
    RecordingQueue,
    ScriptedChannel,
    SteppingClock,
)


@pytest.fixture()
def booked(settings: Settings, session_factory: sessionmaker[Session]) -> BookedCase:
    return book_one(settings, session_factory)


async def _call(
    service: BookingService, actions: list[object], tmp_path: Path
) -> tuple[ScriptedChannel, MemoryJournal]:
    flow = load_flows(names=("114",))["114"]
    journal = MemoryJournal()
    engine = FlowEngine(
        flow,
        FlowPorts(
            renderer=LabelRenderer(),
            queue=RecordingQueue(),
            journal=journal,
            calendar=WorkCalendar.load(),
            clock=SteppingClock(BOOKING_NOW.astimezone(ZoneInfo("Asia/Shanghai"))),
            messages=MemoryMessages(tmp_path),
            bookings=ServiceBookingLookup(service),
        ),
    )
    channel = ScriptedChannel(actions)  # type: ignore[arg-type]
    await engine.run(channel, await call_info(channel, "114"))
    return channel, journal


async def test_caller_hears_the_booking_found_by_id_number_and_code(
    booked: BookedCase, tmp_path: Path
) -> None:
    actions = ["2", booked.id_number, booked.receipt.code, "3"]
    channel, journal = await _call(booked.service, actions, tmp_path)
    read_out = [s.removeprefix("tts:") for s in channel.played if s.startswith("tts:")]
    assert read_out == [booked.receipt.speech()]
    assert "北京协和医院内科" in read_out[0] and "12月3日" in read_out[0]
    assert "已预约" in read_out[0]
    assert journal.left[0].exit is IvrExit.SELF_SERVICE


async def test_caller_cancels_the_booking_in_self_service(
    booked: BookedCase, tmp_path: Path
) -> None:
    actions = ["2", booked.id_number, booked.receipt.code, "1"]
    channel, _ = await _call(booked.service, actions, tmp_path)
    assert "114/booking_cancelled" in channel.played
    status = booked.service.find_booking(booked.id_number, booked.receipt.code).status
    assert status == "cancelled"


async def test_a_wrong_code_is_not_found(booked: BookedCase, tmp_path: Path) -> None:
    channel, _ = await _call(booked.service, ["2", booked.id_number, "9999999999"], tmp_path)
    assert "114/booking_not_found" in channel.played
