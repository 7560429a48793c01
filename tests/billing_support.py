"""A month of bookings made through the booking service, for the confirmation-sheet tests:
online, phone and IVR bookings on several days, one of them cancelled later."""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal

from sqlalchemy.orm import Session, sessionmaker

from backend import idcard
from backend.booking.context import BookingContext
from backend.booking.demo_data import create_hospital, session_push
from backend.booking.hospital_feed import push_schedules
from backend.booking.reservations import BookRequest, CancelRequest
from backend.booking.rules import BookingRules, Channel, SessionOfDay
from backend.booking.service import BookingService
from backend.db import transaction
from backend.personal_data import PersonalDataCipher
from backend.settings import Settings
from backend.workcalendar import WorkCalendar

TZ = BookingRules().tz
PHONE_CHANNELS = (Channel.PHONE, Channel.IVR)


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@dataclass
class SeededMonth:
    year: int
    month: int
    # Per local booking day: (online, phone incl. IVR) bookings made that day.
    by_day: dict[date, tuple[int, int]] = field(default_factory=dict)

    @property
    def online(self) -> int:
        return sum(o for o, _ in self.by_day.values())

    @property
    def phone(self) -> int:
        return sum(p for _, p in self.by_day.values())

    def amounts(self, rules: BookingRules) -> tuple[Decimal, Decimal, Decimal]:
        online = rules.price_online * self.online
        phone = rules.price_phone * self.phone
        return online, phone, online + phone


def _id_number() -> str:
    year = 1950 + uuid.uuid4().int % 50
    return idcard.make_valid(f"110105{year}0101{uuid.uuid4().int % 10**3:03d}")


def seed_month(
    settings: Settings,
    factory: sessionmaker[Session],
    year: int,
    month: int,
    plan: dict[int, tuple[int, int]],
    *,
    cancel_first: bool = True,
) -> SeededMonth:
    """Book ``plan[day] = (online, phone)`` on each day of the month at 10:00 Beijing time,
    a new patient per booking, each phone booking of a day alternating agent and IVR; the
    first phone booking of the month is cancelled right after (it still counts) unless not
    ``cancel_first`` (a day whose visits' cancel deadline has passed, as in a holiday)."""
    clock = Clock(datetime(year, month, 1, 10, tzinfo=TZ) - timedelta(days=20))
    ctx = BookingContext(
        cipher=PersonalDataCipher(settings.data_key.get_secret_value()),
        rules=BookingRules(),
        calendar=WorkCalendar.load(),
        clock=clock,
        rng=random.Random(3),
    )
    service = BookingService(factory, ctx)
    pushes = [
        session_push(f"S-{day}", ("NK", "内科"), date(year, month, day) + timedelta(days=2),
                     SessionOfDay.MORNING, 2 * (online + phone), online_share=0.5)
        for day, (online, phone) in plan.items()
    ]  # fmt: skip
    with transaction(factory) as session:
        hospital = create_hospital(
            session, ctx.cipher, code="b" + uuid.uuid4().hex[:8], name="计费测试医院"
        )
        sessions = push_schedules(session, ctx, hospital.id, pushes).schedule_ids
    seeded = SeededMonth(year, month)
    cancelled = not cancel_first
    for day, (online, phone) in plan.items():
        clock.now = datetime(year, month, day, 10, tzinfo=TZ)
        channels = [Channel.ONLINE] * online + [PHONE_CHANNELS[i % 2] for i in range(phone)]
        for channel in channels:
            number = _id_number()
            service.register_patient(id_number=number, name="李四", phone=_phone(), actor="t")
            request = BookRequest(sessions[f"S-{day}"], channel, "agent:8001", id_number=number)
            receipt = service.book(request)
            if channel is not Channel.ONLINE and not cancelled:
                cancel = CancelRequest(receipt.code, Channel.PHONE, "agent:8001", id_number=number)
                cancelled = service.cancel(cancel).status == "cancelled"
        seeded.by_day[date(year, month, day)] = (online, phone)
    assert cancelled
    return seeded


def _phone() -> str:
    return f"139{uuid.uuid4().int % 10**8:08d}"
