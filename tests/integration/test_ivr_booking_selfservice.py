"""The 114 self-service booking check against the real booking service on PostgreSQL:
a caller keys the ID number and booking code, hears the booking, and can cancel it."""

from __future__ import annotations

import random
import uuid
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.orm import Session, sessionmaker

from backend import idcard
from backend.booking.context import BookingContext
from backend.booking.demo_data import create_hospital, session_push
from backend.booking.hospital_feed import push_schedules
from backend.booking.reservations import BookRequest
from backend.booking.rules import BookingRules, Channel, SessionOfDay
from backend.booking.service import BookingService
from backend.booking.views import BookingReceipt
from backend.db import transaction
from backend.personal_data import PersonalDataCipher
from backend.settings import Settings
from backend.workcalendar import WorkCalendar
from ivr.flows.booking_adapter import ServiceBookingLookup
from ivr.flows.call import call_info
from ivr.flows.engine import FlowEngine, FlowPorts
from ivr.flows.loader import load_flows
from ivr.flows.ports import IvrExit
from tests.ivr_scripted_call import (
    LabelRenderer,
    MemoryJournal,
    MemoryMessages,
    RecordingQueue,
    ScriptedChannel,
    SteppingClock,
)

NOW = datetime(2026, 12, 1, 1, 0, tzinfo=UTC)  # Tuesday 09:00 in Beijing
VISIT = date(2026, 12, 3)


@pytest.fixture()
def booked(
    settings: Settings, session_factory: sessionmaker[Session]
) -> tuple[BookingService, str, BookingReceipt]:
    ctx = BookingContext(
        cipher=PersonalDataCipher(settings.data_key.get_secret_value()),
        rules=BookingRules(),
        calendar=WorkCalendar.load(),
        clock=lambda: NOW,
        rng=random.Random(3),
    )
    push = session_push("IVR-1", ("A", "内科"), VISIT, SessionOfDay.MORNING, 4)
    with transaction(session_factory) as session:
        hospital = create_hospital(
            session,
            ctx.cipher,
            code="i" + uuid.uuid4().hex[:8],
            name="北京协和医院",
            api_secret="s",
        )
        schedule_id = push_schedules(session, ctx, hospital.id, [push]).schedule_ids["IVR-1"]
    service = BookingService(session_factory, ctx)
    number = idcard.make_valid(f"1101051960010{uuid.uuid4().int % 10**4:04d}")
    service.register_patient(
        id_number=number,
        name="李四",
        phone=f"139{uuid.uuid4().int % 10**8:08d}",
        actor="agent:8001",
    )
    receipt = service.book(BookRequest(schedule_id, Channel.PHONE, "agent:8001", id_number=number))
    return service, number, receipt


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
            clock=SteppingClock(NOW.astimezone(ZoneInfo("Asia/Shanghai"))),
            messages=MemoryMessages(tmp_path),
            bookings=ServiceBookingLookup(service),
        ),
    )
    channel = ScriptedChannel(actions)  # type: ignore[arg-type]
    await engine.run(channel, await call_info(channel, "114"))
    return channel, journal


async def test_caller_hears_the_booking_found_by_id_number_and_code(booked, tmp_path) -> None:
    service, number, receipt = booked
    channel, journal = await _call(service, ["2", number, receipt.code, "3"], tmp_path)
    read_out = [s.removeprefix("tts:") for s in channel.played if s.startswith("tts:")]
    assert len(read_out) == 1
    assert "北京协和医院内科" in read_out[0] and "12月3日" in read_out[0]
    assert "已预约" in read_out[0]
    assert journal.left[0].exit is IvrExit.SELF_SERVICE


async def test_caller_cancels_the_booking_in_self_service(booked, tmp_path) -> None:
    service, number, receipt = booked
    channel, _ = await _call(service, ["2", number, receipt.code, "1"], tmp_path)
    assert "114/booking_cancelled" in channel.played
    assert service.find_booking(number, receipt.code).status == "cancelled"


async def test_a_wrong_code_is_not_found(booked, tmp_path) -> None:
    service, number, _ = booked
    channel, _ = await _call(service, ["2", number, "99999999"], tmp_path)
    assert "114/booking_not_found" in channel.played
