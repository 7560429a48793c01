"""Caller data for the IVR's branch: blocked callers, repeat callers, elderly."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker

from backend.models.callers import BlockedCaller
from backend.models.calls import CallRecord, Line
from backend.personal_data import PersonalDataCipher, normalize_number
from backend.settings import DEV_DATA_KEY, Settings
from ivr.callers import SqlCallerDirectory
from ivr.flows.ports import CallInfo

CIPHER = PersonalDataCipher(DEV_DATA_KEY)


def call_from(number: str, line: str, call_id: str = "current") -> CallInfo:
    return CallInfo(call_id, call_id, line, number, "114")


def unique_number() -> str:
    return "139" + str(uuid.uuid4().int)[:8]


def add_call(
    factory: sessionmaker[Session],
    directory: SqlCallerDirectory,
    number: str,
    line: Line,
    started: datetime,
    ended: bool = True,
    call_id: str = "",
) -> None:
    with factory() as session, session.begin():
        session.add(
            CallRecord(
                call_id=call_id or uuid.uuid4().hex,
                line=line,
                caller_hash=directory.caller_hash(number),
                started_at=started,
                ended_at=started + timedelta(minutes=2) if ended else None,
            )
        )


async def test_repeat_caller_within_24_hours_on_the_same_line(
    session_factory: sessionmaker[Session],
) -> None:
    directory = SqlCallerDirectory(session_factory, CIPHER)
    number = unique_number()
    assert not (await directory.profile(call_from(number, "114"))).repeat_caller
    add_call(
        session_factory,
        directory,
        number,
        Line.APPOINTMENT_114,
        datetime.now(UTC) - timedelta(hours=3),
    )
    assert (await directory.profile(call_from(number, "114"))).repeat_caller
    assert not (await directory.profile(call_from(number, "hotline"))).repeat_caller
    # The same phone written with the country code is the same caller.
    assert (await directory.profile(call_from("+86" + number, "114"))).repeat_caller


async def test_calls_older_than_a_day_and_the_call_itself_do_not_count(
    session_factory: sessionmaker[Session],
) -> None:
    directory = SqlCallerDirectory(session_factory, CIPHER)
    number = unique_number()
    now = datetime.now(UTC)
    add_call(session_factory, directory, number, Line.HOTLINE, now - timedelta(hours=30))
    mine = uuid.uuid4().hex
    add_call(session_factory, directory, number, Line.HOTLINE, now, ended=False, call_id=mine)
    assert not (await directory.profile(call_from(number, "hotline", mine))).repeat_caller


async def test_blocked_caller_until_the_block_ends(session_factory: sessionmaker[Session]) -> None:
    directory = SqlCallerDirectory(session_factory, CIPHER)
    number = unique_number()
    with session_factory() as session, session.begin():
        session.add(
            BlockedCaller(
                caller_hash=directory.caller_hash(number),
                reason="恶意骚扰",
                created_by="supervisor",
                until=datetime.now(UTC) + timedelta(days=1),
            )
        )
    assert (await directory.profile(call_from(number, "114"))).blacklisted
    later = SqlCallerDirectory(
        session_factory, CIPHER, now=lambda: datetime.now(UTC) + timedelta(days=2)
    )
    assert not (await later.profile(call_from(number, "114"))).blacklisted


async def test_elderly_comes_from_the_check_given(session_factory: sessionmaker[Session]) -> None:
    number = unique_number()
    seen: list[str] = []

    def elderly(session: Session, caller_hash: str) -> bool:
        seen.append(caller_hash)
        return True

    directory = SqlCallerDirectory(session_factory, CIPHER, elderly_check=elderly)
    assert (await directory.profile(call_from(number, "114"))).elderly
    assert seen == [directory.caller_hash(number)]


async def test_withheld_number_has_an_empty_profile(session_factory: sessionmaker[Session]) -> None:
    profile = await SqlCallerDirectory(session_factory, CIPHER).profile(
        call_from("anonymous", "114")
    )
    assert not (profile.blacklisted or profile.repeat_caller or profile.elderly)


def test_normalize_number() -> None:
    assert normalize_number("+86 138-0013-8000") == "13800138000"
    assert normalize_number("008613800138000") == "13800138000"
    assert normalize_number("010-12345678") == "01012345678"


def test_registered_patient_aged_65_or_over_makes_the_caller_elderly(
    settings: Settings, session_factory: sessionmaker[Session]
) -> None:
    from backend.booking.context import BookingContext
    from backend.booking.service import BookingService
    from backend.idcard import make_valid
    from ivr.callers import elderly_by_registration

    service = BookingService(session_factory, BookingContext.from_settings(settings))
    today = date(2026, 11, 25)
    elderly_phone, young_phone = unique_number(), unique_number()
    serial = str(uuid.uuid4().int)[:3]
    # Born 25 Nov 1961: 65 today. Born 26 Nov 1961: 64 until tomorrow.
    service.register_patient(
        id_number=make_valid(f"11010119611125{serial}"), name="王老", phone=elderly_phone, actor="t"
    )
    service.register_patient(
        id_number=make_valid(f"11010119611126{serial}"), name="李中", phone=young_phone, actor="t"
    )
    check = elderly_by_registration(CIPHER, today=lambda: today)
    directory = SqlCallerDirectory(session_factory, CIPHER)
    with session_factory() as session:
        assert check(session, directory.caller_hash(elderly_phone))
        assert not check(session, directory.caller_hash(young_phone))
        assert not check(session, directory.caller_hash(unique_number()))
