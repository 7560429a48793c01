"""The live feed: ``/ws/live`` relays ``backend.events`` from Redis pub/sub to browsers.

An agent receives only events about itself (screen pop, own state); a wallboard role receives
agent states and queue sizes of everybody. Caller numbers are masked before they leave, and
the screen pop is enriched with the caller's history here, on the server.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import redis.asyncio as aioredis
from fastapi import APIRouter, WebSocket, WebSocketDisconnect

from agent_desk.auth.activity import feed_keeps_alive
from agent_desk.auth.errors import NotAuthenticated
from agent_desk.auth.guard import Caller, caller_of
from agent_desk.auth.permissions import Permission, allowed
from agent_desk.auth.sessions import DeskSession
from agent_desk.screen_pop import pop_for_call, pop_of_offer
from agent_desk.state import AppState, state_of
from backend import events
from backend.models.users import Role

SESSION_CHECK_SECONDS = 30.0
# The agent's phone rings for a call: pop the screen from the call journal, so the pop does
# not depend on a CallOffered being published (one arriving later is not shown twice).
POP_STATES = frozenset({"reserved", "ringing"})
PERSONAL = (
    events.CallOffered,
    events.CallAnswered,
    events.CallEnded,
    events.AgentStateChanged,
    events.OutboundRefused,
)


def wanted(event: Any, role: Role, agent_id: int | None) -> bool:
    """Whether a person with ``role`` (and own ``agent_id``) should see ``event``."""
    own = agent_id is not None and getattr(event, "agent_id", None) == agent_id
    if isinstance(event, PERSONAL) and own and allowed(role, Permission.DESK):
        return True
    if isinstance(event, events.EmergencyActivated):  # the alert: everybody at a desk
        return allowed(role, Permission.DESK) or allowed(role, Permission.WALLBOARD)
    if allowed(role, Permission.WALLBOARD):
        return isinstance(event, events.AgentStateChanged | events.QueueChanged | events.CallEnded)
    return False


async def outgoing(state: AppState, event: Any) -> dict[str, Any]:
    if isinstance(event, events.CallOffered):
        return await asyncio.to_thread(pop_of_offer, state, event)
    return {"type": type(event).__name__, **asdict(event)}


async def screen_pop_due(
    state: AppState, event: Any, agent_id: int | None, popped: set[str]
) -> dict[str, Any] | None:
    """The pop to send when this state change rings the agent's own phone, else None."""
    if not (
        isinstance(event, events.AgentStateChanged)
        and agent_id is not None
        and event.agent_id == agent_id
        and event.state in POP_STATES
        and event.call_id
        and event.call_id not in popped
    ):
        return None
    pop = await asyncio.to_thread(pop_for_call, state, event.call_id)
    if pop is None:
        return None
    popped.add(event.call_id)
    return {**pop.model_dump(), "at": event.at}


async def _until_closed(websocket: WebSocket) -> None:
    with contextlib.suppress(WebSocketDisconnect):
        while True:
            await websocket.receive_text()


def same_origin(origin: str, host: str) -> bool:
    """A browser always sends Origin on a WebSocket; non-browser clients may omit it."""
    if not origin:
        return True
    return urlsplit(origin).netloc == host


def state_event(fields: dict[str, str]) -> events.AgentStateChanged:
    """An entry of the ACD's state stream as the live event browsers know."""
    at = datetime.fromtimestamp(int(fields.get("at") or 0) / 1000.0, tz=UTC).isoformat()
    return events.AgentStateChanged(
        agent_id=int(fields["agent_id"]),
        state=fields.get("state", ""),
        reason=fields.get("reason", ""),
        call_id=fields.get("call_id", ""),
        at=at,
    )


async def _pump_pubsub(
    client: aioredis.Redis, channel: str, queue: asyncio.Queue[Any], ready: asyncio.Event
) -> None:
    pubsub = client.pubsub()
    await pubsub.subscribe(channel)
    try:
        # Only Redis' confirmation means that what is published from now on reaches us.
        while not ready.is_set():
            confirmation = await pubsub.get_message(timeout=1.0)
            if confirmation is not None and confirmation.get("type") == "subscribe":
                ready.set()
        while True:
            message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=1.0)
            if message is None or message.get("type") != "message":
                continue
            try:
                event = events.decode(message["data"])
            except (ValueError, TypeError):
                continue  # an event type this desk does not know yet
            # Agent states come from the ACD's own stream (below), which every change is
            # written to atomically; a published copy would only show twice.
            if not isinstance(event, events.AgentStateChanged):
                await queue.put(event)
    finally:
        await pubsub.aclose()  # type: ignore[attr-defined]


async def _pump_states(
    client: aioredis.Redis, stream: str, queue: asyncio.Queue[Any], ready: asyncio.Event
) -> None:
    latest = await client.xrevrange(stream, count=1)
    last_id = latest[0][0] if latest else "0-0"
    ready.set()
    while True:
        batches = await client.xread({stream: last_id}, count=100, block=1000)
        for _, entries in batches or []:
            for entry_id, fields in entries:
                last_id = entry_id
                try:
                    await queue.put(state_event(fields))
                except (KeyError, ValueError):
                    continue  # a malformed entry: the history writer reports those


router = APIRouter()


@router.websocket("/ws/live")
async def live(websocket: WebSocket) -> None:
    caller = await admitted(websocket)
    if caller is None:
        return
    await websocket.accept()
    state = state_of(websocket)
    await session_open(state, caller)  # an agent taking calls: opening the feed counts too
    await relay(state, websocket, caller)


async def session_open(state: AppState, caller: Caller) -> bool:
    """Whether the feed's session still exists. Looking it up is no activity of its user,
    except for an agent the ACD may put calls through to (``activity.feed_keeps_alive``)."""
    session = caller.session
    acd_state = None
    if session.role is Role.AGENT and session.agent_id is not None:
        async with state.acd() as acd:
            view = await acd.agent(session.agent_id)
        acd_state = view.status.state if view is not None else None
    touch = feed_keeps_alive(session.role, acd_state)
    return state.auth.sessions.get(caller.token, touch=touch) is not None


async def admitted(websocket: WebSocket) -> Caller | None:
    """Who may read the feed; None once the socket is closed with the reason (4401: no
    session, 4403: another site's page, or a role that sees no live events)."""
    try:
        caller = caller_of(websocket)
    except NotAuthenticated:
        await websocket.close(code=4401)
        return None
    session: DeskSession = caller.session
    if not same_origin(websocket.headers.get("origin", ""), websocket.headers.get("host", "")):
        await websocket.close(code=4403)  # another site's page must not read the feed
        return None
    if not session.ready or not (
        allowed(session.role, Permission.DESK) or allowed(session.role, Permission.WALLBOARD)
    ):
        await websocket.close(code=4403)
        return None
    return caller


async def relay(state: AppState, websocket: WebSocket, caller: Caller) -> None:
    """Pump the published events and the ACD's state stream into one queue; forward what the
    caller may see until the browser or Redis goes away, or the session ends."""
    # Two connections: XREAD blocks its connection, pub/sub owns the other.
    subscriber, reader = state.async_redis(), state.async_redis()
    queue: asyncio.Queue[Any] = asyncio.Queue(maxsize=1000)
    subscribed, reading = asyncio.Event(), asyncio.Event()
    channel = events.channel_name(state.prefix)
    pumps = [
        asyncio.create_task(_pump_pubsub(subscriber, channel, queue, subscribed)),
        asyncio.create_task(_pump_states(reader, f"{state.prefix}:acd:events", queue, reading)),
    ]
    closed = asyncio.create_task(_until_closed(websocket))
    try:
        await asyncio.wait_for(asyncio.gather(subscribed.wait(), reading.wait()), timeout=5.0)
        await websocket.send_json({"type": "Subscribed"})
        await _forward(state, websocket, caller, queue, [*pumps, closed])
    except WebSocketDisconnect:
        pass
    finally:
        for task in (*pumps, closed):
            task.cancel()
        await asyncio.gather(*pumps, closed, return_exceptions=True)
        await subscriber.aclose()  # type: ignore[attr-defined]
        await reader.aclose()  # type: ignore[attr-defined]


async def _forward(
    state: AppState,
    websocket: WebSocket,
    caller: Caller,
    queue: asyncio.Queue[Any],
    tasks: list[asyncio.Task[None]],
) -> None:
    """``tasks``: the pumps and the close watcher; when one ends, so does the feed (a pump
    ends when Redis went away: the browser reconnects and re-reads the state)."""
    session = caller.session
    checked = time.monotonic()
    popped: set[str] = set()
    while not any(task.done() for task in tasks):
        try:
            event = await asyncio.wait_for(queue.get(), timeout=0.5)
        except TimeoutError:
            event = None
        if time.monotonic() - checked > SESSION_CHECK_SECONDS:
            checked = time.monotonic()
            if not await session_open(state, caller):
                await websocket.close(code=4401)
                return
        if event is not None and wanted(event, session.role, session.agent_id):
            await _send(state, websocket, event, session.agent_id, popped)


async def _send(
    state: AppState, websocket: WebSocket, event: Any, agent_id: int | None, popped: set[str]
) -> None:
    pop = await screen_pop_due(state, event, agent_id, popped)
    if pop is not None:
        await websocket.send_json(pop)
    if isinstance(event, events.CallOffered):
        if event.call_id in popped:
            return
        popped.add(event.call_id)
    await websocket.send_json(await outgoing(state, event))
