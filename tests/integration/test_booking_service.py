"""The booking service on real PostgreSQL: booking, refusals that need the database,
cancelling with delayed re-release, idempotent retries, the blacklist fed by hospitals."""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker

from backend import idcard
from backend.booking import reservations
from backend.booking.context import BookingContext
from backend.booking.demo_data import create_hospital, session_push
from backend.booking.errors import (
    BookingNotFound,
    BookingRefused,
    IdempotencyConflict,
    IdempotencyKeyReused,
)
from backend.booking.hospital_feed import bookings_since, push_schedules, report_attendance
from backend.booking.idempotency import request_hash
from backend.booking.reservations import BookRequest, CancelRequest
from backend.booking.rules import BookingRules, Channel, SessionOfDay
from backend.booking.service import BookingService
from backend.booking.views import BookingReceipt
from backend.db import transaction
from backend.idcard import InvalidIdNumber
from backend.models.audit import AuditRecord
from backend.models.booking import Booking, Hospital, IdempotencyKey, Patient, Slot
from backend.personal_data import PersonalDataCipher
from backend.settings import Settings
from backend.workcalendar import WorkCalendar

# Tuesday 1 December 2026, 09:00 in Beijing.
START = datetime(2026, 12, 1, 1, 0, tzinfo=UTC)
VISIT = date(2026, 12, 3)  # Thursday


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def new_id_number() -> str:
    digits = f"{uuid.uuid4().int % 10**3:03d}"
    year = 1950 + uuid.uuid4().int % 50
    return idcard.make_valid(f"110105{year}0101{digits}")


def new_phone() -> str:
    return f"139{uuid.uuid4().int % 10**8:08d}"


@dataclass
class World:
    service: BookingService
    ctx: BookingContext
    clock: Clock
    hospital: Hospital
    sessions: dict[str, int]  # external id -> schedule id
    factory: sessionmaker[Session]

    def patient(self, phone: str | None = None) -> str:
        number = new_id_number()
        self.service.register_patient(
            id_number=number, name="张三", phone=phone or new_phone(), actor="agent:8001"
        )
        return number

    def book(self, number: str, ext: str, **kw: object) -> BookingReceipt:
        channel = kw.pop("channel", Channel.PHONE)
        request = BookRequest(
            schedule_id=self.sessions[ext],
            channel=channel,  # type: ignore[arg-type]
            actor="agent:8001",
            id_number=number,
            **kw,  # type: ignore[arg-type]
        )
        return self.service.book(request)


@pytest.fixture()
def world(settings: Settings, session_factory: sessionmaker[Session]) -> World:
    clock = Clock(START)
    cipher = PersonalDataCipher(settings.data_key.get_secret_value())
    ctx = BookingContext(
        cipher=cipher,
        rules=BookingRules(),
        calendar=WorkCalendar.load(),
        clock=clock,
        rng=random.Random(7),
    )
    code = "t" + uuid.uuid4().hex[:8]
    morning = SessionOfDay.MORNING
    pushes = [
        session_push("A-1", ("A", "内科"), VISIT, morning, 4, online_share=0.5),
        session_push("B-1", ("B", "外科"), VISIT, morning, 4, online_share=0.5),
        session_push("C-1", ("C", "儿科"), VISIT, morning, 4, online_share=0.5),
        session_push("A-2", ("A", "内科"), VISIT + timedelta(days=1), morning, 4),
        session_push("A-far", ("A", "内科"), VISIT + timedelta(days=10), morning, 4),
    ]
    past = [session_push("A-past", ("A", "内科"), date(2026, 11, 30), morning, 4)]
    with transaction(session_factory) as session:
        hospital = create_hospital(session, cipher, code=code, name="北京协和医院", api_secret="s")
        ids = push_schedules(session, ctx, hospital.id, pushes).schedule_ids
        clock.now = START - timedelta(days=3)  # pushed while it was still ahead
        ids |= push_schedules(session, ctx, hospital.id, past).schedule_ids
        clock.now = START
    return World(BookingService(session_factory, ctx), ctx, clock, hospital, ids, session_factory)


def test_phone_booking_gives_a_masked_receipt_the_ivr_can_read(world: World) -> None:
    number = world.patient()
    receipt = world.service.book(
        BookRequest(world.sessions["A-1"], Channel.PHONE, "agent:8001", id_number=number)
    )
    assert receipt.status == "booked"
    assert receipt.slot_seq == 3  # seqs 1-2 are reserved for the online channel
    assert receipt.id_number == number[:6] + "********" + number[-4:]
    assert receipt.patient_name == "张*"
    found = world.service.find_booking(number, receipt.code)
    assert found == receipt
    assert "北京协和医院内科" in found.speech() and "第3号" in found.speech()
    with world.factory() as session:
        audit = session.execute(
            select(AuditRecord).where(AuditRecord.target == f"booking:{receipt.code}")
        ).scalar_one()
        assert audit.action == "booking.create" and number not in str(audit.details)


def test_receipts_show_the_masks_stored_at_registration_and_reveal_by_decrypting(
    world: World,
) -> None:
    number, phone = new_id_number(), new_phone()
    world.service.register_patient(id_number=number, name="欧阳娜娜", phone=phone, actor="ivr")
    with world.factory() as session:
        stored = session.execute(
            select(Patient).where(Patient.id_hash == world.ctx.cipher.lookup_hash(number))
        ).scalar_one()
        assert (stored.name_masked, stored.id_masked, stored.phone_masked) == (
            "欧***",
            number[:6] + "********" + number[-4:],
            phone[:3] + "****" + phone[-4:],
        )
    receipt = world.book(number, "A-1")
    assert (receipt.patient_name, receipt.id_number) == ("欧***", stored.id_masked)
    revealed = world.service.booking_receipt(receipt.code, reveal=True)
    assert (revealed.patient_name, revealed.id_number, revealed.phone) == (
        "欧阳娜娜",
        number,
        phone,
    )


def test_a_patient_registered_before_masks_were_stored_is_masked_from_its_ciphertext(
    world: World,
) -> None:
    number = world.patient()
    with transaction(world.factory) as session:
        session.execute(
            update(Patient)
            .where(Patient.id_hash == world.ctx.cipher.lookup_hash(number))
            .values(name_masked=None, id_masked=None, phone_masked=None)
        )
    receipt = world.book(number, "A-1")
    assert receipt.patient_name == "张*"
    assert receipt.id_number == number[:6] + "********" + number[-4:]


def test_find_booking_needs_the_matching_id_number(world: World) -> None:
    number = world.patient()
    receipt = world.book(number, "A-1")
    with pytest.raises(BookingNotFound) as err:
        world.service.find_booking(world.patient(), receipt.code)
    assert err.value.code == "no-such-booking"


def test_unregistered_and_malformed_id_numbers_are_refused(world: World) -> None:
    with pytest.raises(BookingNotFound) as err:
        world.book(new_id_number(), "A-1")
    assert err.value.code == "patient-not-registered"
    with pytest.raises(InvalidIdNumber):
        world.book("11010519800101001", "A-1")


def test_session_rules_refuse_with_their_code(world: World) -> None:
    number = world.patient()
    for ext, code in (("A-far", "not-yet-released"), ("A-past", "session-past")):
        with pytest.raises(BookingRefused) as err:
            world.book(number, ext)
        assert err.value.code == code


def test_a_taken_slot_and_a_full_session_are_refused(world: World) -> None:
    first = world.book(world.patient(), "A-1")
    slot_id = _slot_id(world, "A-1", first.slot_seq)
    with pytest.raises(BookingRefused) as err:
        world.book(world.patient(), "A-1", slot_id=slot_id)
    assert err.value.code == "slot-taken"
    world.book(world.patient(), "A-1")
    with pytest.raises(BookingRefused) as err:
        world.book(world.patient(), "A-1")  # both phone slots gone
    assert err.value.code == "session-full"
    with pytest.raises(BookingNotFound) as nf:
        world.book(world.patient(), "A-1", slot_id=10**12)
    assert nf.value.code == "no-such-slot"


def test_online_slots_are_not_for_the_phone(world: World) -> None:
    online_slot = _slot_id(world, "A-1", 1)
    with pytest.raises(BookingRefused) as err:
        world.book(world.patient(), "A-1", slot_id=online_slot)
    assert err.value.code == "channel-not-allowed"
    receipt = world.book(world.patient(), "A-1", slot_id=online_slot, channel=Channel.ONLINE)
    assert receipt.channel == "online"


def test_patient_quotas_are_enforced_in_the_database(world: World) -> None:
    number = world.patient()
    world.book(number, "A-1")
    with pytest.raises(BookingRefused) as err:
        world.book(number, "A-1")
    assert err.value.code == "duplicate-department-day"
    world.book(number, "B-1")
    with pytest.raises(BookingRefused) as err:
        world.book(number, "C-1")
    assert err.value.code == "quota-day"


def test_at_most_two_patients_per_phone(world: World) -> None:
    phone = new_phone()
    world.patient(phone)
    world.patient(phone)
    with pytest.raises(BookingRefused) as err:
        world.patient(phone)
    assert err.value.code == "too-many-patients"


def test_cancel_rereleases_the_slot_later_not_at_once(world: World) -> None:
    number = world.patient()
    receipt = world.book(number, "A-1")
    cancelled = world.service.cancel(
        CancelRequest(receipt.code, Channel.PHONE, "agent:8001", id_number=number)
    )
    assert cancelled.status == "cancelled"
    slot_id = _slot_id(world, "A-1", cancelled.slot_seq)
    with pytest.raises(BookingRefused) as err:
        world.book(world.patient(), "A-1", slot_id=slot_id)
    assert err.value.code == "slot-taken"  # touts cannot catch it the moment it is freed
    with world.factory() as session:
        release_at = session.get(Slot, slot_id).release_at  # type: ignore[union-attr]
    assert release_at is not None
    assert START + timedelta(minutes=60) <= release_at <= START + timedelta(minutes=120)
    world.clock.now = release_at
    assert world.service.release_due_slots() >= 1
    again = world.book(world.patient(), "A-1", slot_id=slot_id)
    assert again.slot_seq == cancelled.slot_seq


def test_cancel_is_refused_after_the_cut_off(world: World) -> None:
    number = world.patient()
    receipt = world.book(number, "A-1")
    # Visit Thursday: cancelling closes Wednesday 15:00 Beijing time.
    world.clock.now = datetime(2026, 12, 2, 7, 0, tzinfo=UTC)
    request = CancelRequest(receipt.code, Channel.IVR, "ivr", id_number=number)
    with pytest.raises(BookingRefused) as err:
        world.service.cancel(request)
    assert err.value.code == "cancel-too-late"


def test_retry_with_the_same_key_returns_the_first_result(world: World) -> None:
    number = world.patient()
    request = BookRequest(world.sessions["A-1"], Channel.PHONE, "agent:8001", id_number=number)
    key = uuid.uuid4().hex
    first = world.service.book(request, idempotency_key=key)
    again = world.service.book(request, idempotency_key=key)
    assert again == first
    with world.factory() as session:
        count = session.execute(
            select(func.count()).select_from(Booking).where(Booking.code == first.code)
        ).scalar_one()
        assert count == 1
    other = BookRequest(world.sessions["B-1"], Channel.PHONE, "agent:8001", id_number=number)
    with pytest.raises(IdempotencyKeyReused):
        world.service.book(other, idempotency_key=key)


def test_a_refusal_is_replayed_for_the_same_key(world: World) -> None:
    request = BookRequest(
        world.sessions["A-far"], Channel.PHONE, "agent:8001", id_number=world.patient()
    )
    key = uuid.uuid4().hex
    for _ in range(2):
        with pytest.raises(BookingRefused) as err:
            world.service.book(request, idempotency_key=key)
        assert err.value.code == "not-yet-released"


def test_same_key_while_the_first_still_runs_gets_a_conflict(world: World) -> None:
    request = BookRequest(
        world.sessions["A-1"], Channel.PHONE, "agent:8001", id_number=world.patient()
    )
    key = uuid.uuid4().hex
    seen: list[str] = []

    def operation_that_retries(session: Session) -> dict[str, object]:
        # While the first request runs, the client's retry arrives.
        try:
            world.service.book(request, idempotency_key=key)
        except IdempotencyConflict as exc:
            seen.append(exc.code)
        return {"ok": True}

    store = world.service._idempotency  # the same store the service uses
    store.run(f"book:{request.actor}", key, request.fingerprint(), operation_that_retries)
    assert seen == ["idempotency-in-progress"]
    with world.factory() as session:
        row = session.get(IdempotencyKey, (f"book:{request.actor}", key))
        assert row is not None and row.status == "done"


def test_a_key_left_open_by_a_dead_request_is_taken_over_at_once(world: World) -> None:
    request = BookRequest(
        world.sessions["A-1"], Channel.PHONE, "agent:8001", id_number=world.patient()
    )
    key, scope = uuid.uuid4().hex, f"book:{request.actor}"
    store = world.service._idempotency
    # What a request killed between its claim and its commit leaves: the claim alone (the
    # work's transaction, and its lock on the key, died with the worker).
    assert store._claim(scope, key, request_hash(request.fingerprint())) is None
    receipt = world.service.book(request, idempotency_key=key)
    assert world.service.book(request, idempotency_key=key) == receipt
    with world.factory() as session:
        row = session.get(IdempotencyKey, (scope, key))
        assert row is not None and row.status == "done"


def test_three_no_shows_reported_by_the_hospital_blacklist_the_patient(world: World) -> None:
    number = world.patient()
    codes = []
    for ext in ("A-1", "B-1"):
        codes.append(world.book(number, ext).code)
    world.clock.now = START + timedelta(days=1)  # the day quota allows two a day
    codes.append(world.book(number, "A-2").code)
    world.clock.now = datetime(2026, 12, 4, 8, 0, tzinfo=UTC)  # after the sessions
    with transaction(world.factory) as session:
        for code in codes:
            report_attendance(session, world.ctx, world.hospital, code, attended=False)
    world.clock.now = datetime(2026, 12, 5, 1, 0, tzinfo=UTC)
    later = session_push("C-9", ("C", "儿科"), date(2026, 12, 7), SessionOfDay.MORNING, 4)
    with transaction(world.factory) as session:
        ids = push_schedules(session, world.ctx, world.hospital.id, [later]).schedule_ids
    world.sessions.update(ids)
    with pytest.raises(BookingRefused) as err:
        world.book(number, "C-9")
    assert err.value.code == "blacklisted"
    assert "2027-03-04" in err.value.message  # 90 days after the third no-show (Dec 4)
    with world.factory() as session:
        items, cursor = bookings_since(session, world.ctx, world.hospital, 0)
    assert [i.kind for i in items].count("no_show") == 3
    assert cursor == items[-1].cursor


def test_fee_and_session_details_survive_the_round_trip(world: World) -> None:
    receipt = world.book(world.patient(), "A-2")
    assert receipt.fee == str(Decimal("50.00"))
    assert receipt.day == "2026-12-04" and receipt.session == "morning"


def _slot_id(world: World, ext: str, seq: int) -> int:
    with world.factory() as session:
        return session.execute(
            select(Slot.id).where(Slot.schedule_id == world.sessions[ext], Slot.seq == seq)
        ).scalar_one()


def test_a_code_already_issued_is_not_issued_again(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = world.book(world.patient(), "A-1")
    fresh = f"{uuid.uuid4().int % 10**10:010d}"
    candidates = iter([first.code, first.code, fresh])  # two collide with the first booking
    monkeypatch.setattr(reservations, "_new_code", lambda: next(candidates))
    second = world.book(world.patient(), "B-1")
    assert second.code == fresh and second.status == "booked"
