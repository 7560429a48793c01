"""The sign-in throttle on the real desk app, PostgreSQL and Redis: failed sign-ins per user
name and per client address, refused with 429 before the password is even checked, audited
once per window; successful sign-ins use up nothing."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator

import pytest
import redis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from agent_desk.app import create_app
from agent_desk.auth import service
from backend.models.audit import AuditRecord
from backend.models.users import Role
from backend.settings import Settings
from tests.desk_support import LOCAL, PASSWORD, desk_settings, login, make_user

OTHER = ("10.9.8.7", 40000)
# Names nobody has, of this run only: the audit records of other tests' guesses stay theirs.
TAG = uuid.uuid4().hex[:8]
NOBODY = f"nobody-{TAG}"


@pytest.fixture()
def app_with(
    settings: Settings,
    redis_namespace: str,
    session_factory: sessionmaker[Session],
    redis_client: redis.Redis,
) -> Callable[..., FastAPI]:
    """The desk app with the given throttle limits (the account lockout out of the way:
    these tests are about the throttle)."""

    def make(**limits: int) -> FastAPI:
        tuned = desk_settings(settings, redis_namespace, lockout_threshold=100, **limits)
        return create_app(tuned, session_factory=session_factory, redis_client=redis_client)

    return make


@pytest.fixture()
def password_checks(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Every Argon2 verification a sign-in does, counted (the real one still runs)."""
    checks: list[str] = []
    real = service.verify_password

    def counted(password_hash: str, password: str) -> bool:
        checks.append(password)
        return real(password_hash, password)

    monkeypatch.setattr(service, "verify_password", counted)
    yield checks


def sign_in(client: TestClient, username: str, password: str) -> tuple[int, dict[str, str]]:
    reply = client.post("/api/auth/login", json={"username": username, "password": password})
    return reply.status_code, {**reply.json(), "retry-after": reply.headers.get("retry-after", "")}


def throttled_records(factory: sessionmaker[Session], actor: str) -> list[AuditRecord]:
    with factory() as db:
        return list(
            db.scalars(
                select(AuditRecord).where(
                    AuditRecord.actor == actor, AuditRecord.action == "auth.login_throttled"
                )
            )
        )


def test_a_user_name_guessed_too_often_is_refused_before_the_password_is_checked(
    app_with: Callable[..., FastAPI],
    session_factory: sessionmaker[Session],
    password_checks: list[str],
) -> None:
    app = app_with(login_throttle_per_username=3)
    user = make_user(session_factory, Role.AGENT)
    with TestClient(app, client=LOCAL) as local, TestClient(app, client=OTHER) as other:
        for guess in ("Guess-one-1", "Guess-two-2", "Guess-three-3"):
            assert sign_in(local, user.username, guess)[0] == 401
        assert len(password_checks) == 3
        # The right password now, and from another address: refused all the same, unchecked.
        for client, password in ((local, PASSWORD), (other, PASSWORD), (other, "Guess-4-x")):
            status, body = sign_in(client, user.username, password)
            assert status == 429 and body["error"] == "login-throttled"
            assert 0 < int(body["retry-after"]) <= 600 and "秒后再试" in body["message"]
        assert len(password_checks) == 3
        assert local.cookies.get("cc_desk") is None
        # A name that does not exist answers exactly alike: the throttle tells nothing.
        for guess in ("Guess-one-1", "Guess-two-2", "Guess-three-3"):
            assert sign_in(local, NOBODY, guess)[0] == 401
        assert sign_in(local, NOBODY, "Guess-4-x")[1]["error"] == "login-throttled"
        # Another user from the same address signs in as usual.
        assert login(local, make_user(session_factory, Role.AGENT))["stage"] == "ready"
    (record,) = throttled_records(session_factory, user.username)  # once, not per attempt
    assert record.details["by"] == "username" and record.source_ip == "127.0.0.1"


def test_an_address_trying_many_names_is_refused_and_other_addresses_are_not(
    app_with: Callable[..., FastAPI],
    session_factory: sessionmaker[Session],
    password_checks: list[str],
) -> None:
    app = app_with(login_throttle_per_address=3)
    user = make_user(session_factory, Role.AGENT)
    with TestClient(app, client=OTHER) as sprayer, TestClient(app, client=LOCAL) as local:
        for name in (f"admin{TAG}", f"root{TAG}", f"operator{TAG}"):
            assert sign_in(sprayer, name, "Spring2026!x")[0] == 401
        status, body = sign_in(sprayer, user.username, PASSWORD)
        assert status == 429 and body["error"] == "login-throttled"
        assert len(password_checks) == 3
        assert login(local, user)["stage"] == "ready"
    (record,) = throttled_records(session_factory, user.username)
    assert record.details["by"] == "address" and record.source_ip == OTHER[0]


def test_successful_sign_ins_from_one_address_use_up_nothing(
    app_with: Callable[..., FastAPI], session_factory: sessionmaker[Session]
) -> None:
    app = app_with(login_throttle_per_address=2)
    with TestClient(app, client=LOCAL) as client:
        assert sign_in(client, NOBODY, "Wrong-pass-1")[0] == 401
        for _ in range(4):  # a shift signing in behind one address
            assert login(client, make_user(session_factory, Role.AGENT))["stage"] == "ready"
            client.cookies.clear()
        assert sign_in(client, NOBODY, "Wrong-pass-1")[0] == 401
        assert sign_in(client, NOBODY, "Wrong-pass-1")[0] == 429


PROXY = ("10.0.0.5", 40000)


def test_a_forged_forwarded_for_from_a_peer_that_is_no_proxy_does_not_evade_the_throttle(
    app_with: Callable[..., FastAPI], session_factory: sessionmaker[Session]
) -> None:
    app = app_with(login_throttle_per_address=2, trusted_proxies="10.0.0.5/32")
    user = make_user(session_factory, Role.AGENT)
    with TestClient(app, client=OTHER) as forger:
        for n in range(2):
            forger.headers["X-Forwarded-For"] = f"198.51.100.{n}"
            assert sign_in(forger, f"name{n}{TAG}", "Wrong-pass-1")[0] == 401
        forger.headers["X-Forwarded-For"] = "198.51.100.77"
        assert sign_in(forger, user.username, PASSWORD)[1]["error"] == "login-throttled"
    (record,) = throttled_records(session_factory, user.username)
    assert record.source_ip == OTHER[0]  # the peer, never the forged address


def test_behind_a_listed_proxy_each_client_is_counted_by_its_forwarded_address(
    app_with: Callable[..., FastAPI], session_factory: sessionmaker[Session]
) -> None:
    app = app_with(login_throttle_per_address=2, trusted_proxies="10.0.0.0/24")
    user = make_user(session_factory, Role.AGENT)
    with TestClient(app, client=PROXY) as proxy:
        # What the client wrote itself stands left of what the proxies appended: not believed.
        proxy.headers["X-Forwarded-For"] = "192.0.2.1, 203.0.113.9, 10.0.0.7"
        for name in (f"admin{TAG}", f"root{TAG}"):
            assert sign_in(proxy, name, "Wrong-pass-1")[0] == 401
        assert sign_in(proxy, user.username, PASSWORD)[1]["error"] == "login-throttled"
        proxy.headers["X-Forwarded-For"] = "203.0.113.10"  # another client, same proxy
        assert login(proxy, user)["stage"] == "ready"
    (record,) = throttled_records(session_factory, user.username)
    assert record.source_ip == "203.0.113.9"
    with session_factory() as db:
        signed_in = db.scalars(
            select(AuditRecord).where(
                AuditRecord.actor == user.username, AuditRecord.action == "auth.login"
            )
        ).one()
    assert signed_in.source_ip == "203.0.113.10"
