"""A real booking in the booking service, for the IVR's self-service tests."""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime

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

# The booking service's clock: Tuesday 1 December 2026, 09:00 in Beijing; visit on Thursday.
BOOKING_NOW = datetime(2026, 12, 1, 1, 0, tzinfo=UTC)
VISIT = date(2026, 12, 3)


@dataclass(frozen=True)
class BookedCase:
    service: BookingService
    id_number: str
    receipt: BookingReceipt


def book_one(settings: Settings, session_factory: sessionmaker[Session]) -> BookedCase:
    ctx = BookingContext(
        cipher=PersonalDataCipher(settings.data_key.get_secret_value()),
        rules=BookingRules(),
        calendar=WorkCalendar.load(),
        clock=lambda: BOOKING_NOW,
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
    r = uuid.uuid4().int
    birth = f"{1950 + r % 50}{1 + r // 50 % 12:02d}{1 + r // 600 % 28:02d}"
    number = _ending_in_x(f"110105{birth}", r // 16800)
    service.register_patient(
        id_number=number,
        name="李四",
        phone=f"139{uuid.uuid4().int % 10**8:08d}",
        actor="agent:8001",
    )
    receipt = service.book(BookRequest(schedule_id, Channel.PHONE, "agent:8001", id_number=number))
    return BookedCase(service, number, receipt)


def _ending_in_x(area_and_birth: str, start: int) -> str:
    """An ID number whose check character is X: the caller keys it as '*', the case a phone
    keypad makes hardest. The serial is the first from ``start`` that gives X."""
    for step in range(1000):
        first17 = f"{area_and_birth}{(start + step) % 1000:03d}"
        if idcard.check_char(first17) == "X":
            return first17 + "X"
    raise AssertionError(f"no serial gives X after {area_and_birth}")
