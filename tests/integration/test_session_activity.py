"""Only the user's own actions keep a desk session alive (the live feed, the wallboard's
refreshes and the pages' background reads do not; the one exception is the live feed of an
agent the ACD puts calls through to), and a password change ends the user's other sessions. On the real desk app, PostgreSQL and Redis."""

from __future__ import annotations

import hashlib

import redis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from backend.models.audit import AuditRecord
from backend.models.users import Role
from tests.desk_support import LOCAL, PASSWORD, login, make_user

LEFT = 100  # seconds left on the idle timer before the requests below


def session_key(client: TestClient, namespace: str) -> str:
    token = client.cookies.get("cc_desk") or ""
    return f"{namespace}:desk:session:{hashlib.sha256(token.encode()).hexdigest()}"


def idle_seconds_left(client: TestClient, redis_client: redis.Redis, namespace: str) -> int:
    return int(redis_client.ttl(session_key(client, namespace)))


def test_the_live_feed_and_the_wallboards_refreshes_do_not_keep_a_session_alive(
    desk_client: TestClient,
    session_factory: sessionmaker[Session],
    redis_client: redis.Redis,
    redis_namespace: str,
) -> None:
    login(desk_client, make_user(session_factory, Role.SUPERVISOR))
    redis_client.expire(
        session_key(desk_client, redis_namespace), LEFT
    )  # the supervisor has been away for a while
    assert desk_client.get("/api/supervisor/wallboard").status_code == 200
    assert desk_client.get("/api/supervisor/team-day").status_code == 200
    background = desk_client.get("/api/agent/status", headers={"X-Desk-Background": "1"})
    assert background.status_code == 200
    with desk_client.websocket_connect("/ws/live", headers={"Origin": "http://testserver"}) as ws:
        assert ws.receive_json()["type"] == "Subscribed"
    assert 0 < idle_seconds_left(desk_client, redis_client, redis_namespace) <= LEFT
    # The supervisor clicks something: the idle timer starts again.
    assert desk_client.get("/api/auth/me").status_code == 200
    assert idle_seconds_left(desk_client, redis_client, redis_namespace) > LEFT


def feed_opened_after_a_quiet_while(
    client: TestClient, redis_client: redis.Redis, namespace: str
) -> int:
    """Seconds left on the idle timer after the live feed is opened, the user having been
    away for a while (LEFT seconds were left)."""
    redis_client.expire(session_key(client, namespace), LEFT)
    with client.websocket_connect("/ws/live", headers={"Origin": "http://testserver"}) as ws:
        assert ws.receive_json()["type"] == "Subscribed"
    return idle_seconds_left(client, redis_client, namespace)


def test_the_live_feed_keeps_an_agent_taking_calls_signed_in(
    desk_client: TestClient,
    session_factory: sessionmaker[Session],
    redis_client: redis.Redis,
    redis_namespace: str,
) -> None:
    """The ACD puts calls through to a ready agent whether anyone clicks or not: the desk
    that shows them must not time out on a quiet night."""
    login(desk_client, make_user(session_factory, Role.AGENT))
    assert desk_client.post("/api/agent/sign-in").status_code == 200
    assert desk_client.post("/api/agent/ready").json()["state"] == "ready"
    assert feed_opened_after_a_quiet_while(desk_client, redis_client, redis_namespace) > LEFT


def test_the_live_feed_keeps_no_not_ready_agent_or_ready_supervisor_signed_in(
    desk_app: FastAPI,
    session_factory: sessionmaker[Session],
    redis_client: redis.Redis,
    redis_namespace: str,
) -> None:
    """An agent who gets no calls (not ready) and a supervisor even when taking calls (whose
    pages read recordings and personal data) time out as before."""
    with (
        TestClient(desk_app, client=LOCAL) as agent,
        TestClient(desk_app, client=LOCAL) as supervisor,
    ):
        login(agent, make_user(session_factory, Role.AGENT))
        assert agent.post("/api/agent/sign-in").json()["state"] == "not_ready"
        left = feed_opened_after_a_quiet_while(agent, redis_client, redis_namespace)
        assert 0 < left <= LEFT
        login(supervisor, make_user(session_factory, Role.SUPERVISOR))
        assert supervisor.post("/api/agent/sign-in").status_code == 200
        assert supervisor.post("/api/agent/ready").json()["state"] == "ready"
        left = feed_opened_after_a_quiet_while(supervisor, redis_client, redis_namespace)
        assert 0 < left <= LEFT


def test_a_password_change_ends_the_users_other_sessions(
    desk_app: FastAPI, session_factory: sessionmaker[Session]
) -> None:
    user = make_user(session_factory, Role.AGENT)
    with (
        TestClient(desk_app, client=LOCAL) as mine,
        TestClient(desk_app, client=LOCAL) as stolen,
        TestClient(desk_app, client=LOCAL) as elsewhere,
        TestClient(desk_app, client=LOCAL) as someone_else,
    ):
        for client in (mine, stolen, elsewhere):
            login(client, user)
        login(someone_else, make_user(session_factory, Role.AGENT))
        changed = mine.post(
            "/api/auth/password", json={"old_password": PASSWORD, "new_password": "Fresh-Passw0rd!"}
        )
        assert changed.status_code == 200 and changed.json()["stage"] == "ready"
        assert mine.get("/api/agent/status").status_code == 200
        assert stolen.get("/api/agent/status").status_code == 401
        assert elsewhere.get("/api/auth/me").status_code == 401
        assert someone_else.get("/api/agent/status").status_code == 200
        assert login(stolen, user, "Fresh-Passw0rd!")["stage"] == "ready"
    with session_factory() as db:
        record = db.scalars(
            select(AuditRecord).where(
                AuditRecord.actor == user.username, AuditRecord.action == "auth.password_changed"
            )
        ).one()
    assert record.details == {"other_sessions_ended": 2}
