"""The agent's state buttons, the supervisor's wallboard and forced states, wrap-up, my day."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from backend.models.audit import AuditRecord
from backend.models.calls import CallRecord, Disposition, Line
from backend.models.users import Role
from backend.models.workorders import WorkOrder
from backend.personal_data import PersonalDataCipher
from backend.settings import Settings
from tests.desk_support import LOCAL, login, make_user, open_call, take_call


def test_agent_signs_in_goes_ready_and_takes_a_break(
    desk_client: TestClient, session_factory: sessionmaker[Session]
) -> None:
    agent = make_user(session_factory, Role.AGENT)
    login(desk_client, agent)
    assert desk_client.get("/api/agent/status").json()["state"] == "logged_out"
    with TestClient(desk_client.app, client=LOCAL) as board:
        login(board, make_user(session_factory, Role.SUPERVISOR))
        with board.websocket_connect("/ws/live") as ws:
            assert ws.receive_json()["type"] == "Subscribed"
            signed = desk_client.post("/api/agent/sign-in").json()
            assert (signed["state"], signed["reason_label"]) == ("not_ready", "签入")
            assert desk_client.post("/api/agent/ready").json()["state_label"] == "空闲"
            meal = desk_client.post("/api/agent/not-ready", json={"reason": "meal"}).json()
            assert (meal["state"], meal["reason_label"]) == ("not_ready", "用餐")
            bad = desk_client.post("/api/agent/not-ready", json={"reason": "nap"})
            assert bad.status_code == 422
            seen = []
            while len(seen) < 3:
                message = ws.receive_json()
                if message.get("agent_id") == agent.agent_id:
                    seen.append((message["type"], message["state"], message["reason"]))
    # The wallboard saw each change once, from the ACD's own record of it.
    assert seen == [
        ("AgentStateChanged", "not_ready", "login"),
        ("AgentStateChanged", "ready", ""),
        ("AgentStateChanged", "not_ready", "meal"),
    ]
    with session_factory() as db:
        audited = db.scalars(
            select(AuditRecord.details)
            .where(AuditRecord.actor == agent.username, AuditRecord.action == "agent.state")
            .order_by(AuditRecord.id)
        ).all()
    assert [d["to"] for d in audited] == ["not_ready", "ready", "not_ready"]
    assert desk_client.post("/api/agent/sign-out").json()["state"] == "logged_out"


def test_supervisor_sees_the_agent_on_the_wallboard_and_forces_its_state(
    desk_app: FastAPI, session_factory: sessionmaker[Session]
) -> None:
    agent = make_user(session_factory, Role.AGENT)
    boss = make_user(session_factory, Role.SUPERVISOR)
    with TestClient(desk_app, client=LOCAL) as a, TestClient(desk_app, client=LOCAL) as s:
        login(a, agent)
        login(s, boss)
        a.post("/api/agent/sign-in")
        a.post("/api/agent/ready")
        board = s.get("/api/supervisor/wallboard").json()
        row = next(r for r in board["agents"] if r["agent_id"] == agent.agent_id)
        assert (row["state_label"], row["number"]) == ("空闲", agent.agent_number)
        assert row["seconds_in_state"] >= 0
        assert any(q["skill"] == "booking" for q in board["queues"])
        assert "短时放弃" in board["service_level"]["formula"]
        forced = s.post(
            f"/api/supervisor/agents/{agent.agent_id}/state",
            json={"state": "not_ready", "reason": "meeting"},
        )
        assert forced.status_code == 200
        assert a.get("/api/agent/status").json()["reason_label"] == "会议"
    with session_factory() as db:
        actor = db.scalar(
            select(AuditRecord.actor)
            .where(AuditRecord.target == f"agent:{agent.agent_id}")
            .order_by(AuditRecord.id.desc())
            .limit(1)
        )
    assert actor == boss.username


def test_wrap_up_saves_the_disposition_and_makes_the_agent_ready(
    desk_client: TestClient,
    settings: Settings,
    session_factory: sessionmaker[Session],
    redis_namespace: str,
) -> None:
    agent = make_user(session_factory, Role.AGENT)
    login(desk_client, agent)
    desk_client.post("/api/agent/sign-in")
    desk_client.post("/api/agent/ready")
    call_id = f"call-{uuid.uuid4().hex[:10]}"
    open_call(
        session_factory,
        settings,
        call_id,
        Line.APPOINTMENT_114,
        "13912345678",
        agent_id=agent.agent_id,
        skill="booking",
        disposition=Disposition.ANSWERED,
        queued_at=datetime.now(UTC) - timedelta(seconds=30),
        answered_at=datetime.now(UTC) - timedelta(seconds=20),
        talk_seconds=20.0,
    )

    take_call(settings, redis_namespace, call_id, agent.agent_id, talk_seconds=20.0)
    assert desk_client.get("/api/agent/status").json()["state"] == "wrap_up"
    pop = desk_client.get("/api/agent/current-call").json()
    assert pop["caller_number"] == "139****5678" and pop["line_label"] == "114预约挂号"
    done = desk_client.post(
        "/api/agent/wrapup", json={"call_id": call_id, "code": "answered", "notes": "已解答"}
    )
    assert done.status_code == 200 and done.json()["state"] == "ready"
    with session_factory() as db:
        record = db.scalar(select(CallRecord).where(CallRecord.call_id == call_id))
        assert record is not None
        assert (record.wrapup_code, record.wrapup_notes) == ("answered", "已解答")
    day = {i["label"]: i["value"] for i in desk_client.get("/api/agent/my-day").json()["items"]}
    assert day["接听电话"] == "1 通" and day["平均通话"] == "20 秒"


def test_order_from_the_current_call_carries_the_callers_number(
    desk_client: TestClient, settings: Settings, session_factory: sessionmaker[Session]
) -> None:
    agent = make_user(session_factory, Role.AGENT)
    login(desk_client, agent)
    call_id = f"call-{uuid.uuid4().hex[:10]}"
    caller = f"138{uuid.uuid4().int % 10**8:08d}"
    # A call the agent took: its record names the agent (an order from another's is refused,
    # tests/integration/test_team_scope.py).
    open_call(session_factory, settings, call_id, Line.HOTLINE, caller, agent_id=agent.agent_id)
    reply = desk_client.post(
        "/api/agent/call/order", json={"title": "医保报销咨询", "call_id": call_id}
    )
    assert reply.status_code == 201
    number = reply.json()["number"]
    assert number.startswith("GD")
    mine = desk_client.get("/api/workorders", params={"mine": "true"}).json()
    assert number in [o["number"] for o in mine]
    # The order holds the caller's full number (encrypted), not the call record's mask.
    cipher = PersonalDataCipher(settings.data_key.get_secret_value())
    with session_factory() as db:
        order = db.scalars(select(WorkOrder).where(WorkOrder.number == number)).one()
        assert cipher.decrypt(order.caller_phone_enc) == caller
