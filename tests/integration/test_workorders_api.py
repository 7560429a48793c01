"""The desk's work-order, knowledge and 12345 platform APIs over HTTP, on the real database.

The login layer of the desk is not part of this feature: a small middleware stands in for it
and sets ``request.state.user`` from a test header, the contract the APIs rely on.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
import redis
from fastapi import Request, Response
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from agent_desk.app import create_app
from backend.knowledge.demo_data import seed_knowledge_demo
from backend.settings import Settings
from backend.workorders.platform_clients import issue_platform_key


@pytest.fixture()
def client(
    settings: Settings, session_factory: sessionmaker[Session], redis_client: redis.Redis
) -> Iterator[TestClient]:
    app = create_app(settings, session_factory=session_factory, redis_client=redis_client)

    @app.middleware("http")
    async def stand_in_login(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        who = request.headers.get("x-test-user", "")
        if who:
            username, role = who.split(":")
            request.state.user = SimpleNamespace(username=username, role=role)
        return await call_next(request)

    with TestClient(app) as test_client:
        yield test_client


AGENT = {"X-Test-User": "agent_sun:agent"}
DESK = {"X-Test-User": "desk_qian:agent"}
LEADER = {"X-Test-User": "leader_zhou:supervisor"}
MANAGER = {"X-Test-User": "manager_wu:agent"}


def test_an_agent_files_an_order_and_the_desk_moves_it(client: TestClient) -> None:
    created = client.post(
        "/api/workorders",
        json={
            "title": "异地就医备案后仍不能直接结算",
            "category": "医疗保障/异地就医",
            "caller_name": "李四",
            "caller_phone": "13912345678",
            "call_id": f"api-{uuid.uuid4().hex[:8]}",
        },
        headers=AGENT,
    )
    assert created.status_code == 201, created.text
    order = created.json()
    assert order["caller_phone"] == "139****5678" and order["caller_name"] == "李*"
    assert order["state_label"] == "已受理" and order["actions"] == {"sign": "签收"}
    assert order["due_stage_label"] == "派发" and order["due_at"].endswith("+08:00")

    oid = order["id"]
    refused = client.post(f"/api/workorders/{oid}/actions/close", json={}, headers=DESK)
    assert refused.status_code == 422
    assert refused.json()["error"] == "illegal-transition"

    client.post(f"/api/workorders/{oid}/actions/sign", json={}, headers=DESK)
    moved = client.post(
        f"/api/workorders/{oid}/actions/dispatch",
        json={"department": "市医保中心", "copies": ["manager_wu"]},
        headers=DESK,
    )
    assert moved.status_code == 200 and moved.json()["state"] == "dispatched"
    detail = client.get(f"/api/workorders/{oid}", headers=AGENT).json()
    assert [e["action"] for e in detail["timeline"]] == ["create", "sign", "dispatch"]
    assert detail["calls"][0]["relation"] == "intake"
    assert detail["timeline"][1]["actor"] == "desk_qian"

    linked = client.post(
        f"/api/workorders/{oid}/calls",
        json={"call_id": "repeat-call-1", "relation": "repeat", "recording_path": "r/1.wav"},
        headers=AGENT,
    ).json()
    assert [c["relation"] for c in linked["calls"]] == ["intake", "repeat"]

    inbox = client.get("/api/notifications", headers=MANAGER).json()
    mine = [n for n in inbox if n["order_id"] == oid]
    assert mine and mine[0]["kind"] == "dispatched"
    read = client.post("/api/notifications/read", json={"ids": [mine[0]["id"]]}, headers=MANAGER)
    assert read.json() == {"read": 1}

    listed = client.get("/api/workorders", params={"state": "dispatched"}, headers=AGENT).json()
    assert oid in [o["id"] for o in listed]


def test_roles_that_may_not_act_get_403(client: TestClient) -> None:
    hospital = {"X-Test-User": "hosp_tiantan:hospital"}
    auditor = {"X-Test-User": "audit_ma:auditor"}
    assert client.get("/api/workorders", headers=hospital).status_code == 403
    assert client.get("/api/knowledge/search?q=ybbx", headers=hospital).status_code == 403
    assert client.get("/api/workorders", headers=auditor).status_code == 200
    denied = client.post("/api/workorders", json={"title": "审计员不能建单"}, headers=auditor)
    assert denied.status_code == 403 and denied.json()["error"] == "forbidden"


def test_bad_input_is_refused_not_a_server_error(client: TestClient) -> None:
    nul = client.post("/api/workorders", json={"title": "标题\u0000"}, headers=AGENT)
    assert nul.status_code == 422
    assert client.get(f"/api/workorders/{2**63}", headers=AGENT).status_code == 422
    missing = client.get(f"/api/workorders/{2**63 - 1}", headers=AGENT)
    assert missing.status_code == 404 and missing.json()["error"] == "not-found"


def test_without_login_the_apis_answer_401(client: TestClient) -> None:
    for path in ("/api/workorders", "/api/knowledge/search?q=ybbx", "/api/notifications"):
        response = client.get(path)
        assert response.status_code == 401
        assert response.json()["error"] == "not-authenticated"


def test_agents_search_and_leaders_edit_the_knowledge_base(
    client: TestClient, session_factory: sessionmaker[Session]
) -> None:
    with session_factory() as session:
        seed_knowledge_demo(session)
        session.commit()
    hits = client.get("/api/knowledge/search", params={"q": "ybbx"}, headers=AGENT).json()
    assert hits[0]["title"] == "医保报销怎么办理"
    assert hits[0]["title_html"] == "<mark>医保报销</mark>怎么办理"
    article = client.get(f"/api/knowledge/articles/{hits[0]['article_id']}", headers=AGENT)
    assert "直接结算" in article.json()["body"]

    marker = uuid.uuid4().hex[:6]
    body = {"title": f"长护险{marker}申请条件", "body": "重度失能人员可申请。", "tags": ["长护险"]}
    denied = client.post("/api/knowledge/articles", json=body, headers=AGENT)
    assert denied.status_code == 403 and denied.json()["error"] == "forbidden"
    made = client.post("/api/knowledge/articles", json=body, headers=LEADER)
    assert made.status_code == 201
    found = client.get("/api/knowledge/search", params={"q": f"长护险{marker}"}, headers=AGENT)
    assert found.json()[0]["article_id"] == made.json()["article_id"]


@pytest.fixture()
def key(session_factory: sessionmaker[Session]) -> str:
    """A new city platform client's API key."""
    with session_factory() as session:
        issued = issue_platform_key(session, f"12345-{uuid.uuid4().hex[:6]}")
        session.commit()
    return issued


def test_the_city_platform_pushes_an_order_twice_and_pulls_the_reply(
    client: TestClient, key: str
) -> None:
    platform_id = f"BJ12345-{uuid.uuid4().hex[:12]}"
    batch = {
        "orders": [
            {
                "platform_order_id": platform_id,
                "received_at": "2026-11-25T09:12:00+08:00",
                "title": "医保卡补办进度咨询",
                "content": "市民反映补办医保卡两周未收到",
                "category": "医疗保障/社保卡",
                "caller": {"name": "王五", "phone": "13600001234"},
                "deadline": "2026-12-04T18:00:00+08:00",
            }
        ]
    }
    bad = client.post("/api/city-platform/orders", json=batch, headers={"X-Api-Key": "nope"})
    assert bad.status_code == 401 and bad.json()["error"] == "bad-api-key"

    first = client.post("/api/city-platform/orders", json=batch, headers={"X-Api-Key": key})
    second = client.post("/api/city-platform/orders", json=batch, headers={"X-Api-Key": key})
    assert first.status_code == 200, first.text
    assert first.json()["results"][0]["status"] == "created"
    assert second.json()["results"][0]["status"] == "duplicate"
    assert second.json()["results"][0]["order_number"] == first.json()["results"][0]["order_number"]

    listed = client.get("/api/workorders", params={"state": "created"}, headers=DESK).json()
    ours = [o for o in listed if o["platform_order_id"] == platform_id]
    assert len(ours) == 1 and ours[0]["source"] == "city_platform"
    oid = ours[0]["id"]
    client.post(f"/api/workorders/{oid}/actions/sign", json={}, headers=DESK)
    client.post(
        f"/api/workorders/{oid}/actions/dispatch",
        json={"department": "东城区社保中心"},
        headers=DESK,
    )
    client.post(
        f"/api/workorders/{oid}/actions/return",
        json={"reason": "申请人户籍在西城区"},
        headers={"X-Test-User": "dept_dc:agent"},
    )
    replies = client.get(
        "/api/city-platform/replies",
        params={"since": "2026-01-01T00:00:00+08:00"},
        headers={"X-Api-Key": key},
    ).json()["replies"]
    reply = next(r for r in replies if r["platform_order_id"] == platform_id)
    assert reply["state"] == "returned" and reply["returned_reason"] == "申请人户籍在西城区"


def test_replies_page_through_orders_sharing_one_updated_at_each_exactly_once(
    client: TestClient, key: str
) -> None:
    # One import stamps the whole batch with one time; a page smaller than the batch used to
    # end inside the tie, and a cursor of the time alone skipped the rest of it.
    headers = {"X-Api-Key": key}
    start = datetime.now(UTC) - timedelta(seconds=1)
    tag = uuid.uuid4().hex[:8]
    ours = [f"BJ12345-{tag}-{n:02d}" for n in range(7)]
    batch = {"orders": [{"platform_order_id": pid, "title": "医保报销咨询"} for pid in ours]}
    pushed = client.post("/api/city-platform/orders", json=batch, headers=headers)
    assert pushed.status_code == 200, pushed.text

    seen: list[str] = []
    ours_at: set[str] = set()
    params: dict[str, object] = {"since": start.isoformat(), "limit": 3}
    for _ in range(100):
        page = client.get("/api/city-platform/replies", params=params, headers=headers)
        assert page.status_code == 200, page.text
        body = page.json()
        if body["next"] is None:
            assert body["replies"] == []
            break
        assert 0 < len(body["replies"]) <= 3
        for reply in body["replies"]:
            seen.append(reply["platform_order_id"])
            if reply["platform_order_id"] in ours:
                ours_at.add(reply["updated_at"])
        assert body["next"]["since"] == body["replies"][-1]["updated_at"]
        params = {**params, **body["next"]}
    else:
        pytest.fail("paging did not end")
    assert len(ours_at) == 1  # the seven really share one updated_at, more than a page
    assert sorted(p for p in seen if p in ours) == ours
    assert len(seen) == len(set(seen))
