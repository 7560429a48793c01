"""Work orders by department (issue 21): a handling office's account (承办单位) sees only the
orders dispatched to its office — in the list, the detail, hot spots and notifications — and
takes only the office's steps (承办, 反馈, 退单); the hotline takes the rest (审核, 回访...)
and no longer the office's. Another office's order is 403 with a clear reason and never
listed. Everything over the desk's HTTP API, each request as its signed-in user."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from agent_desk.auth.guard import COOKIE
from backend.models.users import Role
from tests.desk_support import audited, login, make_user

FEEDBACK = {
    "background": "来电人反映门诊报销比例与政策不符",
    "process": "核查了该参保人的结算记录与适用政策",
    "result": "系统参数有误已更正并补发差额",
    "follow_up": "本月内复核同类结算并告知来电人",
}


@dataclass(frozen=True)
class Person:
    username: str
    headers: dict[str, str]


@pytest.fixture()
def sign_in(
    desk_client: TestClient, session_factory: sessionmaker[Session]
) -> Callable[..., Person]:
    def signed_in(role: Role, team: str = "一组") -> Person:
        user = make_user(session_factory, role, team=team)
        login(desk_client, user)
        token = desk_client.cookies.get(COOKIE)
        desk_client.cookies.clear()  # each request says who it is
        return Person(user.username, {"Cookie": f"{COOKIE}={token}"})

    return signed_in


def step(client: TestClient, who: Person, order_id: int, action: str, **body: object) -> dict:
    answer = client.post(
        f"/api/workorders/{order_id}/actions/{action}", json=body, headers=who.headers
    )
    return {"status": answer.status_code, **answer.json()}


def dispatched(client: TestClient, agent: Person, office: str) -> int:
    """An order filed and signed by the hotline and dispatched to ``office``."""
    made = client.post(
        "/api/workorders",
        json={
            "title": f"门诊报销比例不对{uuid.uuid4().hex[:6]}",
            "category": "医疗保障/医保报销",
            "caller_name": "李四",
            "caller_phone": "13912345678",
        },
        headers=agent.headers,
    )
    assert made.status_code == 201, made.text
    order_id = int(made.json()["id"])
    assert step(client, agent, order_id, "sign")["status"] == 200
    assert step(client, agent, order_id, "dispatch", department=office)["status"] == 200
    return order_id


def test_an_office_sees_and_handles_only_its_own_orders(
    desk_client: TestClient, sign_in: Callable[..., Person], session_factory: sessionmaker[Session]
) -> None:
    ours, theirs = f"医保中心{uuid.uuid4().hex[:4]}", f"卫健委{uuid.uuid4().hex[:4]}"
    agent = sign_in(Role.AGENT)
    mine, other = dispatched(desk_client, agent, ours), dispatched(desk_client, agent, theirs)
    office = sign_in(Role.DEPARTMENT, ours)

    listed = desk_client.get("/api/workorders", headers=office.headers)
    assert listed.status_code == 200
    assert [o["id"] for o in listed.json()] == [mine]
    every_state = desk_client.get(
        "/api/workorders?state=dispatched&state=handling", headers=office.headers
    ).json()
    assert other not in [o["id"] for o in every_state]
    refused = desk_client.get(f"/api/workorders/{other}", headers=office.headers)
    assert refused.status_code == 403, refused.text
    assert refused.json() == {
        "error": "workorder-out-of-scope",
        "message": f"该工单未派发给您的承办单位（{ours}），无权查看或办理",
    }
    assert audited(session_factory, office.username, "workorder.refused")
    assert step(desk_client, office, other, "accept_assignment")["status"] == 403
    missing = desk_client.get("/api/workorders/2147483000", headers=office.headers)
    assert missing.status_code == 404
    seen = desk_client.get(f"/api/workorders/{mine}", headers=office.headers).json()
    assert seen["actions"] == {"accept_assignment": "承办", "return": "退单"}
    hotline_view = desk_client.get(f"/api/workorders/{mine}", headers=agent.headers).json()
    assert hotline_view["actions"] == {}  # waiting for the office: nothing for the hotline

    not_hotline = step(desk_client, agent, mine, "accept_assignment")
    assert not_hotline["status"] == 403 and not_hotline["error"] == "workorder-step-not-yours"
    assert "由承办单位办理" in not_hotline["message"]
    assert step(desk_client, office, mine, "accept_assignment")["status"] == 200
    handled = step(desk_client, office, mine, "submit_feedback", **FEEDBACK)
    assert handled["status"] == 200 and handled["state"] == "feedback_submitted", handled
    not_office = step(desk_client, office, mine, "check_feedback", accept=True)
    assert not_office["status"] == 403 and "由热线办理" in not_office["message"], not_office
    checked = step(desk_client, agent, mine, "check_feedback", accept=True)
    assert checked["status"] == 200 and checked["state"] == "accepted", checked
    assert step(desk_client, office, mine, "callback", recording="x", resolved=True,
                satisfied=True)["status"] == 403  # fmt: skip
    filed = desk_client.post("/api/workorders", json={"title": "x"}, headers=office.headers)
    assert filed.status_code == 403


def test_an_office_may_send_back_a_wrong_dispatch_and_then_loses_nothing_it_saw(
    desk_client: TestClient, sign_in: Callable[..., Person]
) -> None:
    ours = f"医保中心{uuid.uuid4().hex[:4]}"
    agent = sign_in(Role.AGENT)
    order_id = dispatched(desk_client, agent, ours)
    office = sign_in(Role.DEPARTMENT, ours)
    no_reason = step(desk_client, office, order_id, "return")
    assert no_reason["status"] == 409 or no_reason["status"] == 422, no_reason
    returned = step(
        desk_client, office, order_id, "return", reason="不属于本单位职责，应由区卫健委办理"
    )
    assert returned["status"] == 200 and returned["state"] == "returned", returned
    again = step(desk_client, agent, order_id, "dispatch", department="区卫健委")
    assert again["status"] == 200
    gone = desk_client.get(f"/api/workorders/{order_id}", headers=office.headers)
    assert gone.status_code == 403
    assert order_id not in [o["id"] for o in desk_client.get(
        "/api/workorders", headers=office.headers).json()]  # fmt: skip


def test_an_office_account_without_an_office_sees_nothing(
    desk_client: TestClient, sign_in: Callable[..., Person]
) -> None:
    agent = sign_in(Role.AGENT)
    order_id = dispatched(desk_client, agent, f"医保中心{uuid.uuid4().hex[:4]}")
    nobody = sign_in(Role.DEPARTMENT, "")
    assert desk_client.get("/api/workorders", headers=nobody.headers).json() == []
    refused = desk_client.get(f"/api/workorders/{order_id}", headers=nobody.headers)
    assert refused.status_code == 403 and "未设置" in refused.json()["message"]
