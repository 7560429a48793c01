"""Agents and their phones on the admin API and the agent's own desk: create (the SIP secret
shown once, Asterisk's realtime rows written), bad input, edits the ACD follows, disable,
rotate, the agent's credentials for the softphone and the phone chosen at login/sign-in."""

from __future__ import annotations

import asyncio
import threading
import uuid
from typing import Any

import redis.asyncio as aioredis
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from backend.acd.policy import SkillConfig
from backend.acd.store import AcdStore
from backend.models.agents import Agent
from backend.models.audit import AuditRecord
from backend.models.telephony import AgentPhone, PsAor, PsAuth, PsEndpoint
from backend.models.users import Role
from backend.settings import Settings
from backend.telephony.profiles import md5_digest
from tests.desk_support import LOCAL, DeskUser, ensure_skill, login, make_user


def new_number() -> str:
    return str(100000 + uuid.uuid4().int % 900000)


def agent_body(number: str, **extra: Any) -> dict[str, Any]:
    return {"number": number, "name": "王芳", "team": "114", "skills": {"booking": 8}, **extra}


def rows_of(factory: sessionmaker[Session], number: str) -> tuple[Any, Any, Any]:
    with factory() as db:
        return db.get(PsEndpoint, number), db.get(PsAuth, number), db.get(PsAor, number)


def admin_client(client: TestClient, factory: sessionmaker[Session]) -> DeskUser:
    admin = make_user(factory, Role.ADMIN)
    login(client, admin)
    return admin


def agent_account(factory: sessionmaker[Session]) -> DeskUser:
    """A desk account of role agent, not yet linked to any agent number."""
    return make_user(factory, Role.AGENT, with_agent=False)


def test_created_agent_has_a_phone_whose_secret_is_shown_once_and_stored_encrypted(
    desk_client: TestClient, session_factory: sessionmaker[Session], settings: Settings
) -> None:
    admin = admin_client(desk_client, session_factory)
    number = new_number()
    reply = desk_client.post("/api/admin/agents", json=agent_body(number, phone_kind="desk"))
    assert reply.status_code == 201, reply.text
    assert reply.headers["cache-control"] == "no-store"
    created = reply.json()
    secret = created["phone"]["password"]
    assert created["interface"] == f"PJSIP/{number}" and created["phone_kind"] == "desk"
    assert created["phone"]["username"] == number and len(secret) >= 24

    endpoint, auth, aor = rows_of(session_factory, number)
    assert endpoint.context == "agents" and endpoint.acl == "agent-phones"
    # A desk phone: reached the way it registered (UDP or TLS), SRTP when it offers it.
    assert endpoint.transport is None and endpoint.media_encryption == "sdes"
    assert auth.password_digest == "md5:" + md5_digest(number, settings.sip_realm, secret)
    assert auth.password is None and aor.max_contacts == 1
    with session_factory() as db:
        stored = db.get(AgentPhone, created["id"])
        assert stored is not None and secret not in stored.secret_encrypted
        trail = db.scalars(
            select(AuditRecord).where(
                AuditRecord.actor == admin.username, AuditRecord.action == "admin.agent_create"
            )
        ).all()
    assert len(trail) == 1 and secret not in str(trail[0].details)
    # Listed without the secret: it is never shown again.
    listed = [a for a in desk_client.get("/api/admin/agents").json() if a["number"] == number]
    assert listed and "phone" not in listed[0] and secret not in str(listed)


def test_bad_agent_input_is_refused_clearly_and_writes_nothing(
    desk_client: TestClient, session_factory: sessionmaker[Session]
) -> None:
    admin_client(desk_client, session_factory)
    cases = [
        (agent_body("12a4"), 422, "bad-agent-number"),
        (agent_body("0123"), 422, "bad-agent-number"),
        (agent_body(new_number(), skills={"no_such_skill": 5}), 422, "unknown-skill"),
        (agent_body(new_number(), username="nobody-" + uuid.uuid4().hex[:6]), 422, "no-such-user"),
    ]
    for body, status, code in cases:
        reply = desk_client.post("/api/admin/agents", json=body)
        assert (reply.status_code, reply.json()["error"]) == (status, code), body
        assert "message" in reply.json() and reply.json()["message"]
        with session_factory() as db:
            assert db.scalar(select(Agent.id).where(Agent.number == body["number"])) is None
            assert db.get(PsEndpoint, body["number"]) is None
    level = desk_client.post(
        "/api/admin/agents", json=agent_body(new_number(), skills={"booking": 11})
    )
    assert level.status_code == 422
    supervisor_role = make_user(session_factory, Role.AUDITOR, with_agent=False)
    not_agent = desk_client.post(
        "/api/admin/agents", json=agent_body(new_number(), username=supervisor_role.username)
    )
    assert not_agent.json()["error"] == "user-not-agent"


def test_a_taken_number_and_two_identical_creates_at_once_are_409_not_500(
    desk_client: TestClient, session_factory: sessionmaker[Session]
) -> None:
    admin = admin_client(desk_client, session_factory)
    number = new_number()
    assert desk_client.post("/api/admin/agents", json=agent_body(number)).status_code == 201
    again = desk_client.post("/api/admin/agents", json=agent_body(number))
    assert (again.status_code, again.json()["error"]) == (409, "agent-number-taken")

    racing = new_number()
    statuses: list[int] = []
    start = threading.Barrier(2)

    def create() -> None:
        with TestClient(desk_client.app, client=LOCAL) as client:
            login(client, admin)
            start.wait()
            statuses.append(client.post("/api/admin/agents", json=agent_body(racing)).status_code)

    threads = [threading.Thread(target=create) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [201, 409]
    with session_factory() as db:
        assert db.scalar(select(func.count()).where(Agent.number == racing)) == 1
        assert db.get(PsEndpoint, racing) is not None


def test_edits_reach_the_acd_of_a_signed_in_agent(
    desk_client: TestClient, session_factory: sessionmaker[Session], desk_app_settings: Settings
) -> None:
    account = agent_account(session_factory)
    number = new_number()
    admin_client(desk_client, session_factory)
    ensure_skill(session_factory, "general")
    created = desk_client.post(
        "/api/admin/agents", json=agent_body(number, username=account.username)
    ).json()
    with TestClient(desk_client.app, client=LOCAL) as agent_desk:
        login(agent_desk, account)
        assert agent_desk.post("/api/agent/sign-in").json()["state"] == "not_ready"
    edited = desk_client.patch(
        f"/api/admin/agents/{number}",
        json={"name": "李娜", "skills": {"booking": 6, "general": 9}, "auto_answer": True},
    )
    assert edited.status_code == 200 and edited.json()["skills"] == {"booking": 6, "general": 9}

    async def profile() -> Any:
        client = aioredis.Redis.from_url(desk_app_settings.redis_url, decode_responses=True)
        store = AcdStore(client, desk_app_settings.desk_redis_prefix, [SkillConfig("booking")])
        try:
            return await store.agent(created["id"])
        finally:
            await client.aclose()

    view = asyncio.run(profile())
    assert view.profile.auto_answer is True
    assert view.profile.interface == f"PJSIP/{number}"
    assert view.profile.skills == {"booking": 6, "general": 9}
    unknown = desk_client.patch(f"/api/admin/agents/{number}", json={"skills": {"nope": 3}})
    assert unknown.json()["error"] == "unknown-skill"
    missing = desk_client.patch(f"/api/admin/agents/{new_number()}", json={"name": "无"})
    assert (missing.status_code, missing.json()["error"]) == (404, "no-such-agent")


def test_disabling_removes_the_phone_at_once_and_signs_the_agent_out(
    desk_client: TestClient, session_factory: sessionmaker[Session]
) -> None:
    account = agent_account(session_factory)
    number = new_number()
    admin_client(desk_client, session_factory)
    desk_client.post("/api/admin/agents", json=agent_body(number, username=account.username))
    with TestClient(desk_client.app, client=LOCAL) as agent_desk:
        login(agent_desk, account)
        agent_desk.post("/api/agent/sign-in")
        assert agent_desk.post("/api/agent/ready").json()["state"] == "ready"
        disabled = desk_client.patch(f"/api/admin/agents/{number}", json={"active": False})
        assert disabled.status_code == 200 and disabled.json()["active"] is False
        assert rows_of(session_factory, number) == (None, None, None)
        assert agent_desk.get("/api/agent/status").json()["error"] == "not-an-agent"
        assert agent_desk.get("/api/agent/phone").status_code in (404, 422)
    rotate = desk_client.post(f"/api/admin/agents/{number}/phone-secret")
    assert rotate.json()["error"] == "agent-disabled"
    # Enabled again: the same phone comes back.
    assert desk_client.patch(f"/api/admin/agents/{number}", json={"active": True}).json()["active"]
    assert all(row is not None for row in rows_of(session_factory, number))


def test_an_agent_offered_a_call_cannot_be_disabled_until_it_ends(
    desk_client: TestClient,
    session_factory: sessionmaker[Session],
    desk_app_settings: Settings,
) -> None:
    account = agent_account(session_factory)
    number, skill = new_number(), "s" + uuid.uuid4().hex[:8]
    ensure_skill(session_factory, skill)
    admin_client(desk_client, session_factory)
    desk_client.post(
        "/api/admin/agents", json=agent_body(number, username=account.username, skills={skill: 5})
    )
    with TestClient(desk_client.app, client=LOCAL) as agent_desk:
        login(agent_desk, account)
        agent_desk.post("/api/agent/sign-in")
        agent_desk.post("/api/agent/ready")

    async def offer() -> None:
        client = aioredis.Redis.from_url(desk_app_settings.redis_url, decode_responses=True)
        store = AcdStore(client, desk_app_settings.desk_redis_prefix, [SkillConfig(skill)])
        try:
            await store.enqueue(f"call-{uuid.uuid4().hex[:8]}", skill, line="114")
            assert await store.pick() is not None
        finally:
            await client.aclose()

    asyncio.run(offer())
    busy = desk_client.patch(f"/api/admin/agents/{number}", json={"active": False})
    assert (busy.status_code, busy.json()["error"]) == (409, "agent-busy")
    assert all(row is not None for row in rows_of(session_factory, number))


def test_rotated_secret_replaces_the_old_one(
    desk_client: TestClient, session_factory: sessionmaker[Session], settings: Settings
) -> None:
    admin = admin_client(desk_client, session_factory)
    number = new_number()
    old = desk_client.post("/api/admin/agents", json=agent_body(number)).json()["phone"]
    new = desk_client.post(f"/api/admin/agents/{number}/phone-secret").json()
    assert new["password"] != old["password"] and new["username"] == number
    _, auth, _ = rows_of(session_factory, number)
    assert auth.password_digest == "md5:" + md5_digest(number, settings.sip_realm, new["password"])
    with session_factory() as db:
        actions = db.scalars(
            select(AuditRecord.details).where(
                AuditRecord.actor == admin.username,
                AuditRecord.action == "admin.agent_phone_secret",
            )
        ).all()
    assert actions and new["password"] not in str(actions)


def test_the_agent_fetches_its_own_credentials_and_chooses_its_phone_at_login(
    desk_client: TestClient, session_factory: sessionmaker[Session], desk_app_settings: Settings
) -> None:
    account = agent_account(session_factory)
    number = new_number()
    admin_client(desk_client, session_factory)
    created = desk_client.post(
        "/api/admin/agents",
        json=agent_body(number, username=account.username, auto_answer=True, phone_kind="desk"),
    ).json()
    with TestClient(desk_client.app, client=LOCAL) as agent_desk:
        reply = agent_desk.post(
            "/api/auth/login",
            json={"username": account.username, "password": account.password, "phone": "browser"},
        )
        assert reply.status_code == 200
        fetched = agent_desk.get("/api/agent/phone")
        assert fetched.headers["cache-control"] == "no-store"
        phone = fetched.json()
        assert phone == {
            "number": number,
            "username": number,
            "password": created["phone"]["password"],
            "domain": desk_app_settings.effective_phone_domain,
            "ws_url": f"ws://127.0.0.1:{desk_app_settings.asterisk_http_port}/ws",
            "kind": "browser",
            "auto_answer": True,
        }
        endpoint, _, _ = rows_of(session_factory, number)
        assert endpoint.webrtc == "yes" and endpoint.transport == "transport-ws"
        # At sign-in the agent may switch to a desk phone: no WebRTC option stays behind.
        signed = agent_desk.post("/api/agent/sign-in", json={"phone": "desk"})
        assert signed.status_code == 200
        endpoint, _, _ = rows_of(session_factory, number)
        assert endpoint.transport is None and endpoint.webrtc is None
        assert endpoint.media_encryption == "sdes" and endpoint.dtls_auto_generate_cert is None
        assert agent_desk.post("/api/agent/sign-in", json={"phone": "fax"}).status_code == 422
    # An agent with a simulated (Local/) line has no phone to fetch.
    simulated = make_user(session_factory, Role.AGENT)
    with TestClient(desk_client.app, client=LOCAL) as other:
        login(other, simulated)
        none = other.get("/api/agent/phone")
        assert (none.status_code, none.json()["error"]) == (404, "no-phone")
        assert other.post("/api/agent/sign-in").status_code == 200
