"""Request bodies are limited on every route, before anything parses them (413
``body-too-large``): the routes anybody can reach without a session first — sign-in, the
online booking API, the 12345 platform — then the desk's own APIs and any other path (the
hospitals' API checks its headers first and has a limit of its own:
tests/integration/test_hospital_contract.py). A body declared too long is refused at once, one streamed without a length
as soon as it grows past the limit; a body within the limit is served as before."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from agent_desk.auth.guard import COOKIE
from agent_desk.body_limit import AUTH_MAX_BODY_BYTES
from backend.booking.rules import BookingRules
from backend.models.users import Role
from backend.settings import Settings
from tests.desk_support import desk_settings, login, make_user

DESK_LIMIT = 16 * 1024
PLATFORM_LIMIT = 64 * 1024
PARTNER_LIMIT = BookingRules().max_body_bytes


@pytest.fixture()
def desk_app_settings(settings: Settings, redis_namespace: str) -> Settings:
    return desk_settings(
        settings,
        redis_namespace,
        desk_max_body_bytes=DESK_LIMIT,
        city_platform_max_body_bytes=PLATFORM_LIMIT,
    )


def padded(size: int) -> bytes:
    """A JSON object of exactly ``size`` bytes."""
    head, tail = b'{"pad": "', b'"}'
    return head + b"x" * (size - len(head) - len(tail)) + tail


def streamed(body: bytes) -> Iterator[bytes]:
    """The body in pieces, sent without a Content-Length (chunked)."""
    for start in range(0, len(body), 1024):
        yield body[start : start + 1024]


def assert_too_large(response: object, limit: int) -> None:
    status, payload = response.status_code, response.json()  # type: ignore[attr-defined]
    assert (status, payload["error"]) == (413, "body-too-large"), payload
    assert str(limit) in payload["message"]


JSON = {"Content-Type": "application/json"}


@pytest.mark.parametrize(
    ("path", "limit"),
    [
        ("/api/auth/login", AUTH_MAX_BODY_BYTES),
        ("/api/public/accounts", PARTNER_LIMIT),
        ("/api/city-platform/orders", PLATFORM_LIMIT),
        ("/api/workorders", DESK_LIMIT),  # a desk API, asked without a session
        ("/api/no-such-route", DESK_LIMIT),
    ],
)
def test_unauthenticated_routes_refuse_a_big_body_before_anything_reads_it(
    desk_client: TestClient, path: str, limit: int
) -> None:
    declared = desk_client.post(path, content=padded(limit + 1), headers=JSON)
    assert_too_large(declared, limit)
    chunked = desk_client.post(path, content=streamed(padded(limit + 1)), headers=JSON)
    assert_too_large(chunked, limit)
    # Within the limit the route itself answers (no session, no signature: not 413).
    within = desk_client.post(path, content=padded(limit), headers=JSON)
    assert within.status_code != 413


def test_big_sign_in_bodies_neither_lock_the_account_nor_stop_a_normal_sign_in(
    desk_client: TestClient, session_factory: sessionmaker[Session]
) -> None:
    user = make_user(session_factory, Role.AGENT)
    pad = "x" * AUTH_MAX_BODY_BYTES
    for _ in range(5):  # more than the lockout threshold (3): none of them is a try
        huge = desk_client.post(
            "/api/auth/login",
            json={"username": user.username, "password": "wrong", "pad": pad},
        )
        assert_too_large(huge, AUTH_MAX_BODY_BYTES)
    assert login(desk_client, user)["stage"] == "ready"


def test_the_desk_apis_limit_bodies_of_signed_in_users_and_serve_the_rest(
    desk_client: TestClient, session_factory: sessionmaker[Session]
) -> None:
    login(desk_client, make_user(session_factory, Role.AGENT))
    assert desk_client.cookies.get(COOKIE)
    marker = uuid.uuid4().hex[:8]
    order = {"title": f"医保报销咨询{marker}", "description": "市民来电咨询。" * 600}
    big = desk_client.post("/api/workorders", json=order | {"description": "长" * DESK_LIMIT})
    assert_too_large(big, DESK_LIMIT)
    served = desk_client.post("/api/workorders", json=order)  # about 11 KB
    assert served.status_code == 201, served.text
    assert served.json()["title"] == f"医保报销咨询{marker}"
