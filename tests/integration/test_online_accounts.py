"""Online accounts and their patients are proved by SMS codes (issue 18, item 1): each misuse
refused (and audited), the normal use still working. Codes are read where a citizen reads
them: from the messages the recording SMS gateway took for the phone."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
import redis
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from backend.booking.api_config import BookingApiConfig
from backend.booking.one_time_codes import CodeRefused
from backend.booking.rules import BookingRules
from backend.models.audit import AuditRecord
from backend.settings import Settings
from tests.integration.test_booking_api import (
    Api,
    _app,
    _hospital,
    _push,
    _today,
    audited,
    new_id_number,
    new_phone,
    sms_of,
)

RULES = BookingRules(code_max_attempts=3, codes_per_address_hour=10**6)


def _api(
    settings: Settings,
    factory: sessionmaker[Session],
    client: redis.Redis,
    prefix: str,
    rules: BookingRules = RULES,
) -> Iterator[Api]:
    config = BookingApiConfig(rules=rules, redis_prefix=prefix)
    code = _hospital(settings, factory, "北京儿童医院")
    app = _app(settings, factory, client, config, fast_path=False)
    with TestClient(app) as test_client:
        yield Api(test_client, code, f"hosp-{code}", factory, sms_of(client, config))


@pytest.fixture()
def api(
    settings: Settings,
    session_factory: sessionmaker[Session],
    redis_client: redis.Redis,
    redis_namespace: str,
) -> Iterator[Api]:
    yield from _api(settings, session_factory, redis_client, f"{redis_namespace}:acc:")


def last_audit(api: Api) -> int:
    with api.factory() as session:
        return int(session.execute(select(func.max(AuditRecord.id))).scalar_one() or 0)


def audited_since(api: Api, mark: int, action: str) -> list[AuditRecord]:
    """This test's audit records of ``action`` (tests share the database)."""
    with api.factory() as session:
        query = select(AuditRecord).where(AuditRecord.id > mark, AuditRecord.action == action)
        return list(session.scalars(query.order_by(AuditRecord.id)))


def ask_code(api: Api, phone: str) -> tuple[int, dict[str, object]]:
    sent = api.client.post("/api/public/accounts/code", json={"phone": phone})
    return sent.status_code, sent.json()


def sign_in(api: Api, phone: str, code: str) -> tuple[int, dict[str, object]]:
    answer = api.client.post("/api/public/accounts", json={"phone": phone, "code": code})
    return answer.status_code, answer.json()


def other_code(code: str) -> str:
    return f"{(int(code) + 1) % 10**6:06d}"


def test_an_account_opens_only_with_the_code_sent_to_its_phone(
    api: Api, redis_client: redis.Redis, redis_namespace: str
) -> None:
    mark, phone = last_audit(api), new_phone()
    no_code = api.client.post("/api/public/accounts", json={"phone": phone})
    assert (no_code.status_code, no_code.json()["error"]) == (422, "invalid-request")
    assert sign_in(api, phone, "123456")[1]["error"] == "sms-code-expired"  # none asked for

    assert ask_code(api, phone) == (202, {"expires_in": RULES.code_ttl_seconds})
    code = api.sms.last_code_to(phone)
    assert sign_in(api, phone, "12ab56")[1]["error"] == "bad-sms-code"
    status, wrong = sign_in(api, phone, other_code(code))
    assert (status, wrong["error"]) == (422, "sms-code-wrong") and "2次" in str(wrong["message"])
    # Redis keeps the code's keyed hash only: the six digits are nowhere in it.
    for key in redis_client.scan_iter(f"{redis_namespace}:acc:otp*"):
        kept = redis_client.hgetall(key) if redis_client.type(key) == "hash" else {}
        assert code not in str(kept) and code not in key

    status, opened = sign_in(api, phone, code)
    assert status == 201 and opened["token"]
    assert sign_in(api, phone, code)[1]["error"] == "sms-code-expired"  # single use
    auth = {"Authorization": f"Bearer {opened['token']}"}
    assert api.client.get("/api/public/patients", headers=auth).json() == []
    # Signing in again (a new code) is the same account, and the old token stops working.
    assert ask_code(api, phone)[0] == 202
    status, again = sign_in(api, phone, api.sms.last_code_to(phone))
    assert (status, again["account_id"]) == (201, opened["account_id"])
    assert api.client.get("/api/public/patients", headers=auth).status_code == 401
    refusals = audited_since(api, mark, "account.code_refused")
    assert [r.details["error"] for r in refusals] == [
        "sms-code-expired", "sms-code-wrong", "sms-code-expired"
    ]  # fmt: skip
    assert all(r.target.startswith("phone:") and r.source_ip for r in refusals)
    signed_in = audited_since(api, mark, "account.signed_in")
    assert [r.target for r in signed_in] == [f"account:{opened['account_id']}"] * 2


def test_wrong_codes_use_the_code_up(api: Api) -> None:
    mark, phone = last_audit(api), new_phone()
    ask_code(api, phone)
    code = api.sms.last_code_to(phone)
    answers = [sign_in(api, phone, other_code(code)) for _ in range(RULES.code_max_attempts)]
    assert [a[1]["error"] for a in answers] == [
        "sms-code-wrong",
        "sms-code-wrong",
        "sms-code-locked",
    ]
    assert answers[-1][0] == 429
    assert sign_in(api, phone, code)[1]["error"] == "sms-code-expired"  # destroyed, not open
    refusals = audited_since(api, mark, "account.code_refused")
    assert [r.details["error"] for r in refusals][-2:] == ["sms-code-locked", "sms-code-expired"]
    # A new code only after the resend interval: guessing cannot go on at once.
    assert ask_code(api, phone)[1]["error"] == "sms-code-too-soon"


def test_codes_expire(
    settings: Settings,
    session_factory: sessionmaker[Session],
    redis_client: redis.Redis,
    redis_namespace: str,
) -> None:
    rules = BookingRules(code_ttl_seconds=1, codes_per_address_hour=10**6)
    prefix = f"{redis_namespace}:ttl:"
    for api in _api(settings, session_factory, redis_client, prefix, rules):
        phone = new_phone()
        assert ask_code(api, phone) == (202, {"expires_in": 1})
        code = api.sms.last_code_to(phone)
        time.sleep(2.1)  # Redis forgets it after its second
        assert sign_in(api, phone, code)[1]["error"] == "sms-code-expired"


def test_codes_are_limited_per_phone_and_per_address(
    settings: Settings,
    session_factory: sessionmaker[Session],
    redis_client: redis.Redis,
    redis_namespace: str,
) -> None:
    rules = BookingRules(code_resend_seconds=0, codes_per_phone_hour=2, codes_per_address_hour=4)
    for api in _api(settings, session_factory, redis_client, f"{redis_namespace}:lim:", rules):
        mark, bombed = last_audit(api), new_phone()
        answers = [ask_code(api, bombed) for _ in range(3)]
        assert [a[0] for a in answers] == [202, 202, 429]
        assert answers[2][1]["error"] == "sms-code-limit"
        assert len(api.sms.messages_to(bombed)) == 2
        others = [new_phone() for _ in range(3)]
        answers = [ask_code(api, phone) for phone in others]
        assert [a[0] for a in answers] == [202, 202, 429]  # the address's fourth and fifth
        assert api.sms.messages_to(others[2]) == []
        limited = audited_since(api, mark, "account.code_refused")
        assert [r.details["error"] for r in limited] == ["sms-code-limit"] * 2


def test_a_second_code_waits_for_the_resend_interval(api: Api) -> None:
    phone = new_phone()
    assert ask_code(api, phone)[0] == 202
    again = api.client.post("/api/public/accounts/code", json={"phone": phone})
    assert (again.status_code, again.json()["error"]) == (429, "sms-code-too-soon")
    assert 0 < int(again.headers["Retry-After"]) <= RULES.code_resend_seconds
    assert len(api.sms.messages_to(phone)) == 1


def add_patient(api: Api, auth: dict[str, str], number: str, name: str, phone: str) -> object:
    body = {"id_number": number, "name": name, "phone": phone}
    asked = api.client.post("/api/public/patients", json=body, headers=auth)
    return asked.status_code, asked.json()


def confirm(
    api: Api, auth: dict[str, str], number: str, code: str
) -> tuple[int, dict[str, object]]:
    body = {"id_number": number, "code": code}
    answer = api.client.post("/api/public/patients/confirm", json=body, headers=auth)
    return answer.status_code, answer.json()


def test_a_registered_patient_is_linked_only_by_a_code_to_its_own_phone(api: Api) -> None:
    owner, own_phone, number = api.account(), new_phone(), new_id_number()
    patient_id = api.patient(owner, number, "孙八", own_phone)
    intruder, intruder_phone = api.account(), new_phone()
    sent_before = len(api.sms.messages_to(own_phone))
    assert add_patient(api, intruder, number, "孙八", intruder_phone) == (
        202,
        {"expires_in": RULES.code_ttl_seconds},
    )
    assert api.sms.messages_to(intruder_phone) == []  # the code went to the patient's phone
    assert len(api.sms.messages_to(own_phone)) == sent_before + 1
    guessed = confirm(api, intruder, number, "000000")
    assert guessed[1]["error"] in ("sms-code-wrong", "sms-code-expired")
    assert api.client.get("/api/public/patients", headers=intruder).json() == []
    # A family member the patient tells the code to is linked.
    family = api.account()
    add_patient(api, family, number, "孙八", new_phone())
    status, linked = confirm(api, family, number, api.sms.last_code_to(own_phone))
    assert (status, linked["id"]) == (201, patient_id)
    assert [p["id"] for p in api.client.get("/api/public/patients", headers=family).json()] == [
        patient_id
    ]


def test_a_wrong_name_is_answered_as_an_unknown_id_number(api: Api) -> None:
    owner, own_phone, number = api.account(), new_phone(), new_id_number()
    api.patient(owner, number, "周九", own_phone)
    prober = api.account()
    sent_before = len(api.sms.messages_to(own_phone))
    wrong_name = add_patient(api, prober, number, "吴十", new_phone())
    unknown = add_patient(api, prober, new_id_number(), "吴十", new_phone())
    assert wrong_name == unknown == (202, {"expires_in": RULES.code_ttl_seconds})
    assert len(api.sms.messages_to(own_phone)) == sent_before  # nothing sent for a wrong name
    # No code opens it: a guess is answered like any wrong code.
    assert confirm(api, prober, number, "123456") == (
        422,
        {"error": "sms-code-wrong", "message": "验证码不正确，还可再试2次"},
    )
    mismatches = audited(api, "patient.name_mismatch", prober_actor(api, prober))
    assert len(mismatches) == 1 and mismatches[0].details["id_number"].count("*") > 0


def prober_actor(api: Api, auth: dict[str, str]) -> str:
    """The audit actor of an account (``account:<id>``), found from its token."""
    token = auth["Authorization"].removeprefix("Bearer ")
    service = api.client.app.state.app.online_booking  # type: ignore[attr-defined]
    return f"account:{service.signed_in_account(token)}"


def test_bookings_are_seen_and_cancelled_only_by_the_account_that_made_them(api: Api) -> None:
    schedule = _push(api, "ACC-1", _today() + timedelta(days=4))
    booker, phone, number = api.account(), new_phone(), new_id_number()
    patient_id = api.patient(booker, number, "郑一", phone)
    relative = api.account()
    assert api.patient(relative, number, "郑一", phone) == patient_id  # manages the patient too
    body = {"patient_id": patient_id, "schedule_id": schedule}
    booked = api.client.post("/api/public/bookings", json=body, headers=booker)
    assert booked.status_code == 201, booked.text
    code = booked.json()["code"]

    assert api.client.get("/api/public/bookings", headers=relative).json() == []
    refused = api.client.post(f"/api/public/bookings/{code}/cancel", headers=relative)
    assert (refused.status_code, refused.json()["error"]) == (404, "no-such-booking")
    assert [b["code"] for b in api.client.get("/api/public/bookings", headers=booker).json()] == [
        code
    ]
    cancelled = api.client.post(f"/api/public/bookings/{code}/cancel", headers=booker)
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"


def test_the_same_code_sent_twice_at_once_opens_once(api: Api) -> None:
    """Two identical requests racing (a double tap): one account and token, the other told
    the code is used, neither a 500."""
    phone = new_phone()
    ask_code(api, phone)
    code = api.sms.last_code_to(phone)
    accounts = api.client.app.state.app.online_accounts  # type: ignore[attr-defined]
    start = threading.Barrier(2)

    def redeem() -> str:
        start.wait()
        try:
            accounts.open_account(phone, code, "127.0.0.1")
        except CodeRefused as exc:
            return exc.code
        return "opened"

    with ThreadPoolExecutor(2) as pool:
        outcomes = sorted(pool.map(lambda _: redeem(), range(2)))
    assert outcomes == ["opened", "sms-code-expired"]
