"""The public booking API and the hospital integration API over HTTP, on real PostgreSQL and
Redis: the online flow end to end, bad input refused with a reason, signatures, rate limits."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta

import pytest
import redis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from agent_desk.api import hospital_api, public_accounts, public_booking
from agent_desk.app import create_app
from agent_desk.body_limit import BodyLimits, BodySizeLimit
from agent_desk.errors import install_error_handlers
from agent_desk.performance.booking_fast_path import BookingFastPath
from agent_desk.state import build_state
from backend import idcard
from backend.booking.api_config import BookingApiConfig
from backend.booking.demo_data import create_hospital, session_push
from backend.booking.hospital_feed import push_schedules
from backend.booking.rules import BookingRules, SessionOfDay
from backend.db import transaction
from backend.models.audit import AuditRecord
from backend.models.booking import Booking, Hospital
from backend.personal_data import PersonalDataCipher
from backend.settings import Settings
from backend.signatures import signed_headers
from backend.sms import SmsGateway
from backend.sms.fake import RecordingSmsGateway
from tests.conftest import free_port

TZ = BookingRules().tz
SECRET = "test-hospital-secret"


def new_id_number() -> str:
    """A valid resident ID number, one of about 20 million (a random birth date and serial):
    patients are shared across the test database by ID number, and a number drawn twice
    would meet another test's patient (a name mismatch, or a booking already made)."""
    r = uuid.uuid4().int
    birth = date(1940, 1, 1) + timedelta(days=r % 20000)
    return idcard.make_valid(f"110108{birth:%Y%m%d}{r // 20000 % 1000:03d}")


def new_phone() -> str:
    return f"137{uuid.uuid4().int % 10**8:08d}"


@dataclass
class Api:
    client: TestClient
    hospital_code: str
    key_id: str
    factory: sessionmaker[Session]
    sms: RecordingSmsGateway  # what citizens' phones received

    def signed_request(
        self, method: str, path: str, payload: object = None, *, secret: str = SECRET, skew: int = 0
    ) -> tuple[bytes, dict[str, str]]:
        """The body and headers a hospital sends (``signed_headers``: a new nonce each)."""
        body = b"" if payload is None else json.dumps(payload).encode()
        now = time.time() + skew
        headers = signed_headers("X-Hospital-Key", self.key_id, secret, method, path, body, now=now)
        return body, headers | {"Content-Type": "application/json"}

    def send(
        self, method: str, path: str, body: bytes, headers: dict[str, str]
    ) -> dict[str, object]:
        response = self.client.request(method, path, content=body, headers=headers)
        return {"status": response.status_code, "json": response.json()}

    def signed(
        self, method: str, path: str, payload: object = None, *, secret: str = SECRET, skew: int = 0
    ) -> dict[str, object]:
        body, headers = self.signed_request(method, path, payload, secret=secret, skew=skew)
        return self.send(method, path, body, headers)

    def account(self, phone: str = "") -> dict[str, str]:
        """A signed-in account, the way a citizen gets one: a code sent to the phone, typed."""
        phone = phone or new_phone()
        sent = self.client.post("/api/public/accounts/code", json={"phone": phone})
        assert sent.status_code == 202, sent.text
        body = {"phone": phone, "code": self.sms.last_code_to(phone)}
        created = self.client.post("/api/public/accounts", json=body)
        assert created.status_code == 201, created.text
        return {"Authorization": f"Bearer {created.json()['token']}"}

    def patient(
        self, auth: dict[str, str], id_number: str = "", name: str = "李四", phone: str = ""
    ) -> int:
        """A new patient added to the account, confirmed by the code sent to its phone."""
        number, phone = id_number or new_id_number(), phone or new_phone()
        body = {"id_number": number, "name": name, "phone": phone}
        asked = self.client.post("/api/public/patients", json=body, headers=auth)
        assert asked.status_code == 202, asked.text
        code = self.sms.last_code_to(phone)
        confirm = {"id_number": number, "code": code}
        response = self.client.post("/api/public/patients/confirm", json=confirm, headers=auth)
        assert response.status_code == 201, response.text
        return int(response.json()["id"])


def _app(
    settings: Settings,
    factory: sessionmaker[Session],
    client: redis.Redis,
    config: BookingApiConfig,
    *,
    fast_path: bool = True,
    sms: SmsGateway | None = None,
) -> FastAPI:
    """The two APIs with the performance layer (``CC_DESK_FAST_PATH``) on or off; SMS to the
    recording gateway under the test's Redis prefix (``sms_of``)."""
    settings = settings.model_copy(update={"desk_fast_path": fast_path})
    state = build_state(
        settings, factory, client, booking_api=config, sms=sms or sms_of(client, config)
    )
    app = FastAPI()
    app.state.app = state
    install_error_handlers(app)
    app.add_middleware(BodySizeLimit, limits=BodyLimits(config.rules.max_body_bytes))
    if fast_path:
        app.add_middleware(BookingFastPath, state=state)
    app.include_router(public_accounts.router)
    app.include_router(public_booking.router)
    app.include_router(hospital_api.router)
    return app


def sms_of(client: redis.Redis, config: BookingApiConfig) -> RecordingSmsGateway:
    return RecordingSmsGateway(client, config.redis_prefix)


def _hospital(settings: Settings, factory: sessionmaker[Session], name: str) -> str:
    """A new hospital signing with ``SECRET``; its code."""
    code = "h" + uuid.uuid4().hex[:8]
    cipher = PersonalDataCipher(settings.data_key.get_secret_value())
    with transaction(factory) as session:
        create_hospital(session, cipher, code=code, name=name, api_secret=SECRET)
    return code


# Every case runs twice: with the performance layer (the fast path that answers plain bookings
# in front of FastAPI, our pool and pipelined Redis: as the desk app runs by default) and with
# the standard path (the FastAPI route, asyncpg's pool, redis-py), so that the two answer alike.
@pytest.fixture(params=["fast path", "standard path"])
def api(
    request: pytest.FixtureRequest,
    settings: Settings,
    session_factory: sessionmaker[Session],
    redis_client: redis.Redis,
    redis_namespace: str,
) -> Iterator[Api]:
    config = BookingApiConfig(
        rules=BookingRules(max_body_bytes=4096, codes_per_address_hour=10**6),
        redis_prefix=f"{redis_namespace}:",
    )
    code = _hospital(settings, session_factory, "北京大学第一医院")
    app = _app(
        settings, session_factory, redis_client, config, fast_path=request.param == "fast path"
    )
    with TestClient(app) as client:
        yield Api(client, code, f"hosp-{code}", session_factory, sms_of(redis_client, config))


def schedule_payload(external_id: str, day: date, slots: int = 4) -> dict[str, object]:
    return {
        "schedules": [
            {
                "external_id": external_id,
                "department_code": "ER",
                "department_name": "儿科",
                "doctor_code": "D9",
                "doctor_name": "王晓梅",
                "doctor_title": "主任医师",
                "day": day.isoformat(),
                "session": "afternoon",
                "starts": "13:30",
                "ends": "17:00",
                "fee": "100.00",
                "slots": [
                    {
                        "seq": i,
                        "time": f"13:{30 + i:02d}",
                        "channel": "online" if i <= 2 else "phone",
                    }
                    for i in range(1, slots + 1)
                ],
            }
        ]
    }


def _today() -> date:
    return datetime.now(TZ).date()


def _push(api: Api, ext: str, day: date, slots: int = 4) -> int:
    pushed = api.signed("POST", "/api/hospital/schedules", schedule_payload(ext, day, slots))
    assert pushed["status"] == 200, pushed
    return int(pushed["json"]["schedule_ids"][ext])  # type: ignore[index]


def _push_past(api: Api, ext: str) -> int:
    """Yesterday's session, as its hospital pushed it the day before (the API refuses past
    days now)."""
    before = datetime.now(TZ) - timedelta(days=2)
    ctx = replace(api.client.app.state.app.online_booking.ctx, clock=lambda: before)  # type: ignore[attr-defined]
    day = (before + timedelta(days=1)).date()
    push = session_push(ext, ("ER", "儿科"), day, SessionOfDay.AFTERNOON, 4)
    with transaction(api.factory) as session:
        hospital_id = session.scalars(
            select(Hospital.id).where(Hospital.code == api.hospital_code)
        ).one()
        return push_schedules(session, ctx, hospital_id, [push]).schedule_ids[ext]


def test_online_flow_end_to_end(api: Api) -> None:
    schedule_id = _push(api, "E-1", _today() + timedelta(days=5))
    auth = api.account()
    patient_id = api.patient(auth)
    listed = api.client.get("/api/public/patients", headers=auth).json()
    assert listed[0]["id_number"].count("*") == 8 and "*" in listed[0]["phone"]

    hospitals = api.client.get("/api/public/hospitals", params={"q": "儿科"}).json()
    assert any(h["code"] == api.hospital_code for h in hospitals)
    hospital_id = next(h["id"] for h in hospitals if h["code"] == api.hospital_code)
    depts = api.client.get(f"/api/public/hospitals/{hospital_id}/departments").json()
    assert [d["name"] for d in depts] == ["儿科"]
    schedules = api.client.get("/api/public/schedules", params={"hospital_id": hospital_id}).json()
    assert schedules[0]["available"] == 2  # only the online share is offered online
    slots = api.client.get(f"/api/public/schedules/{schedule_id}/slots").json()
    assert [s["seq"] for s in slots] == [1, 2]

    key = {"Idempotency-Key": uuid.uuid4().hex}
    body = {"patient_id": patient_id, "schedule_id": schedule_id}
    first = api.client.post("/api/public/bookings", json=body, headers=auth | key)
    assert first.status_code == 201, first.text
    booking = first.json()
    assert booking["status_label"] == "已预约" and booking["doctor_title"] == "主任医师"
    assert booking["patient_name"] == "李*"
    retry = api.client.post("/api/public/bookings", json=body, headers=auth | key)
    assert retry.json()["code"] == booking["code"]
    other = api.client.post(
        "/api/public/bookings", json=body | {"slot_id": slots[1]["id"]}, headers=auth | key
    )
    assert other.status_code == 422 and other.json()["error"] == "idempotency-key-reused"

    mine = api.client.get("/api/public/bookings", headers=auth).json()
    assert [b["code"] for b in mine] == [booking["code"]]
    cancelled = api.client.post(f"/api/public/bookings/{booking['code']}/cancel", headers=auth)
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"

    stranger = api.account()
    refused = api.client.post(f"/api/public/bookings/{booking['code']}/cancel", headers=stranger)
    assert refused.status_code == 404 and refused.json()["error"] == "no-such-booking"
    not_mine = api.client.post("/api/public/bookings", json=body, headers=stranger)
    assert not_mine.status_code == 404 and not_mine.json()["error"] == "no-such-patient"

    feed = api.signed("GET", "/api/hospital/bookings?cursor=0")
    kinds = [i["kind"] for i in feed["json"]["items"]]  # type: ignore[index]
    assert kinds == ["booked", "cancelled"]
    assert feed["json"]["items"][0]["booking"]["id_number"].count("*") == 0  # type: ignore[index]
    after = api.signed("GET", f"/api/hospital/bookings?cursor={feed['json']['next_cursor']}")  # type: ignore[index]
    assert after["json"]["items"] == []  # type: ignore[index]
    # Each pull is on the audit trail with the bookings it revealed.
    pulls = audited(api, "hospital.feed_pull", f"hospital:{api.hospital_code}")
    assert [p.details["bookings"] for p in pulls] == [[booking["code"]], []]
    assert pulls[0].details["next_cursor"] == feed["json"]["next_cursor"]  # type: ignore[index]


def audited(api: Api, action: str, actor: str) -> list[AuditRecord]:
    with api.factory() as session:
        query = select(AuditRecord).where(AuditRecord.action == action, AuditRecord.actor == actor)
        return list(session.scalars(query.order_by(AuditRecord.id)))


def test_bad_input_gets_a_readable_4xx_and_writes_nothing(api: Api) -> None:
    auth = api.account()
    bad_id = api.client.post(
        "/api/public/patients",
        json={"id_number": "110105198001010011", "name": "王五", "phone": new_phone()},
        headers=auth,
    )
    assert bad_id.status_code == 400 and bad_id.json()["error"] == "invalid-id-number"
    assert "校验位" in bad_id.json()["message"]
    bad_phone = api.client.post(
        "/api/public/patients",
        json={"id_number": new_id_number(), "name": "王五", "phone": "12"},
        headers=auth,
    )
    assert bad_phone.status_code == 422 and bad_phone.json()["error"] == "invalid-request"

    patient_id = api.patient(auth)
    past = _push_past(api, "P-1")
    gone = api.client.post(
        "/api/public/bookings", json={"patient_id": patient_id, "schedule_id": past}, headers=auth
    )
    assert gone.status_code == 422 and gone.json()["error"] == "session-past"
    live = _push(api, "P-2", _today() + timedelta(days=3))
    unknown = api.client.post(
        "/api/public/bookings",
        json={"patient_id": patient_id, "schedule_id": live, "slot_id": 2**31 - 1},
        headers=auth,
    )
    assert unknown.status_code == 404 and unknown.json()["error"] == "no-such-slot"
    for field in ("patient_id", "schedule_id", "slot_id"):
        out_of_range = api.client.post(
            "/api/public/bookings",
            json={"patient_id": patient_id, "schedule_id": live} | {field: 10**12},
            headers=auth,
        )
        assert out_of_range.status_code == 422, out_of_range.text
        assert field in out_of_range.json()["message"]
    huge = api.client.post(
        "/api/public/bookings",
        content=b'{"patient_id": 1, "pad": "' + b"x" * 5000 + b'"}',
        headers=auth | {"Content-Type": "application/json"},
    )
    assert huge.status_code == 413 and huge.json()["error"] == "body-too-large"
    no_token = api.client.get("/api/public/bookings")
    assert no_token.status_code == 401 and "Authorization" in no_token.json()["message"]
    with api.factory() as session:
        count = session.execute(
            select(func.count()).select_from(Booking).where(Booking.patient_id == patient_id)
        ).scalar_one()
    assert count == 0  # nothing half-written by any of the refusals


def test_hospital_requests_must_be_signed(api: Api) -> None:
    payload = schedule_payload("S-1", _today() + timedelta(days=2))
    wrong = api.signed("POST", "/api/hospital/schedules", payload, secret="guess")
    assert wrong["status"] == 401 and wrong["json"]["error"] == "bad-signature"  # type: ignore[index]
    assert "签名不正确" in wrong["json"]["message"]  # type: ignore[index]
    stale = api.signed("POST", "/api/hospital/schedules", payload, skew=-3600)
    assert stale["status"] == 401 and "X-Timestamp" in stale["json"]["message"]  # type: ignore[index]
    bare = api.client.post("/api/hospital/schedules", json=payload)
    assert bare.status_code == 401
    api.key_id = "hosp-nobody"
    unknown = api.signed("POST", "/api/hospital/schedules", payload)
    assert unknown["status"] == 401 and "密钥" in unknown["json"]["message"]  # type: ignore[index]


def test_a_replayed_hospital_request_is_refused_and_audited(api: Api) -> None:
    path = "/api/hospital/bookings?cursor=0"
    body, headers = api.signed_request("GET", path)
    assert api.send("GET", path, body, headers)["status"] == 200
    # The captured request sent again within the window: refused, and on the audit trail.
    replay = api.send("GET", path, body, headers)
    assert replay["status"] == 401 and replay["json"]["error"] == "replayed-request"  # type: ignore[index]
    (refused,) = audited(api, "hospital.replay_refused", f"hospital:{api.hospital_code}")
    assert refused.details["nonce"] == headers["X-Nonce"] and refused.details["path"] == path
    assert len(audited(api, "hospital.feed_pull", f"hospital:{api.hospital_code}")) == 1
    # The nonce is signed: a replay with a fresh one does not check out; none at all neither.
    swapped = api.send("GET", path, body, headers | {"X-Nonce": uuid.uuid4().hex})
    assert swapped["status"] == 401 and "签名不正确" in swapped["json"]["message"]  # type: ignore[index]
    bare = {k: v for k, v in headers.items() if k != "X-Nonce"}
    missing = api.send("GET", path, body, bare)
    assert missing["status"] == 401 and "X-Nonce" in missing["json"]["message"]  # type: ignore[index]
    # The hospital's next request, newly signed, is served.
    assert api.signed("GET", path)["status"] == 200


def test_a_stopped_session_lists_patients_to_notify(api: Api) -> None:
    schedule_id = _push(api, "X-1", _today() + timedelta(days=4))
    codes = []
    for _ in range(2):  # the session's two online slots
        auth = api.account()
        patient_id = api.patient(auth)
        booked = api.client.post(
            "/api/public/bookings",
            json={"patient_id": patient_id, "schedule_id": schedule_id},
            headers=auth,
        ).json()
        assert "code" in booked, booked
        codes.append(booked["code"])
    # A change to an indexed column writes the first booking's row anew, behind the second in
    # the table and in the indexes: the list still comes in booking order.
    with transaction(api.factory) as session:
        first = session.scalars(select(Booking).where(Booking.code == codes[0])).one()
        first.booked_at += timedelta(microseconds=1)
    stopped = api.signed("POST", "/api/hospital/schedules/X-1/stop", {"reason": "医生临时出差"})
    assert stopped["status"] == 200
    affected = stopped["json"]["affected"]  # type: ignore[index]
    assert [a["code"] for a in affected] == codes
    assert "*" not in affected[0]["phone"]  # the hospital must be able to call
    again = api.client.post(
        "/api/public/bookings",
        json={"patient_id": patient_id, "schedule_id": schedule_id},
        headers=auth,
    )
    assert again.json()["error"] == "session-stopped"
    early = api.signed(
        "POST", f"/api/hospital/bookings/{booked['code']}/attendance", {"attended": False}
    )
    assert early["status"] == 422 and early["json"]["error"] == "not-reportable"  # type: ignore[index]


@pytest.mark.parametrize("fast_path", [True, False], ids=["fast path", "standard path"])
def test_brushing_clients_are_throttled(
    fast_path: bool,
    settings: Settings,
    session_factory: sessionmaker[Session],
    redis_client: redis.Redis,
    redis_namespace: str,
) -> None:
    config = BookingApiConfig(
        rules=BookingRules(rate_limit_requests=5), redis_prefix=f"{redis_namespace}:rl:"
    )
    # The count starts again at each window's edge (60 s, on the clock): the requests below
    # must fall in one window, so a test started in its last seconds waits for the next.
    window = config.rules.rate_limit_window_seconds
    left = window - time.time() % window
    if left < 10:
        time.sleep(left + 0.05)
    app = _app(settings, session_factory, redis_client, config, fast_path=fast_path)
    with TestClient(app) as client:
        statuses = [client.get("/api/public/hospitals").status_code for _ in range(6)]
        assert statuses == [200] * 5 + [429]
        last = client.get("/api/public/hospitals")
        assert 1 <= int(last.headers["Retry-After"]) <= 60
        assert last.json()["error"] == "rate-limited"


@pytest.mark.parametrize("fast_path", [True, False], ids=["fast path", "standard path"])
def test_an_unreachable_redis_is_a_503_with_a_reason(
    fast_path: bool,
    settings: Settings,
    session_factory: sessionmaker[Session],
    redis_client: redis.Redis,
    redis_namespace: str,
) -> None:
    # The request counter lives in Redis: without it the API refuses plainly instead of
    # serving uncounted requests or failing with a 500.
    gone = settings.model_copy(update={"redis_url": f"redis://127.0.0.1:{free_port()}/0"})
    config = BookingApiConfig(rules=BookingRules(), redis_prefix=f"{redis_namespace}:gone:")
    app = _app(gone, session_factory, redis_client, config, fast_path=fast_path)
    with TestClient(app) as client:
        for response in (
            client.get("/api/public/hospitals"),
            client.post("/api/public/bookings", json={}, headers={"Authorization": "Bearer x"}),
        ):
            assert response.status_code == 503
            assert response.json() == {
                "error": "unavailable",
                "message": "服务暂时不可用，请稍后再试",
            }


@pytest.mark.parametrize("fast_path", [True, False], ids=["fast path", "standard path"])
def test_the_desk_app_answers_bookings_in_front_of_its_stack_with_the_security_headers(
    fast_path: bool,
    settings: Settings,
    session_factory: sessionmaker[Session],
    redis_client: redis.Redis,
) -> None:
    settings = settings.model_copy(update={"desk_fast_path": fast_path})
    app = create_app(settings, session_factory=session_factory, redis_client=redis_client)
    # With the setting, in front of FastAPI.__call__; without it, the route answers.
    assert isinstance(app.booking_fast_path, BookingFastPath) is fast_path
    with TestClient(app) as client:
        refused = client.post(
            "/api/public/bookings",
            json={"patient_id": 1, "schedule_id": 1},
            headers={"Authorization": "Bearer no-such-account"},
        )
        page = client.get("/healthz")
    assert refused.status_code == 401 and refused.json()["error"] == "unauthorized"
    for response in (refused, page):
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["X-Frame-Options"] == "DENY"
        assert response.headers["Referrer-Policy"] == "same-origin"


def test_the_desk_app_mounts_both_apis_in_its_openapi(
    settings: Settings, session_factory: sessionmaker[Session], redis_client: redis.Redis
) -> None:
    app = create_app(settings, session_factory=session_factory, redis_client=redis_client)
    paths = TestClient(app).get("/openapi.json").json()["paths"]
    assert "/api/public/bookings" in paths
    assert "/api/hospital/schedules/{external_id}/stop" in paths
    params = {p["name"] for p in paths["/api/hospital/schedules"]["post"]["parameters"]}
    assert {"x-hospital-key", "x-timestamp", "x-signature"} <= params


def test_registering_twice_keeps_one_real_name_patient(api: Api) -> None:
    auth = api.account()
    number, phone = new_id_number(), new_phone()
    first = api.patient(auth, number, "赵六", phone)
    # Known now: the second code goes to the phone registered first.
    assert api.patient(auth, number, "赵六", phone) == first
    assert [p["id"] for p in api.client.get("/api/public/patients", headers=auth).json()] == [first]


def test_the_fast_path_answers_as_the_route_does(
    settings: Settings,
    session_factory: sessionmaker[Session],
    redis_client: redis.Redis,
    redis_namespace: str,
) -> None:
    config = BookingApiConfig(
        rules=BookingRules(max_body_bytes=4096, codes_per_address_hour=10**6),
        redis_prefix=f"{redis_namespace}:alike:",
    )
    code = _hospital(settings, session_factory, "北京朝阳医院")
    fast_app = _app(settings, session_factory, redis_client, config, fast_path=True)
    route_app = _app(settings, session_factory, redis_client, config, fast_path=False)
    with TestClient(fast_app) as fast, TestClient(route_app) as route:
        api = Api(fast, code, f"hosp-{code}", session_factory, sms_of(redis_client, config))
        schedule = _push(api, "A-1", _today() + timedelta(days=3))
        past = _push_past(api, "A-0")
        auth = api.account()
        patients = [api.patient(auth), api.patient(auth)]
        refusals: list[tuple[dict[str, str], object]] = [
            ({}, {"patient_id": patients[0], "schedule_id": schedule}),
            ({"Authorization": "Basic abc"}, {"patient_id": patients[0], "schedule_id": schedule}),
            ({"Authorization": "Bearer not-a-token"}, {"patient_id": 1, "schedule_id": schedule}),
            (auth, {"patient_id": patients[0]}),
            (auth, {"patient_id": patients[0], "schedule_id": 10**12}),
            (auth, {"patient_id": "one", "schedule_id": schedule}),
            (auth, {"patient_id": patients[0], "schedule_id": past}),
            (auth, {"patient_id": patients[0] + 10**6, "schedule_id": schedule}),
            (auth, {"patient_id": patients[0], "schedule_id": schedule, "pad": "x" * 5000}),
        ]
        for headers, body in refusals:
            by_fast = fast.post("/api/public/bookings", json=body, headers=headers)
            by_route = route.post("/api/public/bookings", json=body, headers=headers)
            assert by_fast.status_code >= 400, body
            assert (by_fast.status_code, by_fast.json()) == (by_route.status_code, by_route.json())

        booked = [
            client.post(
                "/api/public/bookings",
                json={"patient_id": patient, "schedule_id": schedule},
                headers=auth,
            )
            for client, patient in ((fast, patients[0]), (route, patients[1]))
        ]
    assert [b.status_code for b in booked] == [201, 201]
    assert booked[0].headers["content-type"] == booked[1].headers["content-type"]
    per_booking = {"code", "slot_seq", "slot_time", "booked_at", "id_number", "phone"}
    same = [{k: v for k, v in b.json().items() if k not in per_booking} for b in booked]
    assert same[0] == same[1] and same[0]["patient_name"] == "李*"
    assert booked[0].json().keys() == booked[1].json().keys()
