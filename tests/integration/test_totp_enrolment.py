"""First TOTP enrolment only through a one-time link an administrator issues: the password
alone binds no authenticator; a link works once, for its own user, and a newer one voids it.
On the real desk app, PostgreSQL and Redis."""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

import pyotp
import redis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from backend.db import transaction
from backend.models.audit import AuditRecord
from backend.models.users import Role, User
from backend.personal_data import PersonalDataCipher
from backend.settings import Settings
from tests.desk_support import LOCAL, PASSWORD, DeskUser, login, make_user
from tests.stack_process import run_cli


def without_secret(factory: sessionmaker[Session], role: Role) -> DeskUser:
    """A user whose second factor an administrator has reset (or who never had one)."""
    user = make_user(factory, role)
    with transaction(factory) as db:
        db.get(User, user.id).totp_secret_enc = None  # type: ignore[union-attr]
    return user


def link_token(url: str) -> str:
    return parse_qs(urlparse(url).query)["enrol"][0]


def enrol(client: TestClient, user: DeskUser, link: str) -> tuple[int, dict[str, str]]:
    client.post("/api/auth/login", json={"username": user.username, "password": PASSWORD})
    reply = client.post("/api/auth/totp/enrolment", json={"link": link})
    return reply.status_code, reply.json()


def test_the_password_alone_binds_no_authenticator(
    desk_client: TestClient, session_factory: sessionmaker[Session]
) -> None:
    user = without_secret(session_factory, Role.SUPERVISOR)
    state = desk_client.post(
        "/api/auth/login", json={"username": user.username, "password": PASSWORD}
    ).json()
    assert state["stage"] == "totp" and state["totp_uri"] == ""
    refused = desk_client.post("/api/auth/totp", json={"code": "123456"})
    assert refused.status_code == 409 and refused.json()["error"] == "totp-not-enrolled"
    forged = desk_client.post("/api/auth/totp/enrolment", json={"link": "A" * 32})
    assert forged.status_code == 403 and forged.json()["error"] == "totp-link-invalid"
    assert desk_client.get("/api/supervisor/wallboard").status_code == 403
    with session_factory() as db:
        refusals = db.scalars(
            select(AuditRecord.action).where(
                AuditRecord.actor == user.username, AuditRecord.action == "auth.totp_link_refused"
            )
        ).all()
    assert len(refusals) == 1


def sessions_holding(settings: Settings, namespace: str, secret: str) -> list[str]:
    """The desk sessions in Redis whose stored value contains ``secret`` in clear."""
    client = redis.Redis.from_url(settings.redis_url, decode_responses=True)
    try:
        return [
            key
            for key in client.scan_iter(f"{namespace}:desk:session:*", _type="string")
            if secret in (client.get(key) or "")
        ]
    finally:
        client.close()


def test_an_administrators_link_enrols_once_and_only_its_own_user(
    desk_app: FastAPI,
    session_factory: sessionmaker[Session],
    settings: Settings,
    redis_namespace: str,
) -> None:
    user = without_secret(session_factory, Role.AUDITOR)
    other = without_secret(session_factory, Role.MANAGER)
    with (
        TestClient(desk_app, client=LOCAL) as admin,
        TestClient(desk_app, client=LOCAL) as them,
        TestClient(desk_app, client=LOCAL) as thief,
    ):
        login(admin, make_user(session_factory, Role.ADMIN))
        first = admin.post(f"/api/admin/users/{user.id}/totp-link").json()
        issued = admin.post(f"/api/admin/users/{user.id}/totp-link")
        assert issued.status_code == 201 and issued.json()["valid_hours"] == 24
        link = link_token(issued.json()["url"])
        assert (
            admin.post(
                f"/api/admin/users/{make_user(session_factory, Role.AGENT).id}/totp-link"
            ).json()["error"]
            == "totp-not-needed"
        )
        # The first link was voided by the second; another user cannot use the link.
        assert enrol(them, user, link_token(first["url"]))[1]["error"] == "totp-link-invalid"
        assert enrol(thief, other, link)[1]["error"] == "totp-link-invalid"
        status, state = enrol(them, user, link)
        assert status == 200 and state["totp_uri"].startswith("otpauth://totp/")
        secret = pyotp.parse_uri(state["totp_uri"]).secret
        pending_in_clear = sessions_holding(settings, redis_namespace, secret)
        code = pyotp.TOTP(secret).now()
        assert them.post("/api/auth/totp", json={"code": code}).json()["stage"] == "ready"
        # Used up: a second session of the same user cannot bind another authenticator.
        them.cookies.clear()
        assert enrol(them, user, link)[1]["error"] in (
            "totp-link-invalid",
            "totp-enrolment-not-expected",
        )
        bound = admin.post(f"/api/admin/users/{user.id}/totp-link").json()
        assert bound["error"] == "totp-already-bound"
    with session_factory() as db:
        stored = db.get(User, user.id).totp_secret_enc  # type: ignore[union-attr]
        actions = db.scalars(
            select(AuditRecord.action).where(AuditRecord.target == f"user:{user.id}")
        ).all()
    # Stored as it is kept in the session while pending: encrypted, never in clear.
    assert (
        stored
        and secret not in stored
        and PersonalDataCipher.of(settings).decrypt(stored) == secret
    )
    assert not pending_in_clear
    assert actions.count("admin.totp_link_issued") == 2
    assert {"auth.totp_link_used", "auth.totp_enrolled"} <= set(actions)


def test_the_first_administrator_enrols_with_a_link_from_the_servers_shell(
    desk_client: TestClient,
    session_factory: sessionmaker[Session],
    settings: Settings,
    redis_namespace: str,
) -> None:
    admin = without_secret(session_factory, Role.ADMIN)  # as `callcenter create-admin` makes it
    env = {
        "CC_DATABASE_URL": str(settings.database_url),
        "CC_REDIS_URL": settings.redis_url,
        "CC_DESK_REDIS_PREFIX": redis_namespace,
    }
    made = run_cli(env, "totp-link", admin.username)
    assert made.returncode == 0, made.stderr
    status, state = enrol(desk_client, admin, link_token(made.stdout.rsplit(": ", 1)[1].strip()))
    assert status == 200, state
    code = pyotp.TOTP(pyotp.parse_uri(state["totp_uri"]).secret).now()
    assert desk_client.post("/api/auth/totp", json={"code": code}).json()["next"] == "/admin"
    assert desk_client.get("/api/admin/users").status_code == 200
    again = run_cli(env, "totp-link", admin.username)
    assert again.returncode == 2 and "已绑定" in again.stderr
