"""The live feed: a CallOffered published on Redis reaches that agent's browser as a screen
pop (masked number, intent, history); other agents' calls do not; wallboards see states."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import pytest
import redis
import redis.asyncio as aioredis
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker
from starlette.websockets import WebSocketDisconnect

from backend import events
from backend.acd.policy import SkillConfig
from backend.acd.store import AcdStore
from backend.db import transaction
from backend.models.calls import Disposition, IvrStep, Line
from backend.models.users import Role
from backend.settings import Settings
from tests.desk_support import LOCAL, login, make_user, open_call


def test_screen_pop_reaches_only_the_offered_agent(
    desk_client: TestClient,
    settings: Settings,
    session_factory: sessionmaker[Session],
    redis_client: redis.Redis,
    redis_namespace: str,
) -> None:
    agent = make_user(session_factory, Role.AGENT)
    other = make_user(session_factory, Role.AGENT)
    number = f"139{uuid.uuid4().int % 10**8:08d}"
    # Another citizen whose number has the same mask (139****dddd): not this caller's history.
    namesake = number[:3] + f"{(int(number[3:7]) + 1) % 10**4:04d}" + number[-4:]
    for phone, wrapup in ((number, "booked"), (namesake, "order")):
        open_call(
            session_factory,
            settings,
            f"old-{uuid.uuid4().hex[:8]}",
            Line.APPOINTMENT_114,
            phone,
            started_at=datetime.now(UTC) - timedelta(days=2),
            disposition=Disposition.ANSWERED,
            wrapup_code=wrapup,
        )
    login(desk_client, agent)
    with desk_client.websocket_connect("/ws/live") as ws:
        assert ws.receive_json()["type"] == "Subscribed"
        for target in (other.agent_id, agent.agent_id):
            assert target is not None
            events.publish(
                redis_client,
                events.CallOffered(
                    agent_id=target,
                    call_id=f"c-{target}",
                    line="114",
                    caller_number=number,
                    skill="booking",
                    intent="booking",
                    ivr_path=["welcome", "menu"],
                ),
                redis_namespace,
            )
        pop = ws.receive_json()
    assert pop["type"] == "CallOffered" and pop["call_id"] == f"c-{agent.agent_id}"
    assert pop["caller_number"] == number[:3] + "****" + number[-4:]
    assert number not in str(pop)
    assert (pop["intent_label"], pop["line_label"]) == ("预约挂号", "114预约挂号")
    assert pop["ivr_path"] == ["welcome", "menu"]
    assert [c["wrapup_code"] for c in pop["history"]["calls"]] == ["booked"]


def test_wallboard_receives_every_agents_state_changes_and_queue_sizes(
    desk_client: TestClient,
    session_factory: sessionmaker[Session],
    redis_client: redis.Redis,
    redis_namespace: str,
) -> None:
    agent = make_user(session_factory, Role.AGENT)
    login(desk_client, make_user(session_factory, Role.SUPERVISOR))
    with TestClient(desk_client.app, client=LOCAL) as phone:
        login(phone, agent)
        with desk_client.websocket_connect("/ws/live") as ws:
            assert ws.receive_json()["type"] == "Subscribed"
            phone.post("/api/agent/sign-in")
            got = ws.receive_json()
            events.publish(redis_client, events.QueueChanged("booking", 3, 41.5), redis_namespace)
            # A copy published by a controller is not shown twice: the ACD stream is the source.
            events.publish(
                redis_client,
                events.AgentStateChanged(agent.agent_id or 0, "ready"),
                redis_namespace,
            )
            queue = ws.receive_json()
    assert (got["type"], got["agent_id"], got["state"]) == (
        "AgentStateChanged",
        agent.agent_id,
        "not_ready",
    )
    assert (queue["type"], queue["waiting"]) == ("QueueChanged", 3)


def test_live_feed_refuses_strangers_and_roles_without_a_live_view(
    desk_client: TestClient, session_factory: sessionmaker[Session]
) -> None:
    with pytest.raises(WebSocketDisconnect), desk_client.websocket_connect("/ws/live") as ws:
        ws.receive_json()
    login(desk_client, make_user(session_factory, Role.HOSPITAL))
    with pytest.raises(WebSocketDisconnect), desk_client.websocket_connect("/ws/live") as ws:
        ws.receive_json()


def test_ringing_pops_the_screen_from_the_call_journal_once(
    desk_client: TestClient,
    settings: Settings,
    session_factory: sessionmaker[Session],
    redis_client: redis.Redis,
    redis_namespace: str,
) -> None:
    agent = make_user(session_factory, Role.AGENT)
    call_id = f"ring-{uuid.uuid4().hex[:8]}"
    open_call(session_factory, settings, call_id, Line.HOTLINE, "13700001234",
              intent="policy", skill="booking")  # fmt: skip
    with transaction(session_factory) as db:
        for seq, node in enumerate(["welcome", "main_menu", "policy_queue"]):
            db.add(IvrStep(call_id=call_id, seq=seq, node=node, kind="menu"))
    login(desk_client, agent)
    desk_client.post("/api/agent/sign-in")
    desk_client.post("/api/agent/ready")

    async def ring() -> None:
        client = aioredis.Redis.from_url(settings.redis_url, decode_responses=True)
        store = AcdStore(client, redis_namespace, [SkillConfig("booking")])
        await store.enqueue(call_id, "booking", line="hotline")
        assert (await store.pick()) is not None
        await store.ringing(call_id, agent.agent_id or 0)
        await client.aclose()

    with desk_client.websocket_connect("/ws/live") as ws:
        assert ws.receive_json()["type"] == "Subscribed"
        asyncio.run(ring())
        # The agent's states come from the event stream, the call events by pub/sub, each on
        # its own reader: the pop published below goes out once the ringing state is in.
        seen: list[dict[str, object]] = []
        while not any(m.get("state") == "ringing" for m in seen):
            seen.append(ws.receive_json())
        offered = events.CallOffered(
            agent.agent_id or 0, call_id, "hotline", "13700001234", "booking"
        )
        events.publish(redis_client, offered, redis_namespace)
        events.publish(redis_client, events.CallEnded(call_id, agent.agent_id), redis_namespace)
        while seen[-1]["type"] != "CallEnded":
            seen.append(ws.receive_json())
    pops = [m for m in seen if m["type"] == "CallOffered"]
    assert len(pops) == 1
    assert pops[0]["caller_number"] == "137****1234"
    assert (pops[0]["intent_label"], pops[0]["line_label"]) == ("医保政策咨询", "医保咨询热线")
    assert pops[0]["ivr_path"] == ["欢迎语", "主菜单", "政策咨询排队"]
    states = [m["state"] for m in seen if m["type"] == "AgentStateChanged"]
    assert states[-2:] == ["reserved", "ringing"]
