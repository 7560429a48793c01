"""Password expiry and history on the real desk app and PostgreSQL: a password past its age
must be changed at sign-in before anything else, and a new password may repeat none of the
last ones (``CC_PASSWORD_MAX_AGE_DAYS``, ``CC_PASSWORD_HISTORY``)."""

from __future__ import annotations

from datetime import timedelta

import redis
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from agent_desk.app import create_app
from backend.db import transaction
from backend.models.base import utcnow
from backend.models.users import Role, User
from backend.settings import Settings
from tests.desk_support import LOCAL, PASSWORD, desk_settings, login, make_user


def change(client: TestClient, old: str, new: str) -> tuple[int, str]:
    reply = client.post("/api/auth/password", json={"old_password": old, "new_password": new})
    return reply.status_code, reply.json().get("error") or reply.json()["stage"]


def test_an_expired_password_must_be_changed_first_and_may_not_repeat_recent_ones(
    settings: Settings,
    redis_namespace: str,
    session_factory: sessionmaker[Session],
    redis_client: redis.Redis,
) -> None:
    tuned = desk_settings(settings, redis_namespace, password_max_age_days=30, password_history=2)
    app = create_app(tuned, session_factory=session_factory, redis_client=redis_client)
    user = make_user(session_factory, Role.AGENT)
    with transaction(session_factory) as db:  # the password was set 31 days ago
        db.get(User, user.id).password_changed_at = utcnow() - timedelta(days=31)  # type: ignore[union-attr]
    with TestClient(app, client=LOCAL) as client:
        assert login(client, user)["stage"] == "change_password"
        assert client.get("/api/agent/status").status_code == 403
        b, c, d = "Second-Pass-22!", "Third-Pass-333!", "Fourth-Pass-4444!"
        assert change(client, PASSWORD, b) == (200, "ready")
        assert client.get("/api/agent/status").status_code == 200
        assert change(client, b, c) == (200, "ready")
        # The last two are remembered: neither may come back, nor the current one.
        assert change(client, c, PASSWORD) == (422, "password-reused")
        assert change(client, c, b) == (422, "password-reused")
        assert change(client, c, d) == (200, "ready")
        assert change(client, d, PASSWORD) == (200, "ready")  # three back: allowed again
        client.cookies.clear()
        assert login(client, user)["stage"] == "ready"  # changed today: not expired
