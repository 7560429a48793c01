"""Booking messages through the outbox, on real PostgreSQL and Redis: each booking, by
whichever channel and however often its request is retried with its key, leads to exactly
one text at the recording gateway; reminders go once, the evening before, not to numbers that
opted out; a gateway that is down delays messages, loses and doubles none."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import redis
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from backend.booking.reservations import CancelRequest
from backend.booking.rules import Channel
from backend.flows.loader import load_flows
from backend.models.booking import Booking, Hospital
from backend.models.sms import SmsOutbox
from backend.models.users import Role
from backend.notifications.callbacks import OutboxCallbackNotices
from backend.notifications.reminders import queue_reminders
from backend.notifications.requests import SmsRequests
from backend.notifications.retention import KEEP_DAYS, purge_old_messages
from backend.personal_data import PersonalDataCipher, mask_phone
from backend.settings import Settings
from backend.sms.fake import RecordingSmsGateway
from backend.telephony.callback_bookings import ScheduledCallback
from backend.workcalendar import WorkCalendar
from backend.workorders.composition import workorder_service
from backend.workorders.service import Actor, OrderDraft
from ivr.flows.booking_adapter import ServiceBookingLookup
from ivr.flows.call import call_info
from ivr.flows.engine import FlowEngine, FlowPorts
from tests.desk_support import login, make_user
from tests.integration.test_booking_api import Api, _push, _today, api  # noqa: F401
from tests.ivr_scripted_call import (
    LabelRenderer,
    MemoryJournal,
    MemoryMessages,
    RecordingQueue,
    ScriptedChannel,
    SteppingClock,
)
from tests.sms_support import Booker, PrivateRedis, drain, new_caller, texts_of

MADE, CANCELLED, REMINDER = "booking-made", "booking-cancelled", "reminder"
RESEND = "booking-resend"


@pytest.fixture()
def gateway(redis_client: redis.Redis, redis_namespace: str) -> RecordingSmsGateway:
    return RecordingSmsGateway(redis_client, f"{redis_namespace}:sms:")


def _frozen(year: int, month: int, day: int, hour: int, minute: int = 0) -> datetime:
    """A moment on Beijing's clock (UTC+8, no summer time)."""
    return datetime(year, month, day, hour, minute, tzinfo=UTC) - timedelta(hours=8)


def _visit_day(*, alone: bool = False) -> date:
    """A visit day in 2027 for a test on a frozen clock; ``alone``: a day no other test of
    the run books for (the reminder job queues every booking of its day), from 2030 on."""
    start, span = (date(2030, 1, 1), 20000) if alone else (date(2027, 1, 10), 300)
    calendar = WorkCalendar.load()
    while True:
        day = start + timedelta(days=uuid.uuid4().int % span)
        # The evening before is a working day: a booking may still be cancelled that morning.
        if calendar.is_working_day(day - timedelta(days=1)):
            return day


def test_a_desk_booking_retried_with_its_key_sends_one_text(
    desk_client: TestClient,
    desk_app_settings: Settings,
    session_factory: sessionmaker[Session],
    gateway: RecordingSmsGateway,
) -> None:
    login(desk_client, make_user(session_factory, Role.AGENT))
    booker = Booker(desk_app_settings, session_factory, date.today() + timedelta(days=2),
                    datetime.now(UTC))  # fmt: skip
    caller = new_caller()
    body = {"schedule_id": booker.schedule_id, "id_number": caller.id_number,
            "name": caller.name, "phone": caller.phone}  # fmt: skip
    key = {"Idempotency-Key": uuid.uuid4().hex}
    first = desk_client.post("/api/desk/booking/bookings", json=body, headers=key)
    assert first.status_code == 201, first.text
    drain(session_factory, desk_app_settings, gateway)  # between the try and its retry
    again = desk_client.post("/api/desk/booking/bookings", json=body, headers=key)
    assert again.json()["code"] == first.json()["code"]
    drain(session_factory, desk_app_settings, gateway)
    texts = texts_of(gateway, caller.phone, MADE)
    assert len(texts) == 1
    assert first.json()["code"] in texts[0] and booker.hospital + "内科" in texts[0]
    assert "拨打114按2" in texts[0]  # how to cancel

    cancel = {"id_number": caller.id_number}
    code = first.json()["code"]
    assert desk_client.post(f"/api/desk/booking/bookings/{code}/cancel", json=cancel).is_success
    drain(session_factory, desk_app_settings, gateway)
    assert len(texts_of(gateway, caller.phone, CANCELLED)) == 1


def test_an_online_booking_retried_with_its_key_sends_one_text(
    api: Api,  # noqa: F811
    settings: Settings,
    redis_client: redis.Redis,
    redis_namespace: str,
) -> None:
    gateway = RecordingSmsGateway(redis_client, f"{redis_namespace}:")  # the codes' gateway
    schedule_id = _push(api, "S-1", _today() + timedelta(days=3))
    auth = api.account()
    phone = f"135{uuid.uuid4().int % 10**8:08d}"
    patient_id = api.patient(auth, phone=phone)
    key = {"Idempotency-Key": uuid.uuid4().hex}
    body = {"patient_id": patient_id, "schedule_id": schedule_id}
    first = api.client.post("/api/public/bookings", json=body, headers=auth | key)
    retry = api.client.post("/api/public/bookings", json=body, headers=auth | key)
    assert first.status_code == 201 and retry.json()["code"] == first.json()["code"]
    # An unkeyed booking takes the asyncpg path (the fast path in front of FastAPI, or the
    # route's pool): its message is queued in its transaction all the same.
    other = api.patient(auth)
    plain = api.client.post("/api/public/bookings", json={**body, "patient_id": other},
                            headers=auth)  # fmt: skip
    assert plain.status_code == 201, plain.text
    drain(api.factory, settings, gateway)
    drain(api.factory, settings, gateway)
    texts = texts_of(gateway, phone, MADE)
    assert len(texts) == 1 and first.json()["code"] in texts[0]
    assert outbox_of(api.factory, plain.json()["code"]) == [(MADE, "sent")]


async def ivr_call(
    booker: Booker, actions: list[object], tmp_path: Path, now: datetime
) -> ScriptedChannel:
    """A call through the 114 flow's self-service menu (as tests/integration/
    test_ivr_booking_selfservice.py runs it) on the booking service."""
    flow = load_flows(names=("114",))["114"]
    ports = FlowPorts(
        renderer=LabelRenderer(),
        queue=RecordingQueue(),
        journal=MemoryJournal(),
        calendar=WorkCalendar.load(),
        clock=SteppingClock(now.astimezone(ZoneInfo("Asia/Shanghai"))),
        messages=MemoryMessages(tmp_path),
        bookings=ServiceBookingLookup(booker.service, SmsRequests(booker.factory, booker.ctx)),
    )
    channel = ScriptedChannel(actions)  # type: ignore[arg-type]
    await FlowEngine(flow, ports).run(channel, await call_info(channel, "114"))
    return channel


def outbox_of(factory: sessionmaker[Session], code: str) -> list[tuple[str, str]]:
    """The outbox rows of the booking ``code``: (event, status), oldest first."""
    with factory() as db:
        rows = db.execute(
            select(SmsOutbox.event, SmsOutbox.status)
            .join(Booking, Booking.id == SmsOutbox.booking_id)
            .where(Booking.code == code)
            .order_by(SmsOutbox.id)
        )
        return [(row.event, row.status) for row in rows]


async def test_a_phone_booking_and_its_cancel_in_the_ivr_each_send_one_text(
    settings: Settings,
    session_factory: sessionmaker[Session],
    gateway: RecordingSmsGateway,
    tmp_path: Path,
) -> None:
    visit = _visit_day()
    now = _frozen(visit.year, visit.month, visit.day, 9) - timedelta(days=3)
    booker = Booker(settings, session_factory, visit, now)
    key = uuid.uuid4().hex
    booked = booker.book(Channel.PHONE, key)
    again = booker.book(Channel.PHONE, key, booked.caller)  # the page retried, same key
    assert again.receipt.code == booked.receipt.code
    # The caller cancels in the 114 self-service menu (the flow engine on the real service).
    channel = await ivr_call(booker, ["2", booked.id_number, booked.receipt.code, "1"],
                             tmp_path, now)  # fmt: skip
    assert "114/booking_cancelled" in channel.played
    drain(session_factory, settings, gateway, lambda: now)
    drain(session_factory, settings, gateway, lambda: now)
    made = texts_of(gateway, booked.phone, MADE)
    assert len(made) == 1 and booked.receipt.code in made[0]
    cancelled = texts_of(gateway, booked.phone, CANCELLED)
    assert len(cancelled) == 1 and booked.receipt.code in cancelled[0]


async def test_reminders_go_once_the_evening_before_and_not_to_numbers_that_opted_out(
    settings: Settings,
    session_factory: sessionmaker[Session],
    gateway: RecordingSmsGateway,
    tmp_path: Path,
) -> None:
    visit = _visit_day(alone=True)
    eve = visit - timedelta(days=1)
    booker = Booker(settings, session_factory, visit, _frozen(eve.year, eve.month, eve.day, 9))
    reminded, opted_out, cancelled = booker.book(), booker.book(), booker.book()
    # The caller opts out in the 114 self-service menu, after the booking is read out.
    keys = ["2", opted_out.id_number, opted_out.receipt.code, "5"]
    channel = await ivr_call(booker, keys, tmp_path, _frozen(eve.year, eve.month, eve.day, 9))
    assert "114/reminders_off" in channel.played
    booker.service.cancel(CancelRequest(cancelled.receipt.code, Channel.PHONE, "agent:sms",
                                        id_number=cancelled.id_number))  # fmt: skip
    at, tz = time(18, 0), booker.ctx.rules.tz

    def run(hour: int, minute: int) -> int:
        moment = _frozen(eve.year, eve.month, eve.day, hour, minute)
        queued = queue_reminders(session_factory, moment, at, tz)
        drain(session_factory, settings, gateway, lambda: moment)
        return queued

    assert run(17, 59) == 0  # not yet
    assert run(18, 0) == 1  # the one booking still held, of a number that did not opt out
    assert run(18, 5) == 0 and run(21, 0) == 0
    texts = texts_of(gateway, reminded.phone, REMINDER)
    assert len(texts) == 1 and reminded.receipt.code in texts[0]
    assert texts_of(gateway, opted_out.phone, REMINDER) == []
    assert len(texts_of(gateway, opted_out.phone, MADE)) == 1  # notices still go
    assert texts_of(gateway, cancelled.phone, REMINDER) == []


def test_messages_queued_while_the_gateway_is_down_go_once_when_it_is_back(
    settings: Settings, session_factory: sessionmaker[Session], tmp_path: Path
) -> None:
    visit = _visit_day()
    now = _frozen(visit.year, visit.month, visit.day, 10) - timedelta(days=2)
    clock = [now]
    server = PrivateRedis(tmp_path)
    server.start()
    try:
        gateway = RecordingSmsGateway(server.client(), "outage:")
        booker = Booker(settings, session_factory, visit, now)
        server.stop()  # the gateway goes down
        first, second = booker.book(), booker.book()
        for _ in range(2):  # the beat's next runs: each tries once and waits again
            assert drain(session_factory, settings, gateway, lambda: clock[0]).failed == 1
            clock[0] += timedelta(seconds=5)
        for booked in (first, second):
            assert outbox_of(session_factory, booked.receipt.code) == [(MADE, "queued")]
        server.start()  # back, empty: nothing reached it while it was down
        clock[0] = now + timedelta(minutes=1)
        drain(session_factory, settings, gateway, lambda: clock[0])
        drain(session_factory, settings, gateway, lambda: clock[0])
        for booked in (first, second):
            texts = texts_of(gateway, booked.phone, MADE)
            assert len(texts) == 1 and booked.receipt.code in texts[0]
            assert outbox_of(session_factory, booked.receipt.code) == [(MADE, "sent")]
        # Half a year on, the retention job removes what was sent, never what waits.
        waiting = booker.book()
        assert purge_old_messages(session_factory, now + timedelta(days=KEEP_DAYS + 1)) >= 2
        assert outbox_of(session_factory, first.receipt.code) == []
        assert outbox_of(session_factory, waiting.receipt.code) == [(MADE, "queued")]
    finally:
        server.stop()


async def test_a_caller_has_the_text_resent_from_the_ivr_menu_rate_limited(
    settings: Settings,
    session_factory: sessionmaker[Session],
    gateway: RecordingSmsGateway,
    tmp_path: Path,
) -> None:
    visit = _visit_day()
    now = _frozen(visit.year, visit.month, visit.day, 9) - timedelta(days=3)
    booker = Booker(settings, session_factory, visit, now)
    booked = booker.book()
    keys = ["2", booked.id_number, booked.receipt.code, "4"]
    first = await ivr_call(booker, keys, tmp_path, now)
    again = await ivr_call(booker, keys, tmp_path, now)  # within the minute
    assert "114/booking_sms_queued" in first.played
    assert "114/booking_sms_refused" in again.played
    assert any("稍候" in s for s in again.played if s.startswith("tts:"))
    drain(session_factory, settings, gateway, lambda: now)
    resent = texts_of(gateway, booked.phone, RESEND)
    assert len(resent) == 1 and booked.receipt.code in resent[0]


def test_the_desk_resends_records_opt_outs_and_admins_edit_the_texts(
    desk_client: TestClient,
    desk_app_settings: Settings,
    session_factory: sessionmaker[Session],
    gateway: RecordingSmsGateway,
) -> None:
    booker = Booker(desk_app_settings, session_factory, date.today() + timedelta(days=2),
                    datetime.now(UTC))  # fmt: skip
    booked = booker.book()
    login(desk_client, make_user(session_factory, Role.ADMIN))
    bad = desk_client.put("/api/admin/sms-templates/booking-resend", json={"text": "{phone}"})
    assert (bad.status_code, bad.json()["error"]) == (422, "sms-template-placeholder")
    text = "【北京114】再次提醒：{hospital}{department}，识别码{code}。"
    saved = desk_client.put("/api/admin/sms-templates/booking-resend", json={"text": text})
    assert saved.status_code == 200 and saved.json()["overridden"]
    try:
        login(desk_client, make_user(session_factory, Role.AGENT))
        url = f"/api/desk/booking/bookings/{booked.receipt.code}/sms"
        proof = {"id_number": booked.id_number}
        assert desk_client.post(url, json=proof).status_code == 202
        assert desk_client.post(url, json=proof).status_code == 429  # within the minute
        wrong = desk_client.post(url, json={"id_number": new_caller().id_number})
        assert wrong.status_code == 404
        out = desk_client.post("/api/desk/sms/opt-out", json={"phone": booked.phone})
        assert out.json() == {"phone": mask_phone(booked.phone), "opted_out": True}
        drain(session_factory, desk_app_settings, gateway)
        assert texts_of(gateway, booked.phone, RESEND) == [
            f"【北京114】再次提醒：{booker.hospital}内科，识别码{booked.receipt.code}。"
        ]
    finally:
        login(desk_client, make_user(session_factory, Role.ADMIN))
        desk_client.put("/api/admin/sms-templates/booking-resend", json={"text": None})


def test_callback_and_work_order_messages_go_once_with_their_details(
    db: Session,
    settings: Settings,
    session_factory: sessionmaker[Session],
    gateway: RecordingSmsGateway,
) -> None:
    cipher = PersonalDataCipher.of(settings)
    phone = f"138{uuid.uuid4().int % 10**8:08d}"
    start = datetime(2026, 12, 4, 6, 0, tzinfo=UTC)  # 14:00 in Beijing
    callback = ScheduledCallback(uuid.uuid4().int % 10**9, "12393", "insurance", "c-1",
                                 cipher.encrypt(phone), start, start + timedelta(minutes=30),
                                 "pending", 0)  # fmt: skip
    notices = OutboxCallbackNotices(session_factory, ZoneInfo("Asia/Shanghai"))
    notices.scheduled(callback)
    notices.scheduled(callback)  # told twice: still one message
    notices.missed(callback)
    order = workorder_service(db, settings).create(
        OrderDraft(title="门诊报销未到账", caller_name="张三", caller_phone=phone),
        Actor("agent_li", "10.0.0.21"),
        datetime.now(UTC),
    )
    db.commit()
    drain(session_factory, settings, gateway)
    assert texts_of(gateway, phone, "callback-scheduled") == [
        "【北京114】我们将在12月4日14:00至14:30给您回电，请保持电话畅通。"
    ]
    missed = texts_of(gateway, phone, "callback-missed")
    assert len(missed) == 1 and "12393" in missed[0]
    filed = texts_of(gateway, phone, "workorder-filed")
    assert len(filed) == 1 and order.number in filed[0]


def test_a_session_the_hospital_stops_tells_its_patients_by_text(
    settings: Settings, session_factory: sessionmaker[Session], gateway: RecordingSmsGateway
) -> None:
    visit = _visit_day()
    now = _frozen(visit.year, visit.month, visit.day, 9) - timedelta(days=2)
    booker = Booker(settings, session_factory, visit, now)
    booked = booker.book()
    with session_factory() as db:
        hospital = db.scalars(select(Hospital).where(Hospital.code == booker.hospital_code)).one()
    booker.service.stop_session(hospital, booker.external_id, "医生停诊")
    drain(session_factory, settings, gateway, lambda: now)
    cancelled = texts_of(gateway, booked.phone, CANCELLED)
    assert len(cancelled) == 1 and booked.receipt.code in cancelled[0]
