"""Scoping of the desk's actions on other people's work (issue 18, item 9): a team leader
listens to, whispers to, barges in on or forces the state of the own team's agents only, and
an agent opens a work order only from a call of the agent's own. Each misuse is refused with
a specific 403 and audited; the same action on one's own team or call still works.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from backend.models.calls import CallRecord, Disposition, Line
from backend.models.users import Role
from backend.models.workorders import WorkOrder, WorkOrderCall
from backend.settings import Settings
from tests.desk_support import LOCAL, DeskUser, audited, login, make_user, open_call, take_call


def test_a_leader_forces_the_state_of_the_own_teams_agents_only(
    desk_app: FastAPI, session_factory: sessionmaker[Session]
) -> None:
    team = f"班组{uuid.uuid4().hex[:6]}"
    own = make_user(session_factory, Role.AGENT, team=team)
    other = make_user(session_factory, Role.AGENT, team=f"{team}乙")
    boss = make_user(session_factory, Role.SUPERVISOR, team=team)
    with (
        TestClient(desk_app, client=LOCAL) as a,
        TestClient(desk_app, client=LOCAL) as b,
        TestClient(desk_app, client=LOCAL) as s,
    ):
        for client, user in ((a, own), (b, other), (s, boss)):
            login(client, user)
        for client in (a, b):
            client.post("/api/agent/sign-in")
            client.post("/api/agent/ready")
        forced = {"state": "not_ready", "reason": "meeting"}
        refused = s.post(f"/api/supervisor/agents/{other.agent_id}/state", json=forced)
        assert refused.status_code == 403
        assert refused.json()["error"] == "agent-not-in-team"
        assert b.get("/api/agent/status").json()["state"] == "ready"  # untouched
        done = s.post(f"/api/supervisor/agents/{own.agent_id}/state", json=forced)
        assert done.status_code == 200 and done.json()["reason"] == "meeting"
        assert a.get("/api/agent/status").json()["reason_label"] == "会议"
    (refusal,) = audited(session_factory, boss.username, "supervisor.refused")
    assert refusal.target == f"agent:{other.agent_id}"
    assert refusal.details == {
        "action": "force_state",
        "reason": "agent-not-in-team",
        "team": team,
        "agent_team": f"{team}乙",
    }
    (change,) = audited(session_factory, boss.username, "agent.state")
    assert change.target == f"agent:{own.agent_id}"


@pytest.mark.parametrize("mode", ["listen", "whisper", "barge"])
def test_a_leader_cannot_listen_whisper_or_barge_in_on_another_team(
    desk_client: TestClient, session_factory: sessionmaker[Session], mode: str
) -> None:
    team = f"班组{uuid.uuid4().hex[:6]}"
    other = make_user(session_factory, Role.AGENT, team=f"{team}乙")
    boss = make_user(session_factory, Role.SUPERVISOR, team=team)
    login(desk_client, boss)
    reply = desk_client.post(
        "/api/supervisor/listen", json={"agent_id": other.agent_id, "mode": mode}
    )
    # Refused before the desk asks the PBX for anything: no spy call was ever placed.
    assert reply.status_code == 403, reply.text
    assert reply.json()["error"] == "agent-not-in-team"
    (refusal,) = audited(session_factory, boss.username, "supervisor.refused")
    assert (refusal.target, refusal.details["action"]) == (f"agent:{other.agent_id}", mode)
    assert audited(session_factory, boss.username, "call.listen") == []
    # A leader without a team leads nobody, not even the agents without one.
    loner = make_user(session_factory, Role.SUPERVISOR, team="")
    teamless = make_user(session_factory, Role.AGENT, team="")
    login(desk_client, loner)
    alone = desk_client.post("/api/supervisor/listen", json={"agent_id": teamless.agent_id})
    assert alone.json()["error"] == "agent-not-in-team"


@contextmanager
def taker_and_snoop(
    app: FastAPI, taker: DeskUser, snoop: DeskUser
) -> Iterator[tuple[TestClient, TestClient]]:
    """Both signed in to the desk; the taker ready for the ACD's next call."""
    with TestClient(app, client=LOCAL) as a, TestClient(app, client=LOCAL) as b:
        login(a, taker)
        login(b, snoop)
        a.post("/api/agent/sign-in")
        a.post("/api/agent/ready")
        yield a, b


def test_an_order_is_opened_only_from_the_agents_own_call(
    desk_app: FastAPI,
    settings: Settings,
    session_factory: sessionmaker[Session],
    redis_namespace: str,
) -> None:
    taker = make_user(session_factory, Role.AGENT)
    snoop = make_user(session_factory, Role.AGENT)
    live = f"call-{uuid.uuid4().hex[:10]}"
    open_call(session_factory, settings, live, Line.HOTLINE, "13912345678")
    with taker_and_snoop(desk_app, taker, snoop) as (a, b):
        take_call(settings, redis_namespace, live, taker.agent_id)
        # Another agent names the live call: refused, audited, no order.
        stolen = b.post("/api/agent/call/order", json={"title": "冒用来电", "call_id": live})
        assert stolen.status_code == 403 and stolen.json()["error"] == "not-own-call"
        # The agent on the call opens the order from it.
        mine = a.post("/api/agent/call/order", json={"title": "医保报销咨询", "call_id": live})
        assert mine.status_code == 201, mine.text
        # An earlier call the agent took (its record names the agent) still counts as own.
        earlier = f"call-{uuid.uuid4().hex[:10]}"
        open_call(session_factory, settings, earlier, Line.HOTLINE, "13812345678",
                  agent_id=taker.agent_id, disposition=Disposition.ANSWERED,
                  answered_at=datetime.now(UTC) - timedelta(minutes=5))  # fmt: skip
        later = a.post("/api/agent/call/order", json={"title": "补充材料", "call_id": earlier})
        assert later.status_code == 201, later.text
        again = b.post("/api/agent/call/order", json={"title": "冒用来电", "call_id": earlier})
        assert again.json()["error"] == "not-own-call"
    (refusal, second) = audited(session_factory, snoop.username, "call.order_refused")
    assert (refusal.target, second.target) == (f"call:{live}", f"call:{earlier}")
    assert refusal.details == {"reason": "not-own-call", "agent_id": snoop.agent_id}
    with session_factory() as db:
        makers = db.scalars(select(WorkOrder.created_by).where(WorkOrder.call_id == live)).all()
    assert makers == [taker.username]


def test_a_wrap_up_is_for_the_own_call_and_links_only_the_teams_orders(
    desk_app: FastAPI,
    settings: Settings,
    session_factory: sessionmaker[Session],
    redis_namespace: str,
) -> None:
    team = f"班组{uuid.uuid4().hex[:6]}"
    taker = make_user(session_factory, Role.AGENT, team=team)
    snoop = make_user(session_factory, Role.AGENT, team=f"{team}乙")
    call_id = f"call-{uuid.uuid4().hex[:10]}"
    open_call(session_factory, settings, call_id, Line.HOTLINE, "13912345678")
    with taker_and_snoop(desk_app, taker, snoop) as (a, b):
        take_call(settings, redis_namespace, call_id, taker.agent_id, talk_seconds=30.0)
        theirs = b.post("/api/workorders", json={"title": "乙组工单"}).json()["number"]
        ours = a.post("/api/workorders", json={"title": "本组工单"}).json()["number"]

        def wrap(client: TestClient, order: str = "") -> Response:
            body = {"call_id": call_id, "code": "order", "notes": "小结", "order_number": order}
            return client.post("/api/agent/wrapup", json=body)

        stolen = wrap(b)  # another agent's call
        assert stolen.status_code == 403 and stolen.json()["error"] == "not-own-call"
        foreign = wrap(a, theirs)  # another team's order
        assert foreign.status_code == 403
        assert foreign.json()["error"] == "workorder-out-of-scope"
        with session_factory() as db:
            record = db.scalars(select(CallRecord).where(CallRecord.call_id == call_id)).one()
            assert record.wrapup_code == ""  # neither refusal kept anything
        done = wrap(a, ours)
        assert done.status_code == 200 and done.json()["state"] == "ready"
    (refusal,) = audited(session_factory, snoop.username, "call.wrapup_refused")
    assert refusal.target == f"call:{call_id}"
    (out_of_scope,) = audited(session_factory, taker.username, "workorder.refused")
    assert out_of_scope.details["purpose"] == "wrapup"
    with session_factory() as db:
        record = db.scalars(select(CallRecord).where(CallRecord.call_id == call_id)).one()
        linked = db.scalars(select(WorkOrder.number).join(
            WorkOrderCall, WorkOrderCall.order_id == WorkOrder.id
        ).where(WorkOrderCall.call_id == call_id)).all()  # fmt: skip
    assert (record.wrapup_code, linked) == ("order", [ours])
