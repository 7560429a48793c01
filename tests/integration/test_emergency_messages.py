"""The emergency switch's API on real PostgreSQL: who may switch, what is refused (and then
nothing written), the list, switching off early (audited, twice harmless)."""

from __future__ import annotations

import uuid

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from backend.models.emergency import EmergencyMessage
from backend.models.users import Role
from tests.desk_support import audited, ensure_skill, login, make_user


def count(factory: sessionmaker[Session]) -> int:
    with factory() as db:
        return db.scalar(select(func.count()).select_from(EmergencyMessage)) or 0


def test_a_supervisor_switches_a_queue_message_on_and_off(
    desk_client: TestClient, session_factory: sessionmaker[Session]
) -> None:
    skill = f"e{uuid.uuid4().hex[:8]}"  # a queue of its own: nobody else's calls hear it
    ensure_skill(session_factory, skill, "114")
    agent = make_user(session_factory, Role.AGENT)
    login(desk_client, agent)
    body = {"scope": "queue", "target": skill, "text": "系统维护中", "minutes": 30}
    assert desk_client.post("/api/emergency-messages", json=body).status_code == 403

    supervisor = make_user(session_factory, Role.SUPERVISOR)
    login(desk_client, supervisor)
    before = count(session_factory)
    refused = {
        "emergency-no-message": {**body, "text": ""},
        "emergency-no-target": {**body, "target": "no-such-queue"},
        "emergency-no-skill": {**body, "mode": "divert", "divert_skill": ""},
        "emergency-bad-times": {**body, "minutes": None, "ends_at": "2020-01-01T00:00:00Z"},
    }
    for code, bad in refused.items():
        reply = desk_client.post("/api/emergency-messages", json=bad)
        assert (reply.status_code, reply.json()["error"]) == (422, code), reply.text
    both_ends = {**body, "ends_at": "2030-01-01T00:00:00Z"}
    assert desk_client.post("/api/emergency-messages", json=both_ends).status_code == 422
    assert count(session_factory) == before  # nothing written by a refusal

    created = desk_client.post("/api/emergency-messages", json=body)
    assert created.status_code == 201, created.text
    message = created.json()
    assert (message["running"], message["mode_label"]) == (True, "播放后继续")
    listed = desk_client.get("/api/emergency-messages").json()
    assert message["id"] in [m["id"] for m in listed]

    for _ in range(2):  # switching off twice: one audit record, no error
        off = desk_client.post(f"/api/emergency-messages/{message['id']}/cancel")
        assert off.status_code == 200 and off.json()["running"] is False
    listed = desk_client.get("/api/emergency-messages").json()
    assert message["id"] not in [m["id"] for m in listed]
    actions = [
        r.action for r in audited(session_factory, supervisor.username, "emergency.cancelled")
    ]
    assert actions == ["emergency.cancelled"]
    assert len(audited(session_factory, supervisor.username, "emergency.activated")) == 1
