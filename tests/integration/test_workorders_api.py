"""The desk's work-order, knowledge and 12345 platform APIs over HTTP, on the real database,
signed in as real desk users (each request carries its user's session cookie).
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

import pytest
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from agent_desk.auth.guard import COOKIE
from backend.api_keys import ApiKey as PlatformKey
from backend.audit import Actor
from backend.db import transaction
from backend.knowledge.demo_data import seed_knowledge_demo
from backend.models.audit import AuditRecord
from backend.models.users import Role
from backend.models.workorders import CityPlatformClient
from backend.personal_data import PersonalDataCipher
from backend.settings import Settings
from backend.signatures import signed_headers
from backend.workorders.platform_clients import platform_key
from tests.desk_support import login, make_user

Headers = dict[str, str]


@dataclass(frozen=True)
class Person:
    username: str
    headers: Headers  # the session cookie of this person


@pytest.fixture()
def client(desk_client: TestClient) -> TestClient:
    return desk_client


@pytest.fixture()
def sign_in(client: TestClient, session_factory: sessionmaker[Session]) -> Callable[..., Person]:
    """``sign_in(role)``: a new user of that role, logged in through the login API."""

    def signed_in(role: Role, team: str = "一组") -> Person:
        user = make_user(session_factory, role, team=team)
        login(client, user)
        token = client.cookies.get(COOKIE)
        client.cookies.clear()  # each request says who it is
        return Person(user.username, {"Cookie": f"{COOKIE}={token}"})

    return signed_in


def test_an_agent_files_an_order_and_the_desk_moves_it(
    client: TestClient, sign_in: Callable[..., Person]
) -> None:
    agent, desk_person = sign_in(Role.AGENT).headers, sign_in(Role.AGENT)
    desk = desk_person.headers
    manager = sign_in(Role.AGENT)
    created = client.post(
        "/api/workorders",
        json={
            "title": "异地就医备案后仍不能直接结算",
            "category": "医疗保障/异地就医",
            "caller_name": "李四",
            "caller_phone": "13912345678",
            "call_id": f"api-{uuid.uuid4().hex[:8]}",
        },
        headers=agent,
    )
    assert created.status_code == 201, created.text
    order = created.json()
    assert order["caller_phone"] == "139****5678" and order["caller_name"] == "李*"
    assert order["state_label"] == "已受理" and order["actions"] == {"sign": "签收"}
    assert order["due_stage_label"] == "派发" and order["due_at"].endswith("+08:00")

    oid = order["id"]
    refused = client.post(f"/api/workorders/{oid}/actions/close", json={}, headers=desk)
    assert refused.status_code == 422
    assert refused.json()["error"] == "illegal-transition"

    client.post(f"/api/workorders/{oid}/actions/sign", json={}, headers=desk)
    moved = client.post(
        f"/api/workorders/{oid}/actions/dispatch",
        json={"department": "市医保中心", "copies": [manager.username]},
        headers=desk,
    )
    assert moved.status_code == 200 and moved.json()["state"] == "dispatched"
    detail = client.get(f"/api/workorders/{oid}", headers=agent).json()
    assert [e["action"] for e in detail["timeline"]] == ["create", "sign", "dispatch"]
    assert detail["calls"][0]["relation"] == "intake"
    assert detail["timeline"][1]["actor"] == desk_person.username

    linked = client.post(
        f"/api/workorders/{oid}/calls",
        json={"call_id": "repeat-call-1", "relation": "repeat"},
        headers=agent,
    ).json()
    assert [c["relation"] for c in linked["calls"]] == ["intake", "repeat"]

    inbox = client.get("/api/notifications", headers=manager.headers).json()
    mine = [n for n in inbox if n["order_id"] == oid]
    assert mine and mine[0]["kind"] == "dispatched"
    read = client.post(
        "/api/notifications/read", json={"ids": [mine[0]["id"]]}, headers=manager.headers
    )
    assert read.json() == {"read": 1}

    listed = client.get("/api/workorders", params={"state": "dispatched"}, headers=agent).json()
    assert oid in [o["id"] for o in listed]


def test_roles_that_may_not_act_get_403(client: TestClient, sign_in: Callable[..., Person]) -> None:
    hospital = sign_in(Role.HOSPITAL).headers
    auditor = sign_in(Role.AUDITOR).headers
    assert client.get("/api/workorders", headers=hospital).status_code == 403
    assert client.get("/api/knowledge/search?q=ybbx", headers=hospital).status_code == 403
    assert client.get("/api/workorders", headers=auditor).status_code == 200
    denied = client.post("/api/workorders", json={"title": "审计员不能建单"}, headers=auditor)
    assert denied.status_code == 403 and denied.json()["error"] == "forbidden-role"


def test_bad_input_is_refused_not_a_server_error(
    client: TestClient, sign_in: Callable[..., Person]
) -> None:
    agent = sign_in(Role.AGENT).headers
    nul = client.post("/api/workorders", json={"title": "标题\u0000"}, headers=agent)
    assert nul.status_code == 422
    assert client.get(f"/api/workorders/{2**63}", headers=agent).status_code == 422
    missing = client.get(f"/api/workorders/{2**63 - 1}", headers=agent)
    assert missing.status_code == 404 and missing.json()["error"] == "not-found"


def test_without_login_the_apis_answer_401(client: TestClient) -> None:
    for path in ("/api/workorders", "/api/knowledge/search?q=ybbx", "/api/notifications"):
        response = client.get(path)
        assert response.status_code == 401
        assert response.json()["error"] == "not-authenticated"


def test_agents_search_and_leaders_edit_the_knowledge_base(
    client: TestClient, session_factory: sessionmaker[Session], sign_in: Callable[..., Person]
) -> None:
    agent, leader = sign_in(Role.AGENT).headers, sign_in(Role.SUPERVISOR).headers
    with session_factory() as session:
        seed_knowledge_demo(session)
        session.commit()
    hits = client.get("/api/knowledge/search", params={"q": "ybbx"}, headers=agent).json()
    # Ranking over the demo corpus alone is test_knowledge_service's; here the shared
    # database holds other tests' articles too, so the demo article need only be found.
    hit = next(h for h in hits if h["title"] == "医保报销怎么办理")
    assert hit["title_html"] == "<mark>医保报销</mark>怎么办理"
    article = client.get(f"/api/knowledge/articles/{hit['article_id']}", headers=agent)
    assert "直接结算" in article.json()["body"]

    marker = uuid.uuid4().hex[:6]
    body = {"title": f"长护险{marker}申请条件", "body": "重度失能人员可申请。", "tags": ["长护险"]}
    denied = client.post("/api/knowledge/articles", json=body, headers=agent)
    assert denied.status_code == 403 and denied.json()["error"] == "forbidden-role"
    made = client.post("/api/knowledge/articles", json=body, headers=leader)
    assert made.status_code == 201
    found = client.get("/api/knowledge/search", params={"q": f"长护险{marker}"}, headers=agent)
    assert found.json()[0]["article_id"] == made.json()["article_id"]


@dataclass
class Platform:
    """The city 12345 platform's client: every request signed with a new nonce."""

    client: TestClient
    key: PlatformKey

    def prepare(
        self,
        method: str,
        path: str,
        payload: object = None,
        params: dict[str, object] | None = None,
    ) -> tuple[str, bytes, Headers]:
        if params:
            path = f"{path}?{urlencode(params)}"
        body = b"" if payload is None else json.dumps(payload).encode()
        headers = signed_headers(
            "X-Platform-Key", self.key.key_id, self.key.secret, method, path, body, now=time.time()
        )
        return path, body, headers | {"Content-Type": "application/json"}

    def send(self, method: str, path: str, body: bytes, headers: Headers) -> Response:
        return self.client.request(method, path, content=body, headers=headers)

    def post(self, path: str, payload: object) -> Response:
        return self.send("POST", *self.prepare("POST", path, payload))

    def get(self, path: str, params: dict[str, object]) -> Response:
        return self.send("GET", *self.prepare("GET", path, params=params))


@pytest.fixture()
def platform(
    client: TestClient, session_factory: sessionmaker[Session], desk_app_settings: Settings
) -> Platform:
    """A new city platform client with its signing key."""
    cipher = PersonalDataCipher(desk_app_settings.data_key.get_secret_value())
    with transaction(session_factory) as session:
        name = f"12345-{uuid.uuid4().hex[:6]}"
        key = platform_key(session, cipher, name, Actor("cli:ops"), datetime.now(UTC), rotate=False)
    return Platform(client, key)


def test_the_city_platform_pushes_an_order_twice_and_pulls_the_reply(
    client: TestClient, platform: Platform, sign_in: Callable[..., Person]
) -> None:
    desk = sign_in(Role.AGENT).headers
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
    first = platform.post("/api/city-platform/orders", batch)
    second = platform.post("/api/city-platform/orders", batch)
    assert first.status_code == 200, first.text
    assert first.json()["results"][0]["status"] == "created"
    assert second.json()["results"][0]["status"] == "duplicate"
    assert second.json()["results"][0]["order_number"] == first.json()["results"][0]["order_number"]

    listed = client.get("/api/workorders", params={"state": "created"}, headers=desk).json()
    ours = [o for o in listed if o["platform_order_id"] == platform_id]
    assert len(ours) == 1 and ours[0]["source"] == "city_platform"
    oid = ours[0]["id"]
    client.post(f"/api/workorders/{oid}/actions/sign", json={}, headers=desk)
    client.post(
        f"/api/workorders/{oid}/actions/dispatch",
        json={"department": "东城区社保中心"},
        headers=desk,
    )
    client.post(
        f"/api/workorders/{oid}/actions/return",
        json={"reason": "申请人户籍在西城区"},
        # 退单 is the office's step: an account of the office it was dispatched to.
        headers=sign_in(Role.DEPARTMENT, "东城区社保中心").headers,
    )
    replies = platform.get(
        "/api/city-platform/replies", {"since": "2026-01-01T00:00:00+08:00"}
    ).json()["replies"]
    reply = next(r for r in replies if r["platform_order_id"] == platform_id)
    assert reply["state"] == "returned" and reply["returned_reason"] == "申请人户籍在西城区"


def test_replies_page_through_orders_sharing_one_updated_at_each_exactly_once(
    platform: Platform,
) -> None:
    # One import stamps the whole batch with one time; a page smaller than the batch used to
    # end inside the tie, and a cursor of the time alone skipped the rest of it.
    start = datetime.now(UTC) - timedelta(seconds=1)
    tag = uuid.uuid4().hex[:8]
    ours = [f"BJ12345-{tag}-{n:02d}" for n in range(7)]
    batch = {"orders": [{"platform_order_id": pid, "title": "医保报销咨询"} for pid in ours]}
    pushed = platform.post("/api/city-platform/orders", batch)
    assert pushed.status_code == 200, pushed.text

    seen: list[str] = []
    ours_at: set[str] = set()
    params: dict[str, object] = {"since": start.isoformat(), "limit": 3}
    for _ in range(100):
        page = platform.get("/api/city-platform/replies", params)
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


def test_city_platform_requests_must_be_signed_once_and_every_pull_is_audited(
    client: TestClient, platform: Platform, session_factory: sessionmaker[Session]
) -> None:
    batch = {"orders": [{"platform_order_id": f"BJ12345-{uuid.uuid4().hex}", "title": "咨询"}]}
    # The old bearer key, no signature, or a wrong secret: refused with the reason.
    bearer = client.post("/api/city-platform/orders", json=batch, headers={"X-Api-Key": "cp_x"})
    assert bearer.status_code == 401 and bearer.json()["error"] == "bad-signature"
    assert "X-Platform-Key" in bearer.json()["message"]
    forged = Platform(client, PlatformKey(platform.key.key_id, "guessed"))
    wrong = forged.post("/api/city-platform/orders", batch)
    assert wrong.status_code == 401 and "签名不正确" in wrong.json()["message"]

    # A captured import sent again: refused and audited, the order imported once.
    path, body, headers = platform.prepare("POST", "/api/city-platform/orders", batch)
    assert platform.send("POST", path, body, headers).status_code == 200
    replay = platform.send("POST", path, body, headers)
    assert replay.status_code == 401 and replay.json()["error"] == "replayed-request"
    actor = f"city:{platform_name(session_factory, platform.key)}"
    (refused,) = audited(session_factory, "city_platform.replay_refused", actor)
    assert refused.details["nonce"] == headers["X-Nonce"]
    assert len(audited(session_factory, "workorder.create", actor)) == 1

    since = (datetime.now(UTC) - timedelta(minutes=1)).isoformat()
    assert platform.get("/api/city-platform/replies", {"since": since}).status_code == 200
    (pull,) = audited(session_factory, "city_platform.replies_pull", actor)
    assert pull.details["replies"] >= 1 and pull.details["since"] == since


def platform_name(factory: sessionmaker[Session], key: PlatformKey) -> str:
    with factory() as session:
        query = select(CityPlatformClient.name).where(CityPlatformClient.key_id == key.key_id)
        return session.scalars(query).one()


def audited(factory: sessionmaker[Session], action: str, actor: str) -> list[AuditRecord]:
    with factory() as session:
        query = select(AuditRecord).where(AuditRecord.action == action, AuditRecord.actor == actor)
        return list(session.scalars(query.order_by(AuditRecord.id)))
