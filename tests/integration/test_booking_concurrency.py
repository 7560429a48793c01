"""500 clients race for the 100 slots of one session on real PostgreSQL: exactly 100 win,
400 hear that the session is full, and no slot is ever booked twice. Once through the service
on threads (desk, IVR, phone), once through the online API's async pool."""

from __future__ import annotations

import asyncio
import threading
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import partial

import pytest
from sqlalchemy import Engine, func, insert, select
from sqlalchemy.orm import Session, sessionmaker

from agent_desk.aio import AsyncpgPool
from agent_desk.performance.fair_pool import FairPool
from backend import idcard
from backend.booking.context import BookingContext
from backend.booking.demo_data import create_hospital, session_push
from backend.booking.errors import BookingRefused
from backend.booking.hospital_feed import push_schedules
from backend.booking.online import OnlineBooking
from backend.booking.patients import open_account
from backend.booking.reservations import BookRequest, online_request
from backend.booking.rules import BookingRules, Channel, SessionOfDay
from backend.booking.service import BookingService
from backend.db import libpq_url, make_engine, make_session_factory, transaction
from backend.models.booking import AccountPatient, Booking, Patient, Slot
from backend.personal_data import PersonalDataCipher
from backend.settings import Settings
from backend.workcalendar import WorkCalendar

CLIENTS = 500
SLOTS = 100
NOW = datetime(2027, 1, 5, 2, 0, tzinfo=UTC)  # Tuesday 10:00 in Beijing
VISIT = date(2027, 1, 7)


@pytest.fixture()
def wide_engine(settings: Settings) -> Iterator[Engine]:
    # Many more clients than connections: they queue for the pool as real web workers would.
    engine = make_engine(settings, pool_size=20, max_overflow=20)
    engine.pool._timeout = 120  # type: ignore[attr-defined]
    yield engine
    engine.dispose()


@dataclass
class Race:
    factory: sessionmaker[Session]
    ctx: BookingContext
    schedule_id: int
    numbers: list[str]  # the clients' ID numbers
    patient_ids: list[int]


@pytest.fixture()
def race(settings: Settings, wide_engine: Engine) -> Race:
    """One session of 100 slots open to every channel, and 500 registered patients."""
    factory: sessionmaker[Session] = make_session_factory(wide_engine)
    cipher = PersonalDataCipher(settings.data_key.get_secret_value())
    ctx = BookingContext(
        cipher=cipher, rules=BookingRules(), calendar=WorkCalendar.load(), clock=lambda: NOW
    )
    run = uuid.uuid4().hex[:6]
    # Both tests of this file use the fixture in one database, where an ID number is unique:
    # a random run of birth dates and a random serial make meeting the other's numbers a
    # one in about 20,000 chance.
    first_birth = date(1940, 1, 1) + timedelta(days=uuid.uuid4().int % 20000)
    births = [first_birth + timedelta(days=i) for i in range(CLIENTS)]
    seq = int(run, 16) % 1000
    numbers = [idcard.make_valid(f"330106{b:%Y%m%d}{seq:03d}") for b in births]
    assert len(set(numbers)) == CLIENTS
    with transaction(factory) as session:
        hospital = create_hospital(
            session, cipher, code="race" + run, name="首都医科大学附属北京朝阳医院"
        )
        push = session_push(
            "R-1", ("HX", "呼吸科"), VISIT, SessionOfDay.MORNING, SLOTS, online_share=0
        )
        schedule_id = push_schedules(session, ctx, hospital.id, [push]).schedule_ids["R-1"]
        session.execute(
            Slot.__table__.update().where(Slot.schedule_id == schedule_id).values(channel="any")
        )
        patients = [
            Patient(
                id_hash=cipher.lookup_hash(number),
                id_enc=cipher.encrypt(number),
                name_enc=cipher.encrypt("测试"),
                phone_hash=cipher.lookup_hash(f"race{run}{i}"),
                phone_enc=cipher.encrypt("13800000000"),
            )
            for i, number in enumerate(numbers)
        ]
        session.add_all(patients)
        session.flush()
        patient_ids = [p.id for p in patients]
    return Race(factory, ctx, schedule_id, numbers, patient_ids)


def assert_exactly_one_booking_per_slot(race: Race, outcomes: list[str]) -> None:
    kinds = Counter(o.split(":")[0] for o in outcomes)
    assert kinds == {"booked": SLOTS, "session-full": CLIENTS - SLOTS}
    seqs = sorted(int(o.split(":")[1]) for o in outcomes if o.startswith("booked"))
    assert seqs == list(range(1, SLOTS + 1))  # every slot once, none twice
    with race.factory() as session:
        live = session.execute(
            select(func.count(func.distinct(Booking.slot_id))).where(
                Booking.schedule_id == race.schedule_id, Booking.status == "booked"
            )
        ).scalar_one()
        taken = session.execute(
            select(func.count()).where(Slot.schedule_id == race.schedule_id, Slot.taken.is_(True))
        ).scalar_one()
    assert live == SLOTS and taken == SLOTS


def test_five_hundred_clients_never_overbook_one_hundred_slots(race: Race) -> None:
    schedule_id = race.schedule_id
    service = BookingService(race.factory, race.ctx)
    start = threading.Barrier(CLIENTS)
    outcomes: list[str] = []
    lock = threading.Lock()

    def client(number: str, channel: Channel) -> None:
        start.wait()
        try:
            receipt = service.book(
                BookRequest(schedule_id, channel, f"race:{number[-4:]}", id_number=number)
            )
            outcome = f"booked:{receipt.slot_seq}"
        except BookingRefused as exc:
            outcome = exc.code
        with lock:
            outcomes.append(outcome)

    channels = (Channel.PHONE, Channel.IVR, Channel.ONLINE)
    threads = [
        threading.Thread(target=client, args=(n, channels[i % 3]))
        for i, n in enumerate(race.numbers)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads)

    assert_exactly_one_booking_per_slot(race, outcomes)


@pytest.mark.parametrize("fast_path", [True, False], ids=["fair pool", "asyncpg pool"])
async def test_five_hundred_online_clients_on_the_async_pool_never_overbook(
    fast_path: bool, race: Race, settings: Settings
) -> None:
    """The online API's path (an asyncpg connection pool, no threads) under the same race, on
    either pool the web app may use (``CC_DESK_FAST_PATH``)."""
    with transaction(race.factory) as session:
        account_id, token = open_account(session, race.ctx, "13900000000")
        session.execute(
            insert(AccountPatient),
            [{"account_id": account_id, "patient_id": p} for p in race.patient_ids],
        )
    dsn = libpq_url(settings.database_url)
    pool = FairPool(dsn, size=20, idle_seconds=60) if fast_path else AsyncpgPool(dsn, size=20)
    try:
        online = OnlineBooking(pool, race.ctx)
        go = asyncio.Event()

        async def client(patient_id: int) -> str:
            await go.wait()
            request_for = partial(
                online_request, patient_id=patient_id, schedule_id=race.schedule_id
            )
            try:
                receipt = await online.book(token, request_for)
            except BookingRefused as exc:
                return exc.code
            return f"booked:{receipt.slot_seq}"

        tasks = [asyncio.create_task(client(p)) for p in race.patient_ids]
        go.set()
        outcomes = await asyncio.gather(*tasks)
    finally:
        await pool.close()
    assert_exactly_one_booking_per_slot(race, list(outcomes))
