"""The desk's booking for a caller under retries: one ``Idempotency-Key`` per attempt books at
most once, and register-then-book is one transaction (a refusal leaves no patient behind)."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from backend import idcard
from backend.booking.context import BookingContext
from backend.booking.demo_data import create_hospital, session_push
from backend.booking.hospital_feed import push_schedules
from backend.booking.rules import SessionOfDay
from backend.db import transaction
from backend.models.booking import Booking, Patient
from backend.models.users import Role
from backend.personal_data import PersonalDataCipher
from backend.settings import Settings
from tests.desk_support import login, make_user

BOOK = "/api/desk/booking/bookings"


def new_caller() -> dict[str, str]:
    r = uuid.uuid4().int
    birth = date(1950, 1, 1) + timedelta(days=r % 18000)
    number = idcard.make_valid(f"110108{birth:%Y%m%d}{r // 18000 % 1000:03d}")
    return {"id_number": number, "name": "张三", "phone": f"139{r % 10**8:08d}"}


def seed_schedule(factory: sessionmaker[Session], settings: Settings) -> int:
    """A hospital's session two days ahead, pushed as the hospital pushes it."""
    code = "r" + uuid.uuid4().hex[:8]
    cipher = PersonalDataCipher(settings.data_key.get_secret_value())
    push = session_push(f"{code}-1", ("nk", "内科"), date.today() + timedelta(days=2),
                        SessionOfDay.MORNING, 6)  # fmt: skip
    with transaction(factory) as db:
        hospital = create_hospital(db, cipher, code=code, name=f"重试医院{code}")
        pushed = push_schedules(db, BookingContext(cipher=cipher), hospital.id, [push])
    return pushed.schedule_ids[f"{code}-1"]


@pytest.fixture()
def agent(desk_client: TestClient, session_factory: sessionmaker[Session]) -> TestClient:
    login(desk_client, make_user(session_factory, Role.AGENT))
    return desk_client


def bookings_of(factory: sessionmaker[Session], settings: Settings, number: str) -> int:
    cipher = PersonalDataCipher(settings.data_key.get_secret_value())
    with factory() as db:
        return db.execute(
            select(func.count())
            .select_from(Booking)
            .join(Patient, Patient.id == Booking.patient_id)
            .where(Patient.id_hash == cipher.lookup_hash(number))
        ).scalar_one()


def test_a_retry_with_the_attempts_key_gets_the_first_booking_back(
    agent: TestClient, session_factory: sessionmaker[Session], desk_app_settings: Settings
) -> None:
    schedule_id = seed_schedule(session_factory, desk_app_settings)
    body = {"schedule_id": schedule_id, **new_caller()}
    key = {"Idempotency-Key": uuid.uuid4().hex}
    first = agent.post(BOOK, json=body, headers=key)
    assert first.status_code == 201, first.text
    again = agent.post(BOOK, json=body, headers=key)
    assert (again.status_code, again.json()) == (201, first.json())
    assert bookings_of(session_factory, desk_app_settings, body["id_number"]) == 1
    # The same key for another caller is a client's mistake, said so; nothing is booked.
    other = agent.post(BOOK, json={**body, **new_caller()}, headers=key)
    assert (other.status_code, other.json()["error"]) == (422, "idempotency-key-reused")


def test_a_refused_booking_leaves_no_patient_half_registered(
    agent: TestClient, session_factory: sessionmaker[Session], desk_app_settings: Settings
) -> None:
    schedule_id = seed_schedule(session_factory, desk_app_settings)
    taken = agent.post(BOOK, json={"schedule_id": schedule_id, **new_caller()})
    assert taken.status_code == 201, taken.text
    slot = agent.get(f"/api/desk/booking/schedules/{schedule_id}/slots").json()
    taken_slot = next(s["id"] for s in slot if not s["available"])
    caller = new_caller()
    refused = agent.post(
        BOOK,
        json={"schedule_id": schedule_id, "slot_id": taken_slot, **caller},
        headers={"Idempotency-Key": uuid.uuid4().hex},
    )
    assert refused.status_code in (409, 422), refused.text
    cipher = PersonalDataCipher(desk_app_settings.data_key.get_secret_value())
    with session_factory() as db:
        registered = db.execute(
            select(Patient.id).where(Patient.id_hash == cipher.lookup_hash(caller["id_number"]))
        ).first()
    assert registered is None  # registration and booking were one transaction
