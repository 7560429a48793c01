"""Login, lockout, forced password change, TOTP, IP allow-list, session expiry, audit."""

from __future__ import annotations

import asyncio
import time

import pyotp
import pytest
import redis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from starlette.websockets import WebSocketDisconnect

from agent_desk.app import create_app
from agent_desk.auth.sessions import DeskSession, SessionStore, Stage
from backend.models.audit import AuditRecord
from backend.models.users import Role, User
from backend.settings import Settings
from tests.desk_support import LOCAL, PASSWORD, desk_settings, login, make_user


def actions(factory: sessionmaker[Session], actor: str) -> list[str]:
    with factory() as db:
        return list(
            db.scalars(
                select(AuditRecord.action)
                .where(AuditRecord.actor == actor)
                .order_by(AuditRecord.id)
            )
        )


def test_agent_logs_in_and_lands_on_the_workbench(
    desk_client: TestClient, session_factory: sessionmaker[Session]
) -> None:
    user = make_user(session_factory, Role.AGENT)
    state = login(desk_client, user)
    assert state["stage"] == "ready" and state["next"] == "/desk"
    assert desk_client.get("/api/auth/me").json()["role_label"] == "坐席"
    page = desk_client.get("/desk")
    assert page.status_code == 200
    assert page.headers["content-type"] == "text/html; charset=utf-8"
    assert "坐席工作台" in page.text
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert page.headers["x-frame-options"] == "DENY"
    assert actions(session_factory, user.username) == ["auth.login"]


def test_wrong_password_is_refused_without_saying_which_part_was_wrong(
    desk_client: TestClient, session_factory: sessionmaker[Session]
) -> None:
    user = make_user(session_factory, Role.AGENT)
    for name in (user.username, "nobody-here"):
        reply = desk_client.post("/api/auth/login", json={"username": name, "password": "x"})
        assert reply.status_code == 401
        assert reply.json() == {"error": "login-failed", "message": "用户名或密码错误"}
    assert actions(session_factory, "nobody-here") == ["auth.login_failed"]


def test_lockout_after_threshold_failures_refuses_even_the_right_password(
    desk_client: TestClient, session_factory: sessionmaker[Session]
) -> None:
    user = make_user(session_factory, Role.AGENT)
    codes = [
        desk_client.post(
            "/api/auth/login", json={"username": user.username, "password": "Wrong-pass-1"}
        ).json()["error"]
        for _ in range(3)
    ]
    assert codes == ["login-failed", "login-failed", "account-locked"]
    reply = desk_client.post(
        "/api/auth/login", json={"username": user.username, "password": PASSWORD}
    )
    assert reply.status_code == 401 and reply.json()["error"] == "account-locked"
    assert "锁定" in reply.json()["message"]
    assert actions(session_factory, user.username) == [
        "auth.login_failed",
        "auth.login_failed",
        "auth.login_failed",
        "auth.locked",
        "auth.login_locked",
    ]


def test_admin_unlocks_a_locked_account(
    desk_client: TestClient, session_factory: sessionmaker[Session]
) -> None:
    user = make_user(session_factory, Role.AGENT)
    for _ in range(3):
        desk_client.post("/api/auth/login", json={"username": user.username, "password": "x"})
    admin = make_user(session_factory, Role.ADMIN)
    login(desk_client, admin)
    reply = desk_client.patch(f"/api/admin/users/{user.id}", json={"unlock": True})
    assert reply.status_code == 200 and reply.json()["locked"] is False
    desk_client.cookies.clear()
    assert login(desk_client, user)["stage"] == "ready"


def test_initial_password_must_be_changed_before_anything_else(
    desk_client: TestClient, session_factory: sessionmaker[Session]
) -> None:
    user = make_user(session_factory, Role.AGENT, must_change=True)
    state = login(desk_client, user)
    assert state["stage"] == "change_password" and state["next"] == "/password"
    assert desk_client.get("/api/agent/status").status_code == 403
    weak = desk_client.post(
        "/api/auth/password", json={"old_password": PASSWORD, "new_password": "short"}
    )
    assert weak.status_code == 422 and weak.json()["error"] == "weak-password"
    same = desk_client.post(
        "/api/auth/password", json={"old_password": PASSWORD, "new_password": PASSWORD}
    )
    assert same.json()["error"] == "same-password"
    done = desk_client.post(
        "/api/auth/password", json={"old_password": PASSWORD, "new_password": "Brand-New-Pass9"}
    )
    assert done.status_code == 200 and done.json()["stage"] == "ready"
    assert desk_client.get("/desk").status_code == 200
    with session_factory() as db:
        assert db.get(User, user.id).must_change_password is False  # type: ignore[union-attr]


def test_administrator_needs_a_valid_totp_code(
    desk_client: TestClient, session_factory: sessionmaker[Session]
) -> None:
    admin = make_user(session_factory, Role.ADMIN)
    state = desk_client.post(
        "/api/auth/login", json={"username": admin.username, "password": PASSWORD}
    ).json()
    assert state["stage"] == "totp"
    assert desk_client.get("/api/admin/users").status_code == 403
    bad = desk_client.post("/api/auth/totp", json={"code": "000000"})
    if pyotp.TOTP(admin.totp_secret or "").verify("000000", valid_window=1):
        bad = desk_client.post("/api/auth/totp", json={"code": "999999"})
    assert bad.status_code == 401 and bad.json()["error"] == "bad-totp"
    half_token = desk_client.cookies.get("cc_desk")
    good = desk_client.post(
        "/api/auth/totp", json={"code": pyotp.TOTP(admin.totp_secret or "").now()}
    )
    assert good.status_code == 200 and good.json()["next"] == "/admin"
    # The full session gets a new token: the half-logged-in one is worthless now.
    assert desk_client.cookies.get("cc_desk") != half_token
    stale = desk_client.get("/api/auth/me", cookies={"cc_desk": half_token or ""})
    assert stale.status_code == 401
    assert desk_client.get("/api/admin/users").status_code == 200
    assert desk_client.get("/admin").status_code == 200
    assert "auth.totp_ok" in actions(session_factory, admin.username)


def test_admin_pages_refused_outside_the_ip_allow_list(
    settings: Settings,
    redis_namespace: str,
    session_factory: sessionmaker[Session],
    redis_client: redis.Redis,
) -> None:
    app = create_app(
        desk_settings(settings, redis_namespace, admin_ip_allowlist="10.20.0.0/16"),
        session_factory=session_factory,
        redis_client=redis_client,
    )
    admin = make_user(session_factory, Role.ADMIN)
    with TestClient(app, client=LOCAL) as outside:
        login(outside, admin)
        reply = outside.get("/api/admin/users")
        assert reply.status_code == 403 and reply.json()["error"] == "forbidden-ip-not-allowed"
        assert outside.get("/admin").status_code == 403
        # The audit log is not an admin-network-only right.
        assert outside.get("/api/audit").status_code == 200
    with TestClient(app, client=("10.20.3.4", 40000)) as inside:
        login(inside, admin)
        assert inside.get("/api/admin/users").status_code == 200
    with session_factory() as db:
        denied = db.scalars(
            select(AuditRecord)
            .where(AuditRecord.actor == admin.username, AuditRecord.action == "auth.denied")
            .order_by(AuditRecord.id)
        ).all()
    assert [d.details["reason"] for d in denied] == ["ip-not-allowed", "ip-not-allowed"]
    assert denied[0].source_ip == "127.0.0.1"


def test_without_login_apis_answer_401_and_pages_redirect_to_login(
    desk_client: TestClient,
) -> None:
    assert desk_client.get("/api/agent/status").status_code == 401
    page = desk_client.get("/supervisor", follow_redirects=False)
    assert page.status_code == 303 and page.headers["location"] == "/login?next=/supervisor"
    assert "坐席系统登录" in desk_client.get("/login").text


def test_logout_ends_the_session(
    desk_client: TestClient, session_factory: sessionmaker[Session]
) -> None:
    user = make_user(session_factory, Role.SUPERVISOR)
    login(desk_client, user)
    token = desk_client.cookies.get("cc_desk")
    assert desk_client.post("/api/auth/logout").status_code == 204
    desk_client.cookies.set("cc_desk", token or "")
    assert desk_client.get("/api/supervisor/wallboard").status_code == 401
    assert actions(session_factory, user.username)[-1] == "auth.logout"


def test_sessions_expire_when_idle_and_after_a_shift(
    redis_client: redis.Redis, redis_namespace: str
) -> None:
    now = [time.time()]
    store = SessionStore(redis_client, redis_namespace, minutes=30, clock=lambda: now[0])
    session = DeskSession(1, "a", "甲", Role.AGENT, Stage.READY, created=now[0])
    token = store.create(session)
    key = next(iter(redis_client.scan_iter(f"{redis_namespace}:desk:session:*")))
    assert 0 < redis_client.ttl(key) <= 30 * 60  # idle expiry, renewed by each request
    assert token not in key  # only a hash of the token is stored
    assert store.get(token) == session
    now[0] += 13 * 3600
    assert store.get(token) is None


def test_deactivating_a_user_ends_the_users_open_sessions(
    desk_app: FastAPI, session_factory: sessionmaker[Session]
) -> None:
    agent = make_user(session_factory, Role.AGENT)
    admin = make_user(session_factory, Role.ADMIN)
    with TestClient(desk_app, client=LOCAL) as a, TestClient(desk_app, client=LOCAL) as root:
        login(a, agent)
        login(root, admin)
        assert a.get("/api/agent/status").status_code == 200
        own = root.patch(f"/api/admin/users/{admin.id}", json={"active": False})
        assert own.json()["error"] == "cannot-deactivate-self"
        assert root.patch(f"/api/admin/users/{agent.id}", json={"active": False}).status_code == 200
        assert a.get("/api/agent/status").status_code == 401
        refused = a.post("/api/auth/login", json={"username": agent.username, "password": PASSWORD})
        assert refused.status_code == 401


def test_pages_send_a_half_logged_in_user_to_the_pending_step(
    desk_client: TestClient, session_factory: sessionmaker[Session]
) -> None:
    user = make_user(session_factory, Role.AGENT, must_change=True)
    desk_client.post("/api/auth/login", json={"username": user.username, "password": PASSWORD})
    first = desk_client.get("/desk", follow_redirects=False)
    assert (first.status_code, first.headers["location"]) == (303, "/")
    assert desk_client.get("/", follow_redirects=False).headers["location"] == "/password"


def test_live_feed_refuses_a_page_of_another_site(
    desk_client: TestClient, session_factory: sessionmaker[Session]
) -> None:
    login(desk_client, make_user(session_factory, Role.SUPERVISOR))
    with desk_client.websocket_connect("/ws/live", headers={"Origin": "http://testserver"}) as ws:
        assert ws.receive_json()["type"] == "Subscribed"
    with (
        pytest.raises(WebSocketDisconnect),
        desk_client.websocket_connect("/ws/live", headers={"Origin": "https://evil.example"}) as ws,
    ):
        ws.receive_json()


def test_a_request_looks_its_session_up_once_off_the_event_loop(
    desk_client: TestClient, session_factory: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    user = make_user(session_factory, Role.AGENT)
    login(desk_client, user)
    lookups: list[bool] = []
    real_get = SessionStore.get

    def counted(store: SessionStore, token: str, *, touch: bool = True) -> DeskSession | None:
        try:
            asyncio.get_running_loop()
            lookups.append(True)  # on an event loop: the loop would wait on Redis
        except RuntimeError:
            lookups.append(False)
        return real_get(store, token, touch=touch)

    monkeypatch.setattr(SessionStore, "get", counted)
    assert desk_client.get("/api/auth/me").json()["role_label"] == "坐席"
    assert lookups == [False]  # once (middleware; the guard reuses it), in a worker thread
