"""The hospital integration contract, tried as a hospital's integrator would: real HTTP to a
running desk (uvicorn, the desk app as deployed), through the reference client
(``backend/booking/hospital_client.py``), the hospital and its key made as ``callcenter
hospital`` makes them. Each defect found by integrators gets its offending push and the
clear refusal (or the idempotent result), with nothing of a refused push written."""

from __future__ import annotations

import http.client
import json
import re
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from threading import Barrier
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from agent_desk.api.hospital_schemas import (
    MAX_SCHEDULES_PER_PUSH,
    MAX_SLOTS_PER_PUSH,
    MAX_SLOTS_PER_SCHEDULE,
    FeedPublic,
)
from backend.audit import Actor
from backend.booking.context import BookingContext
from backend.booking.demo_data import session_push
from backend.booking.hospital_client import (
    Answer,
    HospitalClient,
    quote_id,
    signature,
    string_to_sign,
)
from backend.booking.hospital_keys import HospitalDraft, add_hospital, hospital_key
from backend.booking.reservations import BookRequest
from backend.booking.rules import BookingRules, Channel, SessionOfDay
from backend.booking.service import BookingService
from backend.db import transaction
from backend.models.audit import AuditRecord
from backend.models.booking import Booking, BookingEvent, Department, Hospital, Schedule, Slot
from backend.personal_data import PersonalDataCipher
from backend.settings import Settings
from tests.desk_browser import DeskServer, serve_desk
from tests.desk_support import desk_settings
from tests.integration.test_booking_api import new_id_number, new_phone

TZ = BookingRules().tz
HOSPITAL_LIMIT = 64 * 1024  # the smallest the setting allows: quick to exceed in a test
DOCS = Path(__file__).resolve().parents[2] / "docs" / "partner-api-signing.md"


@pytest.fixture(scope="module")
def desk(
    settings: Settings, session_factory: sessionmaker[Session], redis_namespace: str
) -> Iterator[DeskServer]:
    served = desk_settings(
        settings, f"{redis_namespace}:hc", hospital_api_max_body_bytes=HOSPITAL_LIMIT
    )
    server = serve_desk(served, session_factory)
    yield server
    server.stop()


@dataclass
class Hosp:
    client: HospitalClient
    code: str
    factory: sessionmaker[Session]
    service: BookingService

    def schedules(self) -> int:
        with self.factory() as db:
            return (
                db.scalar(
                    select(func.count())
                    .select_from(Schedule)
                    .join(Hospital, Hospital.id == Schedule.hospital_id)
                    .where(Hospital.code == self.code)
                )
                or 0
            )

    def schedule(self, db: Session, external_id: str) -> Schedule | None:
        """This hospital's session ``external_id`` (other tests' hospitals use the same ids)."""
        return db.execute(
            select(Schedule)
            .join(Hospital, Hospital.id == Schedule.hospital_id)
            .where(Hospital.code == self.code, Schedule.external_id == external_id)
        ).scalar_one_or_none()

    def department_id(self, db: Session, code: str) -> int | None:
        return db.scalar(
            select(Department.id)
            .join(Hospital, Hospital.id == Department.hospital_id)
            .where(Hospital.code == self.code, Department.code == code)
        )


@pytest.fixture()
def hosp(desk: DeskServer, settings: Settings, session_factory: sessionmaker[Session]) -> Hosp:
    """A new hospital and its key, made as the CLI makes them."""
    code = "hc" + uuid.uuid4().hex[:8]
    cipher = PersonalDataCipher(settings.data_key.get_secret_value())
    actor, now = Actor("admin:test"), datetime.now(UTC)
    with transaction(session_factory) as db:
        add_hospital(
            db, cipher, HospitalDraft(code, "北京协和医院", "三级甲等", "东城区"), actor, now
        )
        key = hospital_key(db, cipher, code, actor, now, rotate=False)
    service = BookingService(session_factory, BookingContext.from_settings(settings))
    return Hosp(HospitalClient(desk.url, key.key_id, key.secret), code, session_factory, service)


def day(offset: int) -> date:
    return datetime.now(TZ).date() + timedelta(days=offset)


def schedule(ext: str, **fields: Any) -> dict[str, Any]:
    """A morning session two days ahead, with four slots inside it."""
    slots = [{"seq": i, "time": f"08:{10 * i:02d}", "channel": "any"} for i in range(4)]
    base = {
        "external_id": ext,
        "department_code": "NK",
        "department_name": "内科",
        "doctor_code": "D1",
        "doctor_name": "王晓梅",
        "doctor_title": "主任医师",
        "day": day(2).isoformat(),
        "session": "morning",
        "starts": "08:00",
        "ends": "11:30",
        "fee": "50.00",
        "slots": [s | {"seq": s["seq"] + 1} for s in slots],
    }
    return base | fields


def refused(answer: Answer, status: int, error: str, *named: str) -> None:
    assert answer.status == status and answer.body["error"] == error, answer
    assert set(answer.body) == {"error", "message"}, answer
    for text in named:
        assert text in answer.body["message"], answer


# A booked session is not moved -------------------------------------------------------------


def book(hosp: Hosp, schedule_id: int) -> str:
    number = new_id_number()
    hosp.service.register_patient(id_number=number, name="张三", phone=new_phone(), actor="agent:1")
    request = BookRequest(schedule_id, Channel.PHONE, "agent:1", id_number=number)
    return hosp.service.book(request).code


def test_a_booked_session_is_neither_moved_nor_repriced(hosp: Hosp) -> None:
    first = hosp.client.push_schedules([schedule("B-1")])
    assert first.status == 200, first
    booked = book(hosp, first.body["schedule_ids"]["B-1"])
    with hosp.factory() as db:
        before = hosp.schedule(db, "B-1")
        events = db.scalar(select(func.count()).select_from(BookingEvent)) or 0
    moves = {
        "day": {"day": day(3).isoformat()},
        "fee": {"fee": "80.00"},
        "department_code": {"department_code": "WK", "department_name": "外科"},
        "starts": {"starts": "07:30"},
        "slot 1": {"slots": [{"seq": 1, "time": "09:00"}]},
    }
    for field, change in moves.items():
        # With a new session in the same push: refused whole, nothing of it written.
        answer = hosp.client.push_schedules([schedule("B-2"), schedule("B-1", **change)])
        refused(answer, 409, "session-booked", booked, field, "B-1")
    assert hosp.schedules() == 1
    with hosp.factory() as db:
        after = hosp.schedule(db, "B-1")
        assert db.scalar(select(func.count()).select_from(BookingEvent)) == events
        assert hosp.department_id(db, "WK") is None
    kept = ("day", "fee", "department_id", "starts_at", "ends_at", "doctor_id")
    assert [getattr(after, f) for f in kept] == [getattr(before, f) for f in kept]
    # Free slots may still change, and more may be added.
    more = schedule("B-1", slots=[{"seq": 2, "time": "08:25"}, {"seq": 9, "time": "11:00"}])
    grown = hosp.client.push_schedules([more])
    assert (grown.status, grown.body["updated"], grown.body["slots_added"]) == (200, 1, 1), grown


# Identical pushes at once --------------------------------------------------------------------


def test_identical_first_pushes_at_once_are_one_push(hosp: Hosp) -> None:
    rounds = 12
    with ThreadPoolExecutor(max_workers=2) as pool:
        for r in range(rounds):
            # New department, doctor and schedule each round: the first push of each.
            push = [schedule(f"R-{r}", department_code=f"D{r}", doctor_code=f"X{r}")]
            start = Barrier(2)

            def send(push: list[dict[str, Any]] = push, start: Barrier = start) -> Answer:
                start.wait()
                return hosp.client.push_schedules(push)

            answers = list(pool.map(lambda _: send(), range(2)))
            assert [a.status for a in answers] == [200, 200], answers
            assert sorted(a.body["created"] for a in answers) == [0, 1], answers
            assert len({a.body["schedule_ids"][f"R-{r}"] for a in answers}) == 1
    assert hosp.schedules() == rounds
    with hosp.factory() as db:
        slots = db.scalar(
            select(func.count())
            .select_from(Slot)
            .join(Schedule, Schedule.id == Slot.schedule_id)
            .join(Hospital, Hospital.id == Schedule.hospital_id)
            .where(Hospital.code == hosp.code)
        )
    assert slots == rounds * 4


# The body limit and authentication before the body -------------------------------------------


def largest_push() -> bytes:
    """The biggest push the schemas allow, every text at its longest and escaped, indented."""
    name = "医" * 64
    per_schedule = MAX_SLOTS_PER_PUSH // MAX_SCHEDULES_PER_PUSH
    assert per_schedule <= MAX_SLOTS_PER_SCHEDULE
    slot = {"seq": 10000, "time": "11:59:59.999999", "channel": "online"}
    item = schedule(
        "E" * 64,
        department_code="科" * 32,
        department_name=name,
        doctor_code="码" * 32,
        doctor_name=name,
        doctor_title="职" * 32,
        fee="99999.99",
        slots=[slot] * per_schedule,
    )
    return json.dumps({"schedules": [item] * MAX_SCHEDULES_PER_PUSH}, indent=2).encode()


def chunked_post(hosp: Hosp, target: str, headers: dict[str, str], chunks: int) -> int:
    """POST a chunked body of ``chunks`` 8 KiB chunks, the last one never sent unless the
    server reads it all; the status it answers (a server waiting for the rest would let the
    socket time out: the test fails)."""
    url = hosp.client.base_url.removeprefix("http://")
    conn = http.client.HTTPConnection(url, timeout=10)
    try:
        conn.putrequest("POST", target)
        for name, value in headers.items() | {"Transfer-Encoding": "chunked"}.items():
            conn.putheader(name, value)
        conn.endheaders()
        piece = b"[" * 8192
        try:
            for _ in range(chunks):
                conn.send(b"%x\r\n%s\r\n" % (len(piece), piece))
        except (BrokenPipeError, ConnectionResetError):
            pass  # answered and closed before the whole body went: what we want
        return conn.getresponse().status
    finally:
        conn.close()


def test_a_realistic_week_fits_and_a_bigger_body_is_refused_while_read(
    hosp: Hosp, settings: Settings
) -> None:
    assert len(largest_push()) <= settings.hospital_api_max_body_bytes  # the default limit
    # A week of 12 departments' morning and afternoon sessions, 20 numbers each (~100 KB
    # compact here, the default limit is sized for the largest push).
    week = []
    for d in range(1, 8):
        for dept in range(6):
            for part, starts in (("morning", "08"), ("afternoon", "13")):
                slots = [{"seq": i + 1, "time": f"{starts}:{i * 2:02d}"} for i in range(20)]
                week.append(
                    schedule(f"W-{d}-{dept}-{part}", day=day(d).isoformat(), session=part,
                             starts=f"{starts}:00", ends=f"{starts}:59", slots=slots,
                             department_code=f"K{dept}", doctor_code=f"W{dept}")
                )  # fmt: skip
    # Part of it, over the old 16 KiB limit and within the test desk's 64 KiB, is taken.
    part = week[:30]
    assert 16 * 1024 < len(json.dumps({"schedules": part}, ensure_ascii=False)) < HOSPITAL_LIMIT
    answer = hosp.client.push_schedules(part)
    assert answer.status == 200 and answer.body["created"] == 30, answer
    target = "/api/hospital/schedules"
    big = json.dumps({"schedules": week}, indent=2).encode()
    assert len(big) > HOSPITAL_LIMIT
    refused(hosp.client.send("POST", target, big, hosp.client.headers("POST", target, big)),
            413, "body-too-large", str(HOSPITAL_LIMIT))  # fmt: skip
    # Chunked, well-signed headers: refused once past the limit, the rest never read.
    headers = hosp.client.headers("POST", target, b"")
    assert chunked_post(hosp, target, headers, chunks=HOSPITAL_LIMIT // 8192 + 2) == 413
    # Without a signature, or with an unknown key: refused before any of the body is read.
    assert chunked_post(hosp, target, {"Content-Type": "application/json"}, chunks=1) == 401
    assert chunked_post(hosp, target, headers | {"X-Hospital-Key": "hosp-nobody"}, chunks=1) == 401
    assert hosp.schedules() == 30


# Strict schemas, days and times, names ---------------------------------------------------------


def test_unknown_fields_are_refused_by_name(hosp: Hosp) -> None:
    typo = schedule("U-1")
    typo["doctor_nmae"] = typo.pop("doctor_name")
    refused(hosp.client.push_schedules([typo]), 422, "invalid-request", "doctor_nmae")
    slot = schedule("U-1", slots=[{"seq": 1, "time": "08:00", "chanel": "phone"}])
    refused(hosp.client.push_schedules([slot]), 422, "invalid-request", "chanel")
    top = hosp.client.call("POST", "/api/hospital/schedules", {"schedules": [], "dry_run": True})
    refused(top, 422, "invalid-request", "dry_run")
    stop = hosp.client.call(
        "POST", "/api/hospital/schedules/U-1/stop", {"reason": "x", "ntoify": 1}
    )
    refused(stop, 422, "invalid-request", "ntoify")
    assert hosp.schedules() == 0


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"day": day(-1).isoformat()}, "日期"),
        ({"day": "9999-12-31"}, "9999-12-31"),
        ({"slots": [{"seq": 1, "time": "12:00"}]}, "第1号"),
        ({"slots": [{"seq": 1, "time": "07:59"}]}, "第1号"),
        ({"session": "afternoon"}, "时段"),
        ({"session": "evening", "starts": "13:30", "ends": "17:00"}, "时段"),
        ({"starts": "11:30", "ends": "08:00"}, "结束时间"),
        ({"external_id": "   "}, "出诊编号"),
        ({"external_id": "\u3000\u3000"}, "出诊编号"),
        ({"department_name": "\u3000"}, "科室名称"),
        ({"department_code": " "}, "科室编号"),
        ({"doctor_name": ""}, "doctor_name"),
        ({"doctor_name": "\u3000 "}, "doctor_name"),
        ({"doctor_code": "", "doctor_name": "王晓梅"}, "doctor_code"),
    ],
)
def test_a_push_the_calendar_or_the_names_cannot_hold_is_refused_whole(
    hosp: Hosp, change: dict[str, Any], named: str
) -> None:
    # The faulty schedule comes second: the good one before it is not written either.
    answer = hosp.client.push_schedules([schedule("OK-1"), schedule("BAD-1", **change)])
    refused(answer, 400, "bad-schedule", named)
    assert hosp.schedules() == 0


def test_a_doctor_is_never_blanked_and_an_id_is_taken_once_per_push(hosp: Hosp) -> None:
    assert hosp.client.push_schedules([schedule("N-1")]).ok
    blank = hosp.client.push_schedules([schedule("N-1", doctor_name="")])
    refused(blank, 400, "bad-schedule", "doctor_name")
    twice = hosp.client.push_schedules([schedule("N-2"), schedule("N-2", fee="60.00")])
    refused(twice, 400, "bad-schedule", "N-2")
    assert hosp.schedules() == 1
    with hosp.factory() as db:
        assert hosp.schedule(db, "N-2") is None


# Signing: the documented example, awkward ids, replays -------------------------------------------


def test_the_documented_example_signs_as_the_client_does() -> None:
    text = DOCS.read_text()
    body = '{"reason": "医生临时出差"}'.encode()
    target = f"/api/hospital/schedules/{quote_id('内科 A/1')}/stop"
    signed = string_to_sign("POST", target, "1764550800", "4f1c0b6a2e9d4c7b8a5e3f2d1c0b9a87", body)
    assert target in text and signed in text
    assert signature("example-secret-0123456789", signed) in text
    assert re.search(r"%E5%86%85%E7%A7%91%20A%2F1", text)


def test_ids_with_spaces_non_ascii_and_slashes_are_pushed_and_stopped(hosp: Hosp) -> None:
    ids = ["内科 A/1", "B/2/3", "C 4"]
    pushed = hosp.client.push_schedules([schedule(ext) for ext in ids])
    assert pushed.status == 200 and set(pushed.body["schedule_ids"]) == set(ids), pushed
    booked = book(hosp, pushed.body["schedule_ids"]["内科 A/1"])
    for ext in ids:
        stopped = hosp.client.stop(ext, "医生临时出差")
        assert stopped.status == 200, (ext, stopped)
    assert [a["code"] for a in hosp.client.stop("内科 A/1", "再次").body["affected"]] == []
    with hosp.factory() as db:
        statuses = db.execute(select(Schedule.status).where(Schedule.external_id.in_(ids)))
        assert set(statuses.scalars()) == {"stopped"}
        assert db.scalar(select(Booking.status).where(Booking.code == booked)) == "cancelled"
    # Signed over the decoded path instead of the one sent: refused, with the reason.
    target = f"/api/hospital/schedules/{quote_id('C 4')}/stop"
    body = json.dumps({"reason": "x"}).encode()
    wrong = hosp.client.headers("POST", "/api/hospital/schedules/C 4/stop", body)
    refused(hosp.client.send("POST", target, body, wrong), 401, "bad-signature", "签名")


def booked_yesterday(hosp: Hosp) -> str:
    """A booking of yesterday's morning session, pushed and booked two days ago (through the
    service on a clock of then: the API refuses past days now)."""
    then = datetime.now(TZ) - timedelta(days=2)
    earlier = BookingService(hosp.factory, replace(hosp.service.ctx, clock=lambda: then))
    push = session_push("Y-1", ("NK", "内科"), day(-1), SessionOfDay.MORNING, 4)
    with hosp.factory() as db:
        hospital = db.execute(select(Hospital).where(Hospital.code == hosp.code)).scalar_one()
    schedule_id = earlier.push_schedules(hospital, [push]).schedule_ids["Y-1"]
    number = new_id_number()
    earlier.register_patient(id_number=number, name="张三", phone=new_phone(), actor="agent:1")
    return earlier.book(BookRequest(schedule_id, Channel.PHONE, "agent:1", id_number=number)).code


def audited(hosp: Hosp, action: str) -> int:
    with hosp.factory() as db:
        return (
            db.scalar(
                select(func.count())
                .select_from(AuditRecord)
                .where(AuditRecord.action == action, AuditRecord.actor == f"hospital:{hosp.code}")
            )
            or 0
        )


def test_replayed_stop_and_attendance_calls_write_nothing_again(hosp: Hosp) -> None:
    pushed = hosp.client.push_schedules([schedule("P-1"), schedule("P-2")])
    book(hosp, pushed.body["schedule_ids"]["P-1"])
    target = "/api/hospital/schedules/P-1/stop"
    body = json.dumps({"reason": "医生临时出差"}).encode()
    headers = hosp.client.headers("POST", target, body)
    assert hosp.client.send("POST", target, body, headers).body["cancelled"] == 1
    refused(hosp.client.send("POST", target, body, headers), 401, "replayed-request")
    # A no-show reported, then the same request again.
    code = booked_yesterday(hosp)
    target = f"/api/hospital/bookings/{code}/attendance"
    body = json.dumps({"attended": False}).encode()
    headers = hosp.client.headers("POST", target, body)
    reported = hosp.client.send("POST", target, body, headers)
    assert reported.status == 200 and reported.body["status"] == "no_show", reported
    refused(hosp.client.send("POST", target, body, headers), 401, "replayed-request")
    with hosp.factory() as db:
        events = db.scalars(
            select(BookingEvent.kind)
            .join(Booking, Booking.id == BookingEvent.booking_id)
            .where(Booking.code == code)
        ).all()
    assert sorted(events) == ["booked", "no_show"]
    assert (audited(hosp, "schedule.stop"), audited(hosp, "booking.no_show")) == (1, 1)
    assert audited(hosp, "hospital.replay_refused") == 2


# One error shape ------------------------------------------------------------------------------


def test_every_error_has_the_common_shape(hosp: Hosp) -> None:
    target = "/api/hospital/schedules"
    for body, error in [
        (b'{"schedules": [{"external_id": "\xff\xfe"}]}', "bad-body"),
        (b'{"schedules": [', "invalid-request"),
        (b"[]", "invalid-request"),
    ]:
        refused(hosp.client.send("POST", target, body, hosp.client.headers("POST", target, body)),
                400 if error == "bad-body" else 422, error)  # fmt: skip
    refused(hosp.client.call("GET", "/api/hospital/no-such-thing"), 404, "not-found")
    refused(hosp.client.call("GET", "/api/hospital/schedules"), 405, "method-not-allowed")
    refused(hosp.client.call("GET", "/api/hospital/bookings?cursor=-1"), 422, "invalid-request")
    refused(hosp.client.stop("NO-SUCH", "x"), 404, "no-such-session")
    unsigned = hosp.client.send("POST", target, b"{}", {"Content-Type": "application/json"})
    refused(unsigned, 401, "bad-signature", "X-Hospital-Key")


def test_the_openapi_description_shows_examples_and_the_error_shape(desk: DeskServer) -> None:
    url = desk.url.removeprefix("http://")
    conn = http.client.HTTPConnection(url, timeout=10)
    try:
        conn.request("GET", "/openapi.json")
        spec = json.loads(conn.getresponse().read())
    finally:
        conn.close()
    schemas = spec["components"]["schemas"]
    example = schemas["ScheduleBatchCreate"]["examples"][0]["schedules"][0]
    assert example["external_id"] and example["slots"]
    assert schemas["ScheduleCreate"]["additionalProperties"] is False
    for name in ("ScheduleBatchPublic", "SessionStop", "SessionStopPublic", "FeedPublic",
                 "AttendanceReport"):  # fmt: skip
        assert schemas[name]["examples"], name
    FeedPublic.model_validate(schemas["FeedPublic"]["examples"][0])
    push = spec["paths"]["/api/hospital/schedules"]["post"]
    assert "PATH?QUERY" in push["description"]
    assert {"409", "413", "422"} <= set(push["responses"])
    error = push["responses"]["409"]["content"]["application/json"]["schema"]["$ref"]
    assert set(schemas[error.rsplit("/", 1)[1]]["properties"]) == {"error", "message"}
