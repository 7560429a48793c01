"""Each role sees only what it may: everything else answers 403 (and the refusal is audited)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from agent_desk.auth.permissions import Permission, allowed
from backend.models.audit import AuditRecord
from backend.models.users import Role
from tests.desk_support import login, make_user

P = Permission
# (method, path, body, the permission it needs)
PROTECTED: list[tuple[str, str, dict[str, object] | None, Permission]] = [
    ("GET", "/desk", None, P.DESK),
    ("GET", "/api/agent/status", None, P.DESK),
    ("GET", "/api/agent/my-day", None, P.DESK),
    ("GET", "/api/desk/booking/hospitals", None, P.BOOKING_DESK),
    ("POST", "/api/agent/call/order", {"title": "咨询"}, P.WORKORDER_DESK),
    ("GET", "/supervisor", None, P.WALLBOARD),
    ("GET", "/api/supervisor/wallboard", None, P.WALLBOARD),
    ("POST", "/api/supervisor/agents/999999/state", {"state": "ready"}, P.FORCE_STATE),
    ("POST", "/api/supervisor/listen", {"agent_id": 999999}, P.LISTEN),
    ("GET", "/supervisor/recordings", None, P.RECORDINGS),
    ("GET", "/api/recordings", None, P.RECORDINGS),
    ("GET", "/api/recordings/999999/audio", None, P.RECORDINGS),
    ("GET", "/audit", None, P.AUDIT_LOG),
    ("GET", "/api/audit", None, P.AUDIT_LOG),
    ("GET", "/admin", None, P.ADMIN),
    ("GET", "/api/admin/users", None, P.ADMIN),
    ("GET", "/api/admin/skills", None, P.ADMIN),
    ("PATCH", "/api/admin/users/999999", {"unlock": True}, P.ADMIN),
    ("GET", "/hospital", None, P.HOSPITAL),
]


@pytest.mark.parametrize("role", list(Role))
def test_each_role_gets_403_on_what_it_may_not_see(
    role: Role, desk_client: TestClient, session_factory: sessionmaker[Session]
) -> None:
    user = make_user(session_factory, role)
    login(desk_client, user)
    refused = []
    for method, path, body, permission in PROTECTED:
        reply = desk_client.request(method, path, json=body, follow_redirects=False)
        assert reply.status_code != 401, path
        if allowed(role, permission):
            assert reply.status_code != 403, f"{role} should reach {path}: {reply.text}"
        else:
            assert reply.status_code == 403, f"{role} must not reach {path}"
            if path.startswith("/api/"):
                assert reply.json()["error"] == "forbidden-role"
            else:
                assert "无权访问" in reply.text
            refused.append(path)
    with session_factory() as db:
        audited = db.scalar(
            select(func.count()).where(
                AuditRecord.actor == user.username, AuditRecord.action == "auth.denied"
            )
        )
    assert audited == len(refused)


def test_navigation_shows_only_the_pages_of_the_role(
    desk_client: TestClient, session_factory: sessionmaker[Session]
) -> None:
    login(desk_client, make_user(session_factory, Role.AUDITOR))
    page = desk_client.get("/supervisor/recordings").text
    assert "录音查询" in page and "审计日志" in page
    assert "坐席工作台" not in page and "系统管理" not in page


def test_reports_are_in_the_menu_of_roles_that_may_read_them(
    desk_client: TestClient, session_factory: sessionmaker[Session]
) -> None:
    login(desk_client, make_user(session_factory, Role.SUPERVISOR))
    assert 'href="/reports"' in desk_client.get("/supervisor").text
    desk_client.cookies.clear()
    login(desk_client, make_user(session_factory, Role.AGENT))
    assert 'href="/reports"' not in desk_client.get("/desk").text
