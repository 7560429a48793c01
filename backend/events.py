"""Live events between processes (controller → desk, wallboard), over Redis pub/sub.

Events are facts in the past tense. The controller publishes them as calls and agents move;
the desk relays them to browsers over WebSocket (screen pop, wallboard). They are
notifications only: the state itself lives in Redis (ACD) and PostgreSQL (records), so a
missed event is repaired by the next read, never lost data.

Wire format: JSON ``{"type": "<EventName>", "at": "<ISO UTC>", ...fields}`` on the channel
``<prefix>:events`` (all events) — subscribers filter by ``agent_id`` where they need to.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

import redis
import redis.asyncio as aioredis

DEFAULT_PREFIX = "cc"


def channel_name(prefix: str = DEFAULT_PREFIX) -> str:
    return f"{prefix}:events"


def _now() -> str:
    return datetime.now(UTC).isoformat()


@dataclass(frozen=True)
class CallOffered:
    """An agent's phone is ringing with a call: the desk shows the screen pop."""

    agent_id: int
    call_id: str
    line: str
    caller_number: str  # full number: the desk masks it by role before sending to a browser
    skill: str
    intent: str = ""
    elderly: bool = False
    ivr_path: list[str] = field(default_factory=list)
    at: str = field(default_factory=_now)


@dataclass(frozen=True)
class CallAnswered:
    agent_id: int
    call_id: str
    at: str = field(default_factory=_now)


@dataclass(frozen=True)
class CallEnded:
    call_id: str
    agent_id: int | None = None
    disposition: str = ""
    at: str = field(default_factory=_now)


@dataclass(frozen=True)
class AgentStateChanged:
    agent_id: int
    state: str
    reason: str = ""
    call_id: str = ""
    at: str = field(default_factory=_now)


@dataclass(frozen=True)
class OutboundRefused:
    """A number dialled from an agent's phone was refused: his desk shows why."""

    agent_id: int
    code: str  # the dial policy's stable code (number-international, agent-busy...)
    message: str
    at: str = field(default_factory=_now)


@dataclass(frozen=True)
class QueueChanged:
    """Waiting calls per skill changed (a call queued, left or was assigned)."""

    skill: str
    waiting: int
    longest_wait_seconds: float
    at: str = field(default_factory=_now)


@dataclass(frozen=True)
class EmergencyActivated:
    """A supervisor switched an emergency message on: every desk and wallboard is alerted."""

    message_id: int
    scope: str
    target: str
    mode: str
    text: str
    starts_at: str  # ISO
    ends_at: str
    by: str
    at: str = field(default_factory=_now)


EVENT_TYPES: dict[str, type[Any]] = {
    cls.__name__: cls
    for cls in (
        CallOffered,
        CallAnswered,
        CallEnded,
        AgentStateChanged,
        QueueChanged,
        OutboundRefused,
        EmergencyActivated,
    )
}


def encode(event: Any) -> str:
    return json.dumps({"type": type(event).__name__, **asdict(event)}, ensure_ascii=False)


def decode(raw: str | bytes) -> Any:
    data = json.loads(raw)
    kind = EVENT_TYPES.get(data.pop("type", ""))
    if kind is None:
        raise ValueError(f"unknown event type in {raw!r}")
    return kind(**data)


def publish(client: redis.Redis, event: Any, prefix: str = DEFAULT_PREFIX) -> None:
    client.publish(channel_name(prefix), encode(event))


async def publish_async(client: aioredis.Redis, event: Any, prefix: str = DEFAULT_PREFIX) -> None:
    await client.publish(channel_name(prefix), encode(event))
