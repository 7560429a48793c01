"""Work-order reads scoped to the desk team (issue 18, item 9): an agent reads and works on
the own team's orders, the intake nobody has taken yet and the own orders; another team's
order is left out of lists, hot spots and repeat callers, and refused by id with 403
``workorder-out-of-scope`` (audited). Auditors and the commission's managers read every team's.
Every read is audited. Orders are made through the desk's API and the work-order service.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from agent_desk.auth.guard import COOKIE
from backend.db import transaction
from backend.models.users import Role
from backend.models.workorders import DeskNotification
from backend.settings import Settings
from backend.workorders.composition import workorder_service
from backend.workorders.desk_notifier import DeskNotifier
from backend.workorders.overdue import mark_overdue
from backend.workorders.service import Actor, OrderDraft
from backend.workorders.workflow import Source
from recordings.index import RecordingIndex
from tests.desk_support import audited, login, make_user


@dataclass(frozen=True)
class Person:
    username: str
    headers: dict[str, str]  # this person's session cookie
    agent_id: int | None = None


@dataclass(frozen=True)
class Teams:
    client: TestClient
    team: str  # team A's name; team B is "<team A>乙"
    first: Person  # an agent of team A
    leader: Person  # team A's supervisor
    second: Person  # an agent of team B
    auditor: Person
    manager: Person

    def ids(self, who: Person, path: str = "/api/workorders") -> list[int]:
        reply = self.client.get(path, params={"limit": 500}, headers=who.headers)
        assert reply.status_code == 200, reply.text
        return [o["id"] for o in reply.json()]

    def file(self, who: Person, phone: str, title: str = "医保报销进度咨询") -> int:
        body = {"title": title, "caller_phone": phone, "category": "医疗保障/医保报销"}
        reply = self.client.post("/api/workorders", json=body, headers=who.headers)
        assert reply.status_code == 201, reply.text
        return int(reply.json()["id"])


@pytest.fixture()
def teams(desk_client: TestClient, session_factory: sessionmaker[Session]) -> Teams:
    team = f"班组{uuid.uuid4().hex[:6]}"

    def person(role: Role, team: str) -> Person:
        user = make_user(session_factory, role, team=team)
        login(desk_client, user)
        token = desk_client.cookies.get(COOKIE)
        desk_client.cookies.clear()
        return Person(user.username, {"Cookie": f"{COOKIE}={token}"}, user.agent_id)

    return Teams(
        desk_client,
        team,
        person(Role.AGENT, team),
        person(Role.SUPERVISOR, team),
        person(Role.AGENT, f"{team}乙"),
        person(Role.AUDITOR, ""),
        person(Role.MANAGER, ""),
    )


def phone() -> str:
    return f"139{uuid.uuid4().int % 10**8:08d}"


def test_another_teams_order_is_refused_and_audited_the_own_teams_served(
    teams: Teams, session_factory: sessionmaker[Session]
) -> None:
    client, second = teams.client, teams.second
    ours = teams.file(teams.first, phone())
    assert ours not in teams.ids(second)
    assert ours not in teams.ids(second, "/api/workorders?mine=true")
    # Named by id: the detail, each step, linking a call, the 回访 call, its recordings.
    attempts = {
        "view": client.get(f"/api/workorders/{ours}", headers=second.headers),
        "sign": client.post(
            f"/api/workorders/{ours}/actions/sign", json={}, headers=second.headers
        ),
        "link_call": client.post(
            f"/api/workorders/{ours}/calls", json={"call_id": "c-1"}, headers=second.headers
        ),
        "revisit_call": client.post(f"/api/workorders/{ours}/revisit-call", headers=second.headers),
        "recording": client.get(
            f"/api/workorders/{ours}/calls/1/recording", headers=second.headers
        ),
    }
    for purpose, reply in attempts.items():
        assert reply.status_code == 403, (purpose, reply.text)
        assert reply.json()["error"] == "workorder-out-of-scope"
    refusals = audited(session_factory, second.username, "workorder.refused")
    assert [r.details["purpose"] for r in refusals] == list(attempts)
    assert {r.target for r in refusals} == {f"work_order:{ours}"}
    assert refusals[0].details["team"] != refusals[0].details["order_team"]
    # Nothing was done to the order: still waiting to be signed, its timeline one step.
    shown = client.get(f"/api/workorders/{ours}", headers=teams.first.headers).json()
    assert shown["state"] == "created" and len(shown["timeline"]) == 1 and len(shown["calls"]) == 0

    # The own team: the filer and the team's leader read and work on it, and it is audited.
    assert ours in teams.ids(teams.leader)
    signed = client.post(
        f"/api/workorders/{ours}/actions/sign", json={}, headers=teams.leader.headers
    )
    assert signed.status_code == 200 and signed.json()["assignee"] == teams.leader.username
    (view,) = audited(session_factory, teams.first.username, "workorder.view")
    assert view.target == f"work_order:{ours}"
    lists = audited(session_factory, teams.leader.username, "workorder.list")
    assert ours in lists[0].details["orders"]
    # Auditors and managers oversee every team.
    for overseer in (teams.auditor, teams.manager):
        assert ours in teams.ids(overseer)
        assert client.get(f"/api/workorders/{ours}", headers=overseer.headers).status_code == 200


def test_the_intake_is_everyones_until_a_team_signs_for_it(
    teams: Teams, settings: Settings, session_factory: sessionmaker[Session]
) -> None:
    client = teams.client
    with transaction(session_factory) as db:
        message, _ = workorder_service(db, settings).create_from_message(
            f"msg-{uuid.uuid4().hex[:8]}", "hotline", phone(), "msg/1.wav",
            source=Source.HOTLINE_MESSAGE, received_at=datetime.now(UTC),
        )  # fmt: skip
        intake = message.id
    assert intake in teams.ids(teams.first) and intake in teams.ids(teams.second)
    took = client.post(
        f"/api/workorders/{intake}/actions/sign", json={}, headers=teams.second.headers
    )
    assert took.status_code == 200, took.text
    # Signed by team B: team A no longer sees it.
    assert intake not in teams.ids(teams.first)
    refused = client.get(f"/api/workorders/{intake}", headers=teams.first.headers)
    assert refused.json()["error"] == "workorder-out-of-scope"
    assert intake in teams.ids(teams.second) and intake in teams.ids(teams.auditor)


def test_earlier_orders_and_repeat_callers_stay_within_the_team(teams: Teams) -> None:
    client, caller = teams.client, phone()
    theirs = [teams.file(teams.second, caller, "药品目录咨询") for _ in range(2)]
    ours = teams.file(teams.first, caller)
    earlier = client.get(f"/api/workorders/{ours}", headers=teams.first.headers).json()
    assert earlier["earlier_orders"] == []  # the caller's orders of team B are not shown
    masked = f"{caller[:3]}****{caller[-4:]}"

    def repeaters(who: Person) -> list[str]:
        reply = client.get("/api/workorders/repeat-callers", headers=who.headers)
        assert reply.status_code == 200, reply.text
        return [r["phone_masked"] for r in reply.json()]

    assert masked in repeaters(teams.second) and masked in repeaters(teams.auditor)
    assert masked not in repeaters(teams.first)
    detail = client.get(f"/api/workorders/{theirs[1]}", headers=teams.second.headers).json()
    assert [o["id"] for o in detail["earlier_orders"]] == [theirs[0]]


def recorded_call(factory: sessionmaker[Session], settings: Settings, agent: Person) -> str:
    """A call whose recording the controller registered and closed for ``agent``."""
    call_id = f"rec-{uuid.uuid4().hex[:10]}"
    index = RecordingIndex(factory, settings)
    index.register(
        call_id, f"{settings.effective_asterisk_recordings_dir}/{call_id}.wav", "hotline"
    )
    index.finish(call_id, agent.agent_id, wait_seconds=0)
    return call_id


def test_a_linked_call_brings_only_its_own_recording_of_the_own_team(
    teams: Teams, settings: Settings, session_factory: sessionmaker[Session]
) -> None:
    client, leader = teams.client, teams.leader
    ours = teams.file(teams.first, phone())
    own, foreign = (
        recorded_call(session_factory, settings, p) for p in (teams.first, teams.second)
    )

    def link(call_id: str, path: str = "") -> Response:
        body = {"call_id": call_id, "relation": "follow_up", "recording_path": path}
        return client.post(f"/api/workorders/{ours}/calls", json=body, headers=leader.headers)

    # Another team's call: its recording would play from this team's order. Refused, audited.
    refused = link(foreign)
    assert refused.status_code == 403 and refused.json()["error"] == "call-out-of-scope"
    (refusal,) = audited(session_factory, leader.username, "workorder.refused")
    assert refusal.details["call_id"] == foreign
    # A path typed in that is not the named call's own recording.
    typed = link(own, f"{foreign}.wav")
    assert typed.status_code == 422 and typed.json()["error"] == "recording-not-of-call"
    # The team's own call comes with its recording, found by the index, not typed.
    linked = link(own)
    assert linked.status_code == 200, linked.text
    (call,) = linked.json()["calls"]
    assert (call["call_id"], call["recording_path"]) == (own, f"{own}.wav")


def test_the_leaders_shared_inbox_tells_only_of_the_own_teams_orders(
    teams: Teams, settings: Settings, session_factory: sessionmaker[Session]
) -> None:
    leader, long_ago = teams.leader, datetime.now(UTC) - timedelta(days=60)
    with transaction(session_factory) as db:
        service = workorder_service(db, settings)
        # Orders received long ago (as the 12345 platform's may be): past every deadline.
        ours, theirs = (
            service.create(
                OrderDraft(title="长期未办结", caller_phone=phone(), received_at=long_ago, team=team),
                Actor(who.username), datetime.now(UTC),
            ).id
            for who, team in ((teams.first, teams.team), (teams.second, f"{teams.team}乙"))
        )  # fmt: skip
        mark_overdue(db, datetime.now(UTC), DeskNotifier(db))
    # Overdue orders are told to the supervisors' shared inbox: a leader sees the own team's.
    inbox = client_inbox(teams, leader)
    assert ours in inbox and theirs not in inbox
    with session_factory() as db:
        query = select(DeskNotification.id).where(DeskNotification.order_id == theirs)
        hidden = db.scalars(query).all()
    for ids, count in ((hidden, 0), ([inbox[ours]["id"]], 1)):
        read = teams.client.post(
            "/api/notifications/read", json={"ids": ids}, headers=leader.headers
        )
        assert read.json() == {"read": count}


def client_inbox(teams: Teams, who: Person) -> dict[int, dict[str, Any]]:
    """The person's unread notifications by order id."""
    reply = teams.client.get("/api/notifications", headers=who.headers)
    assert reply.status_code == 200, reply.text
    return {int(n["order_id"]): n for n in reply.json() if n["order_id"] is not None}
