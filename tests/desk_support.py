"""Helpers and fixtures for the agent desk's tests: users of each role, a logged-in client.

Load the fixtures with ``pytest_plugins = ["tests.desk_support"]`` or import the helpers.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

import pyotp
import pytest
import redis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from redis.asyncio import Redis as AsyncRedis
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from agent_desk.app import create_app
from agent_desk.auth.permissions import needs_second_factor
from backend.acd.policy import SkillConfig
from backend.acd.store import AcdStore
from backend.db import transaction
from backend.models.agents import Agent, AgentSkill, Skill
from backend.models.audit import AuditRecord
from backend.models.calls import CallRecord, Line
from backend.models.users import Role, User
from backend.passwords import hash_password
from backend.personal_data import PersonalDataCipher
from backend.settings import Settings, load_settings
from ivr.call_lifecycle import CallLifecycle
from ivr.flows.ports import CallInfo
from ivr.record_spool import spool_path
from recordings.index import RecordingIndex

PASSWORD = "Desk-Passw0rd!"
LOCAL = ("127.0.0.1", 50123)


@dataclass(frozen=True)
class DeskUser:
    id: int
    username: str
    role: Role
    password: str = PASSWORD
    totp_secret: str | None = None
    agent_id: int | None = None
    agent_number: str = ""


def ensure_skill(factory: sessionmaker[Session], code: str = "booking", line: str = "114") -> None:
    with transaction(factory) as db:
        if db.query(Skill).filter_by(code=code).one_or_none() is None:
            db.add(Skill(code=code, name="预约挂号" if code == "booking" else code, line=line))


def open_call(
    factory: sessionmaker[Session],
    settings: Settings,
    call_id: str,
    line: Line,
    number: str,
    **later: object,
) -> None:
    """A call record opened as the controller opens every call (the number encrypted, hashed
    and masked), then given the fields the ACD and the wrap-up write later (``later``)."""
    lifecycle = CallLifecycle(
        factory,
        RecordingIndex(factory, settings),
        PersonalDataCipher(settings.data_key.get_secret_value()),
        spool_path(settings.state_dir),
    )
    lifecycle.open_record(CallInfo(call_id, call_id, line.value, number, did=""))
    if later:
        with transaction(factory) as db:
            db.execute(update(CallRecord).where(CallRecord.call_id == call_id).values(**later))


def take_call(
    settings: Settings,
    namespace: str,
    call_id: str,
    agent_id: int | None,
    *,
    talk_seconds: float | None = None,
) -> None:
    """The ACD queues ``call_id`` (skill booking), hands it to the ready agent and connects
    it; with ``talk_seconds`` the call then ends and the agent is in wrap-up."""

    async def ring() -> None:
        client = AsyncRedis.from_url(settings.redis_url, decode_responses=True)
        store = AcdStore(client, namespace, [SkillConfig("booking", wrapup_seconds=60)])
        await store.enqueue(call_id, "booking", line="114")
        assignment = await store.pick()
        assert assignment is not None and assignment.agent_id == agent_id
        await store.connected(call_id, agent_id)
        if talk_seconds is not None:
            await store.call_ended(call_id, agent_id, talk_seconds)
        await client.aclose()  # type: ignore[attr-defined]

    asyncio.run(ring())


def audited(factory: sessionmaker[Session], actor: str, action: str) -> list[AuditRecord]:
    """The audit records of ``actor`` doing ``action``, oldest first."""
    with factory() as db:
        query = select(AuditRecord).where(AuditRecord.actor == actor, AuditRecord.action == action)
        return list(db.scalars(query.order_by(AuditRecord.id)))


def make_user(
    factory: sessionmaker[Session],
    role: Role,
    *,
    must_change: bool = False,
    team: str = "一组",
    with_agent: bool | None = None,
    interface: str = "",
    cipher: PersonalDataCipher | None = None,
) -> DeskUser:
    """A user with a known password; agents and supervisors get an agent row (skill booking).
    The TOTP secret is stored encrypted under ``cipher`` (by default the settings' data key),
    as enrolment stores it; the DeskUser keeps it in clear, as the user's phone does."""
    name = f"{role.value[:3]}{uuid.uuid4().hex[:8]}"
    secret = pyotp.random_base32() if needs_second_factor(role) else None
    cipher = cipher or PersonalDataCipher.of(load_settings())
    if with_agent is None:
        with_agent = role in (Role.AGENT, Role.SUPERVISOR)
    ensure_skill(factory)
    with transaction(factory) as db:
        user = User(
            username=name,
            display_name=f"测试{role.value}",
            role=role,
            password_hash=hash_password(PASSWORD),
            must_change_password=must_change,
            failed_logins=0,
            totp_secret_enc=cipher.encrypt(secret) if secret else None,
            team=team,
            active=True,
        )
        db.add(user)
        db.flush()
        agent_id, number = None, ""
        if with_agent:
            number = f"8{uuid.uuid4().int % 10**6:06d}"
            agent = Agent(
                user_id=user.id,
                number=number,
                name=user.display_name,
                interface=interface or f"Local/{name}@sim-agent",
                team=team,
                auto_answer=False,
                active=True,
            )
            agent.skills = [AgentSkill(skill_code="booking", level=5)]
            db.add(agent)
            db.flush()
            agent_id = agent.id
        return DeskUser(user.id, name, role, PASSWORD, secret, agent_id, number)


def desk_settings(settings: Settings, namespace: str, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "desk_redis_prefix": namespace,
        "admin_ip_allowlist": "127.0.0.1/32",
        "lockout_threshold": 3,
    }
    values.update(overrides)
    return settings.model_copy(update=values)


_last_steps: dict[str, int] = {}


def fresh_totp_code(secret: str) -> str:
    """A code of ``secret`` its user has not signed in with yet, as the person at the phone
    would wait for: the desk refuses a code used before (and any of an earlier step). The
    step after the current one is accepted too (clock drift), so a second sign-in within one
    step needs no wait; a third waits for the next step."""
    totp = pyotp.TOTP(secret)
    while True:
        now = totp.timecode(datetime.now(UTC))
        step = max(now, _last_steps.get(secret, now - 1) + 1)
        if step <= now + 1:
            _last_steps[secret] = step
            return totp.generate_otp(step)
        time.sleep(0.5)


def login(client: TestClient, user: DeskUser, password: str | None = None) -> dict[str, object]:
    """Log in through the API, passing the TOTP step for administrators."""
    reply = client.post(
        "/api/auth/login", json={"username": user.username, "password": password or user.password}
    )
    assert reply.status_code == 200, reply.text
    state: dict[str, object] = reply.json()
    if state["stage"] == "totp":
        assert user.totp_secret
        reply = client.post("/api/auth/totp", json={"code": fresh_totp_code(user.totp_secret)})
        assert reply.status_code == 200, reply.text
        state = reply.json()
    return state


@pytest.fixture()
def desk_app_settings(settings: Settings, redis_namespace: str) -> Settings:
    return desk_settings(settings, redis_namespace)


@pytest.fixture()
def desk_app(
    desk_app_settings: Settings,
    session_factory: sessionmaker[Session],
    redis_client: redis.Redis,
) -> FastAPI:
    return create_app(desk_app_settings, session_factory=session_factory, redis_client=redis_client)


@pytest.fixture()
def desk_client(desk_app: FastAPI) -> Iterator[TestClient]:
    with TestClient(desk_app, client=LOCAL) as client:
        yield client
