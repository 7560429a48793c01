"""``callcenter desk`` serving the public booking API with the performance layer on and off
(``CC_DESK_FAST_PATH``): uvloop with the desk's HTTP protocol, the fast path, our pool and
pipelined Redis; or uvicorn as it comes, the FastAPI route, asyncpg's pool and redis-py.
An account is opened by the code the SMS gateway took (counted in Redis, written through
SQLAlchemy) and a booking for a
patient the account does not manage is refused (the online booking's own transaction, on
the asyncpg connections), alike on both."""

from __future__ import annotations

import http.client
import json
import os
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from backend.settings import Settings
from backend.sms.fake import RecordingSmsGateway
from tests.conftest import free_port
from tests.desk_process import start_desk, stop_desk


@pytest.fixture(params=["true", "false"], ids=["fast path", "standard path"])
def desk_port(
    request: pytest.FixtureRequest, settings: Settings, run_id: str, tmp_path: Path
) -> Iterator[int]:
    port = free_port()
    env = {
        **os.environ,
        "CC_DATABASE_URL": settings.database_url,
        "CC_REDIS_URL": settings.redis_url,
        "CC_DESK_BIND": "127.0.0.1",
        "CC_DESK_PORT": str(port),
        "CC_DESK_FAST_PATH": request.param,
        "CC_DESK_REDIS_PREFIX": f"serving-{run_id}",
        "CC_BOOKING_REDIS_PREFIX": f"serving-{run_id}:",
        "CC_SMS_FAKE_REDIS_PREFIX": f"serving-{run_id}:sms:",
        "CC_STATE_DIR": str(tmp_path),
    }
    log = tmp_path / "desk.log"
    proc = start_desk(env, log)
    try:
        deadline = time.monotonic() + 60
        while call(port, "GET", "/healthz")[0] != 200:
            assert proc.poll() is None and time.monotonic() < deadline, log.read_text()
            time.sleep(0.2)
        yield port
    finally:
        stop_desk(proc)


def call(
    port: int, method: str, path: str, body: object = None, token: str = ""
) -> tuple[int, dict[str, object]]:
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request(method, path, body=json.dumps(body) if body else None, headers=headers)
        reply = conn.getresponse()
        payload = reply.read()
    except OSError:
        return 0, {}
    finally:
        conn.close()
    return reply.status, json.loads(payload) if payload.startswith(b"{") else {}


def test_the_desk_serves_the_booking_api_either_way(
    desk_port: int, settings: Settings, run_id: str
) -> None:
    phone = f"139{uuid.uuid4().int % 10**8:08d}"
    status, sent = call(desk_port, "POST", "/api/public/accounts/code", {"phone": phone})
    assert status == 202, sent
    client = redis.Redis.from_url(settings.redis_url, decode_responses=True)
    try:
        code = RecordingSmsGateway(client, f"serving-{run_id}:sms:").last_code_to(phone)
    finally:
        client.close()
    opening = {"phone": phone, "code": code}
    status, account = call(desk_port, "POST", "/api/public/accounts", opening)
    assert status == 201, account
    token = str(account["token"])
    status, refused = call(
        desk_port,
        "POST",
        "/api/public/bookings",
        {"patient_id": 2**31 - 1, "schedule_id": 1},
        token,
    )
    assert (status, refused["error"]) == (404, "no-such-patient"), refused
    booking = {"patient_id": 1, "schedule_id": 1}
    status, unknown = call(desk_port, "POST", "/api/public/bookings", booking, "no-such-token")
    assert (status, unknown["error"]) == (401, "unauthorized"), unknown
    status, invalid = call(desk_port, "POST", "/api/public/bookings", {"schedule_id": 1}, token)
    assert (status, invalid["error"]) == (422, "invalid-request"), invalid
