"""The second factor on the real desk app, PostgreSQL and Redis: every role that reads
recordings or personal data needs it, a code works once, and a session waiting at the code
cannot change the password."""

from __future__ import annotations

from datetime import UTC, datetime

import pyotp
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from backend.models.audit import AuditRecord
from backend.models.users import Role
from tests.desk_support import LOCAL, PASSWORD, login, make_user

# What each role may open once signed in in full, refused before the code.
HOME_API = {
    Role.SUPERVISOR: "/api/supervisor/wallboard",
    Role.AUDITOR: "/api/audit",
    Role.MANAGER: "/api/supervisor/wallboard",
    Role.ADMIN: "/api/admin/users",
}


def password_step(client: TestClient, username: str, password: str = PASSWORD) -> str:
    reply = client.post("/api/auth/login", json={"username": username, "password": password})
    assert reply.status_code == 200, reply.text
    return str(reply.json()["stage"])


def audited(factory: sessionmaker[Session], actor: str, action: str) -> list[AuditRecord]:
    with factory() as db:
        return list(
            db.scalars(
                select(AuditRecord)
                .where(AuditRecord.actor == actor, AuditRecord.action == action)
                .order_by(AuditRecord.id)
            )
        )


@pytest.mark.parametrize("role", list(HOME_API))
def test_roles_that_read_recordings_or_personal_data_need_the_code(
    role: Role, desk_client: TestClient, session_factory: sessionmaker[Session]
) -> None:
    user = make_user(session_factory, role)
    assert password_step(desk_client, user.username) == "totp"
    refused = desk_client.get(HOME_API[role])
    assert refused.status_code == 403 and refused.json()["error"] == "forbidden-login-incomplete"
    code = pyotp.TOTP(user.totp_secret or "").now()
    assert desk_client.post("/api/auth/totp", json={"code": code}).json()["stage"] == "ready"
    assert desk_client.get(HOME_API[role]).status_code == 200


def test_agents_and_hospital_operators_sign_in_with_the_password(
    desk_client: TestClient, session_factory: sessionmaker[Session]
) -> None:
    for role in (Role.AGENT, Role.HOSPITAL):
        assert password_step(desk_client, make_user(session_factory, role).username) == "ready"


def test_a_code_cannot_be_used_twice(
    desk_app: FastAPI, session_factory: sessionmaker[Session]
) -> None:
    user = make_user(session_factory, Role.SUPERVISOR)
    totp = pyotp.TOTP(user.totp_secret or "")
    step = totp.timecode(datetime.now(UTC))
    with TestClient(desk_app, client=LOCAL) as owner, TestClient(desk_app, client=LOCAL) as thief:
        password_step(owner, user.username)
        used = totp.generate_otp(step)
        assert owner.post("/api/auth/totp", json={"code": used}).json()["stage"] == "ready"
        # The thief has the password and saw the code: refused, and so is an older code.
        password_step(thief, user.username)
        for code in (used, totp.generate_otp(step - 1)):
            again = thief.post("/api/auth/totp", json={"code": code})
            assert again.status_code == 401 and again.json()["error"] == "totp-reused"
        assert thief.get("/api/supervisor/wallboard").status_code == 403
        # The owner's next code (the following step, within the allowed drift) works.
        password_step(thief, user.username)
        fresh = thief.post("/api/auth/totp", json={"code": totp.generate_otp(step + 1)})
        assert fresh.json()["stage"] == "ready"
    reasons = [
        r.details["reason"] for r in audited(session_factory, user.username, "auth.login_failed")
    ]
    assert reasons == ["totp-reused", "totp-reused"]


def test_no_password_change_while_the_code_is_pending(
    desk_client: TestClient, session_factory: sessionmaker[Session]
) -> None:
    user = make_user(session_factory, Role.AUDITOR, must_change=True)
    assert password_step(desk_client, user.username) == "totp"
    change = {"old_password": PASSWORD, "new_password": "Taken-Over-Pass9"}
    refused = desk_client.post("/api/auth/password", json=change)
    assert refused.status_code == 403 and refused.json()["error"] == "totp-pending"
    (record,) = audited(session_factory, user.username, "auth.password_change_refused")
    assert record.details == {"reason": "totp-pending"}
    # The password is unchanged; after the code the initial password is changed as usual.
    desk_client.cookies.clear()
    assert login(desk_client, user)["stage"] == "change_password"
    assert desk_client.post("/api/auth/password", json=change).json()["stage"] == "ready"
