"""The monthly confirmation sheet from a known data set, and the demo data seeding."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session, sessionmaker

from backend.booking.context import BookingContext
from backend.booking.demo_data import create_hospital, seed_booking_demo, session_push
from backend.booking.hospital_feed import push_schedules
from backend.booking.rules import BookingRules, Channel, SessionOfDay
from backend.booking.service import BookingService
from backend.db import make_engine, make_session_factory, transaction
from backend.models.booking import Booking, Hospital, Patient, Slot
from backend.personal_data import PersonalDataCipher
from backend.settings import Settings, load_settings
from tests.conftest import migrated_database

TZ = BookingRules().tz

# (booked at, Beijing time; channel; status) — a month no other test books in.
DATA = [
    (datetime(2031, 3, 1, 0, 10), "online", "booked"),  # 2031-02-28 in UTC: still March
    (datetime(2031, 3, 10, 9, 0), "online", "attended"),
    (datetime(2031, 3, 15, 9, 0), "online", "no_show"),
    (datetime(2031, 3, 20, 9, 0), "phone", "booked"),
    (datetime(2031, 3, 31, 23, 30), "ivr", "booked"),
    (datetime(2031, 3, 12, 9, 0), "phone", "cancelled"),  # succeeded, cancelled later: counts
    (datetime(2031, 2, 28, 23, 59), "online", "booked"),  # February
    (datetime(2031, 4, 1, 0, 0), "phone", "booked"),  # April in Beijing, March in UTC
]


def test_confirmation_sheet_counts_and_prices_a_known_month(
    settings: Settings, session_factory: sessionmaker[Session]
) -> None:
    cipher = PersonalDataCipher(settings.data_key.get_secret_value())
    # The month's session, pushed by its hospital while it was still ahead.
    ctx = BookingContext(cipher=cipher, clock=lambda: datetime(2031, 2, 1, tzinfo=TZ))
    with transaction(session_factory) as session:
        hospital = create_hospital(
            session, cipher, code="s" + uuid.uuid4().hex[:8], name="测试医院"
        )
        push = session_push("M-1", ("NK", "内科"), date(2031, 4, 2), SessionOfDay.MORNING, 10)
        schedule_id = push_schedules(session, ctx, hospital.id, [push]).schedule_ids["M-1"]
        patient = Patient(
            id_hash=uuid.uuid4().hex,
            id_enc=cipher.encrypt("x"),
            name_enc=cipher.encrypt("x"),
            phone_hash=uuid.uuid4().hex,
            phone_enc=cipher.encrypt("x"),
        )
        session.add(patient)
        session.flush()
        slots = session.execute(
            select(Slot.id).where(Slot.schedule_id == schedule_id).order_by(Slot.seq)
        ).scalars()
        dept_id = session.execute(
            text("SELECT department_id FROM schedules WHERE id = :s"), {"s": schedule_id}
        ).scalar_one()
        for (booked, channel, status), slot_id in zip(DATA, slots, strict=False):
            session.add(
                Booking(
                    code=uuid.uuid4().hex[:16],
                    slot_id=slot_id,
                    schedule_id=schedule_id,
                    hospital_id=hospital.id,
                    department_id=dept_id,
                    patient_id=patient.id,
                    visit_day=date(2031, 4, 2),
                    status=status,
                    channel=channel,
                    actor="test",
                    booked_at=booked.replace(tzinfo=TZ),
                )
            )
    sheet = BookingService(session_factory, ctx).monthly_confirmation_sheet(2031, 3)
    assert (sheet.total, sheet.online, sheet.phone) == (6, 3, 3)
    assert Decimal(sheet.amount_online) == Decimal("1.38")  # 3 × 0.46
    assert Decimal(sheet.amount_phone) == Decimal("11.82")  # 3 × 3.94
    assert Decimal(sheet.amount_total) == Decimal("13.20")
    april = BookingService(session_factory, ctx).monthly_confirmation_sheet(2031, 4)
    assert (april.total, april.phone) == (1, 1)


@pytest.fixture()
def fresh_factory() -> Iterator[sessionmaker[Session]]:
    """A database of its own: the demo seeds only where no hospital exists yet."""
    with migrated_database("cc_test_demo_" + uuid.uuid4().hex[:8]) as url:
        engine = make_engine(load_settings(database_url=url), pool_size=2, max_overflow=0)
        yield make_session_factory(engine)
        engine.dispose()


def test_demo_data_seeds_a_bookable_week_once(
    settings: Settings, fresh_factory: sessionmaker[Session]
) -> None:
    cipher = PersonalDataCipher(settings.data_key.get_secret_value())
    today = datetime.now(TZ).date()
    with transaction(fresh_factory) as session:
        created = seed_booking_demo(session, cipher, today)
    with transaction(fresh_factory) as session:
        assert seed_booking_demo(session, cipher, today) == 0
    assert created == 4 * 2 * 8 * 2  # hospitals × departments × days × sessions
    service = BookingService(fresh_factory, BookingContext(cipher=cipher))
    names = [h.name for h in service.search_hospitals()]
    assert "北京协和医院" in names and "首都医科大学附属北京朝阳医院" in names
    assert [h.level for h in service.search_hospitals(district="大兴区")] == ["二级"]
    tomorrow = service.list_schedules(channel=Channel.PHONE, day_from=today + timedelta(days=1))
    assert tomorrow and all(s.available == 10 for s in tomorrow)
    with fresh_factory() as session:
        keys = session.execute(select(Hospital.api_key_id)).scalars().all()
    assert "hosp-pumch" in keys
