"""What the ACD keeps in Redis, as Python values, and how each is written to a Redis hash.

Times are stored as integer milliseconds since the epoch (text), skills as
``"booking=8,complaints=5"`` so that the Lua scripts can read them without JSON.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field

from backend.acd.policy import RoutingDecision, clamp_level, to_ms
from backend.acd.states import AgentState, AgentStatus
from backend.errors import CallCenterError


class CallStatus(enum.StrEnum):
    WAITING = "waiting"
    CALLBACK = "callback"  # the caller hung up to be called back; keeps the place in the queue
    RESERVED = "reserved"
    RINGING = "ringing"
    CONNECTED = "connected"
    DONE = "done"
    ABANDONED = "abandoned"
    VOICEMAIL = "voicemail"
    CALLBACK_FAILED = "callback_failed"


IN_QUEUE = (CallStatus.WAITING, CallStatus.CALLBACK)
WITH_AGENT = (CallStatus.RESERVED, CallStatus.RINGING)


class UnknownSkill(CallCenterError):
    code = "no-such-skill"


@dataclass(frozen=True)
class AgentProfile:
    agent_id: int  # agents.id in PostgreSQL
    number: str  # 工号
    interface: str  # "PJSIP/8001" or "Local/1001@sim-agent"
    skills: Mapping[str, int] = field(default_factory=dict)  # skill -> level 1..10
    auto_answer: bool = False


# extensions.conf's pre-dial handler for an agent's SIP phone; its argument asks the phone
# to answer by itself.
AGENT_PREDIAL = "agent-predial^s^1"


def agent_dial_options(profile: AgentProfile) -> str:
    """Dial options for ringing an agent while the caller hears music ("m").

    A SIP phone's leg gets the pre-dial handler: the phone's own blind transfers go through
    the controller, and auto-answer headers when the agent chose it. A simulated Local
    agent has no SIP leg (and answers by itself).
    """
    if not profile.interface.startswith("PJSIP/"):
        return "m"
    return f"mb({AGENT_PREDIAL}({1 if profile.auto_answer else 0}))"


@dataclass(frozen=True)
class AgentView:
    profile: AgentProfile
    status: AgentStatus


@dataclass(frozen=True)
class QueuedCall:
    call_id: str
    skill: str
    priority: int
    entered_at: float  # first queue entry, epoch seconds; a callback keeps it
    status: CallStatus
    callback: bool = False
    agent_id: int | None = None
    line: str = ""
    callback_number_enc: str = ""  # encrypted (backend/telephony/callback_gate.py)
    attempts: int = 0
    owner: str = ""  # the controller holding the caller's AGI session
    picked_by: str = ""  # the controller that reserved the agent (dials a callback)
    parent: str = ""  # a callback's original call, when its id is not that call's own
    answered_at: float | None = None  # when the agent answered (epoch seconds)


@dataclass(frozen=True)
class Assignment:
    decision: RoutingDecision
    interface: str

    @property
    def call_id(self) -> str:
        return self.decision.call_id

    @property
    def agent_id(self) -> int:
        return self.decision.agent_id


def ms_text(seconds: float) -> str:
    return str(to_ms(seconds))


def seconds_of(ms: str | None) -> float:
    return int(ms or 0) / 1000.0


def skills_text(skills: Mapping[str, int]) -> str:
    return ",".join(f"{s}={clamp_level(level)}" for s, level in sorted(skills.items()))


def parse_skills(text: str) -> dict[str, int]:
    result: dict[str, int] = {}
    for part in filter(None, text.split(",")):
        name, _, level = part.partition("=")
        result[name] = int(level)
    return result


def status_fields(status: AgentStatus) -> dict[str, str]:
    return {
        "state": str(status.state),
        "reason": status.reason,
        "call_id": status.call_id,
        "since": ms_text(status.since),
        "idle_since": ms_text(status.idle_since),
        "wrapup_until": ms_text(status.wrapup_until),
        "version": str(status.version),
    }


def agent_from_hash(agent_id: int, raw: Mapping[str, str]) -> AgentView:
    profile = AgentProfile(
        agent_id=agent_id,
        number=raw.get("number", ""),
        interface=raw.get("interface", ""),
        skills=parse_skills(raw.get("skills", "")),
        auto_answer=raw.get("auto_answer") == "1",
    )
    status = AgentStatus(
        agent_id=agent_id,
        state=AgentState(raw.get("state", AgentState.LOGGED_OUT)),
        reason=raw.get("reason", ""),
        call_id=raw.get("call_id", ""),
        since=seconds_of(raw.get("since")),
        idle_since=seconds_of(raw.get("idle_since")),
        wrapup_until=seconds_of(raw.get("wrapup_until")),
        version=int(raw.get("version", 0)),
    )
    return AgentView(profile, status)


def call_from_hash(call_id: str, raw: Mapping[str, str]) -> QueuedCall:
    agent = raw.get("agent_id", "")
    return QueuedCall(
        call_id=call_id,
        skill=raw.get("skill", ""),
        priority=int(raw.get("priority", 0)),
        entered_at=seconds_of(raw.get("entered")),
        status=CallStatus(raw.get("status", CallStatus.WAITING)),
        callback=raw.get("callback") == "1",
        agent_id=int(agent) if agent else None,
        line=raw.get("line", ""),
        callback_number_enc=raw.get("number_enc", ""),
        attempts=int(raw.get("attempts", 0)),
        owner=raw.get("owner", ""),
        picked_by=raw.get("picked_by", ""),
        parent=raw.get("parent", ""),
        answered_at=seconds_of(raw["answered"]) if raw.get("answered") else None,
    )
