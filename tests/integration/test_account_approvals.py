"""The four-eyes rule on the real desk app and PostgreSQL: an administrator or auditor is
created, and has the password or second factor reset, only when a second administrator
approves; approving one's own request is refused and audited."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session, sessionmaker

from agent_desk.auth import approvals
from agent_desk.auth.accounts import AccountDraft
from backend.audit import Actor
from backend.db import transaction
from backend.models.audit import AuditRecord
from backend.models.users import Role, User
from tests.conftest import migrated_database
from tests.desk_support import LOCAL, PASSWORD, login, make_user
from tests.stack_process import run_cli

NEW_PASSWORD = "Approved-Pass42!"


def sign_in_stage(client: TestClient, username: str, password: str) -> int | str:
    reply = client.post("/api/auth/login", json={"username": username, "password": password})
    client.cookies.clear()
    return reply.json()["stage"] if reply.status_code == 200 else reply.status_code


def audited(factory: sessionmaker[Session], action: str, actor: str) -> list[AuditRecord]:
    with factory() as db:
        query = select(AuditRecord).where(AuditRecord.action == action, AuditRecord.actor == actor)
        return list(db.scalars(query))


def test_a_new_auditor_waits_for_a_second_administrator(
    desk_app: FastAPI, session_factory: sessionmaker[Session]
) -> None:
    first, second = make_user(session_factory, Role.ADMIN), make_user(session_factory, Role.ADMIN)
    body = {"username": "aud" + str(first.id), "display_name": "审计员", "role": "auditor",
            "password": "Initial-Pass-42"}  # fmt: skip
    with TestClient(desk_app, client=LOCAL) as a, TestClient(desk_app, client=LOCAL) as b:
        login(a, first)
        asked = a.post("/api/admin/users", json=body)
        assert asked.status_code == 202 and asked.json()["status"] == "pending"
        approval = asked.json()["approval_id"]
        assert sign_in_stage(b, body["username"], body["password"]) == 401  # not yet made
        own = a.post(f"/api/admin/approvals/{approval}/approve")
        assert own.status_code == 403 and own.json()["error"] == "approval-by-requester"
        login(b, second)
        assert approval in [p["approval_id"] for p in b.get("/api/admin/approvals").json()]
        granted = b.post(f"/api/admin/approvals/{approval}/approve")
        assert granted.status_code == 200 and granted.json()["status"] == "approved"
        again = b.post(f"/api/admin/approvals/{approval}/approve")
        assert again.status_code == 409 and again.json()["error"] == "approval-decided"
        # An agent needs no approval.
        agent = {**body, "username": "agt" + str(first.id), "role": "agent"}
        assert a.post("/api/admin/users", json=agent).status_code == 201
    with session_factory() as db:
        made = db.scalars(select(User).where(User.username == body["username"])).one()
    assert made.role is Role.AUDITOR and made.must_change_password
    assert len(audited(session_factory, "admin.approval_refused", first.username)) == 1
    assert len(audited(session_factory, "admin.approval_granted", second.username)) == 1


def test_resetting_an_administrators_password_needs_another_administrator(
    desk_app: FastAPI, session_factory: sessionmaker[Session]
) -> None:
    first, second = make_user(session_factory, Role.ADMIN), make_user(session_factory, Role.ADMIN)
    target = make_user(session_factory, Role.ADMIN)
    with (
        TestClient(desk_app, client=LOCAL) as a,
        TestClient(desk_app, client=LOCAL) as b,
        TestClient(desk_app, client=LOCAL) as them,
    ):
        login(a, first)
        login(them, target)
        mixed = a.patch(
            f"/api/admin/users/{target.id}", json={"reset_password": NEW_PASSWORD, "team": "x"}
        )
        assert mixed.status_code == 422 and mixed.json()["error"] == "reset-alone"
        asked = a.patch(f"/api/admin/users/{target.id}", json={"reset_password": NEW_PASSWORD})
        assert asked.status_code == 202
        # Nothing changed yet: the old password and the open session still work.
        assert them.get("/api/admin/users").status_code == 200
        assert sign_in_stage(b, target.username, PASSWORD) == "totp"
        login(b, second)
        assert (
            b.post(f"/api/admin/approvals/{asked.json()['approval_id']}/approve").status_code == 200
        )
        assert them.get("/api/admin/users").status_code == 401  # the reset ended its sessions
        b.cookies.clear()
        assert sign_in_stage(b, target.username, PASSWORD) == 401
        assert sign_in_stage(b, target.username, NEW_PASSWORD) == "totp"


def test_the_shell_approves_only_the_first_administrators_request_for_a_second(
    run_id: str,
) -> None:
    with migrated_database(f"cc_approve_{run_id}") as url:
        env = {"CC_DATABASE_URL": url}
        made = run_cli(env, "create-admin", "root1", "--name", "系统管理员")
        assert made.returncode == 0, made.stderr
        engine = create_engine(url)
        factory = sessionmaker(engine)
        try:
            first = request_admin(factory, "root2")
            approved = run_cli(env, "approve", str(first))
            assert approved.returncode == 0 and "root2" in approved.stdout, approved.stderr
            # Two administrators now: the shell approves nothing more.
            refused = run_cli(env, "approve", str(request_admin(factory, "root3")))
            assert refused.returncode == 2 and "two administrators exist" in refused.stderr
            with factory() as db:
                names = db.scalars(select(User.username).where(User.role == Role.ADMIN)).all()
                shell = db.scalars(
                    select(AuditRecord).where(AuditRecord.action == "admin.approval_granted")
                ).one()
            assert sorted(names) == ["root1", "root2"] and shell.actor.startswith("cli:")
        finally:
            engine.dispose()


def request_admin(factory: sessionmaker[Session], username: str) -> int:
    """The first administrator asks for another (as the admin page does)."""
    with transaction(factory) as db:
        root = db.scalars(select(User).where(User.username == "root1")).one()
        draft = AccountDraft(username, "管理员", Role.ADMIN, "", "Initial-Pass-42")
        return approvals.request_create(db, draft, Actor(root.username), root.id).id
