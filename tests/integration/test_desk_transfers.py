"""Transfer targets are checked before anything is dialled: a wrong one is a clear refusal
and the caller stays with the agent (no AMI action is sent)."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from backend.models.users import Role
from tests.desk_support import LOCAL, DeskUser, login, make_user


def signed_in(app: FastAPI, user: DeskUser, *, ready: bool) -> TestClient:
    client = TestClient(app, client=LOCAL)
    login(client, user)
    assert client.post("/api/agent/sign-in").status_code == 200
    if ready:
        assert client.post("/api/agent/ready").status_code == 200
    return client


def test_transfer_targets_that_do_not_exist_or_cannot_take_the_call_are_refused(
    desk_app: FastAPI, session_factory: sessionmaker[Session]
) -> None:
    agent = make_user(session_factory, Role.AGENT)
    resting = make_user(session_factory, Role.AGENT)
    with (
        signed_in(desk_app, agent, ready=True) as me,
        signed_in(desk_app, resting, ready=False),
    ):
        cases = [
            ({"kind": "agent", "target": "99999"}, 404, "no-such-transfer-target", "没有工号为 99999 的坐席"),
            ({"kind": "skill", "target": "nosuch"}, 404, "no-such-transfer-target", "没有代码为 nosuch 的技能组"),
            ({"kind": "agent", "target": agent.agent_number}, 422, "bad-transfer-target", "不能转接给自己"),
            ({"kind": "agent", "target": resting.agent_number}, 409, "colleague-not-ready", "当前为示忙"),
        ]  # fmt: skip
        for body, status, code, message in cases:
            paths = ["/api/agent/call/transfer"]
            if body["kind"] == "agent":
                paths.append("/api/agent/call/transfer-target")
            for path in paths:
                reply = me.post(path, json=body)
                assert reply.status_code == status, (path, body, reply.text)
                assert reply.json()["error"] == code and message in reply.json()["message"]
        # A consultation is a call to a colleague's phone: a skill cannot take one.
        reply = me.post(
            "/api/agent/call/transfer-target", json={"kind": "skill", "target": "booking"}
        )
        assert reply.status_code == 422 and reply.json()["error"] == "bad-transfer-target"
        # Malformed targets never reach the lookups.
        for target in ("", "10 51", "1051;x", "a" * 40):
            reply = me.post("/api/agent/call/transfer", json={"kind": "agent", "target": target})
            assert reply.status_code == 422


def test_a_ready_colleague_is_a_consultation_target(
    desk_app: FastAPI, session_factory: sessionmaker[Session]
) -> None:
    agent = make_user(session_factory, Role.AGENT)
    colleague = make_user(session_factory, Role.AGENT)
    with signed_in(desk_app, agent, ready=True) as me, signed_in(desk_app, colleague, ready=True):
        reply = me.post(
            "/api/agent/call/transfer-target",
            json={"kind": "agent", "target": colleague.agent_number},
        )
        assert reply.status_code == 200, reply.text
        assert reply.json()["dial"] == colleague.agent_number
        assert colleague.agent_number in reply.json()["label"]
