"""The agent state machine: which changes are legal, and the interval each change closes.

Pure: no I/O. Times are epoch seconds (floats) so the same code serves the Redis adapter, the
tests and the benchmark. An interval closes whenever the state *or* the reason changes, so a
break that turns into a meal is two intervals, and the automatic not-ready after a missed call
carries its own reason (``no_answer``, 未接) instead of looking like a break.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, replace

from backend.errors import CallCenterError


class AgentState(enum.StrEnum):
    LOGGED_OUT = "logged_out"
    READY = "ready"
    NOT_READY = "not_ready"
    RESERVED = "reserved"  # picked for a call, not ringing yet
    RINGING = "ringing"
    ON_CALL = "on_call"
    ON_HOLD = "on_hold"
    WRAP_UP = "wrap_up"


class NotReadyReason(enum.StrEnum):
    BREAK = "break"
    TRAINING = "training"
    MEAL = "meal"
    MEETING = "meeting"
    NO_ANSWER = "no_answer"  # set by the system after ring-no-answer
    LOGIN = "login"  # signed in but not yet ready


REASON_LABELS: dict[str, str] = {
    NotReadyReason.BREAK: "小休",
    NotReadyReason.TRAINING: "培训",
    NotReadyReason.MEAL: "用餐",
    NotReadyReason.MEETING: "会议",
    NotReadyReason.NO_ANSWER: "未接",
    NotReadyReason.LOGIN: "签入",
}

STATE_LABELS: dict[str, str] = {
    AgentState.LOGGED_OUT: "签出",
    AgentState.READY: "空闲",
    AgentState.NOT_READY: "示忙",
    AgentState.RESERVED: "预占",
    AgentState.RINGING: "振铃",
    AgentState.ON_CALL: "通话",
    AgentState.ON_HOLD: "保持",
    AgentState.WRAP_UP: "话后处理",
}

S = AgentState
# Why each edge exists: reserved/ringing may fall back to ready when the *caller* goes away
# (the agent did nothing wrong), and to not_ready only through ring-no-answer.
LEGAL: dict[AgentState, frozenset[AgentState]] = {
    S.LOGGED_OUT: frozenset({S.READY, S.NOT_READY}),
    S.READY: frozenset({S.NOT_READY, S.RESERVED, S.LOGGED_OUT}),
    S.NOT_READY: frozenset({S.READY, S.NOT_READY, S.LOGGED_OUT}),
    S.RESERVED: frozenset({S.RINGING, S.ON_CALL, S.READY, S.NOT_READY}),
    S.RINGING: frozenset({S.ON_CALL, S.READY, S.NOT_READY}),
    S.ON_CALL: frozenset({S.ON_HOLD, S.WRAP_UP, S.READY}),
    S.ON_HOLD: frozenset({S.ON_CALL, S.WRAP_UP, S.READY}),
    S.WRAP_UP: frozenset({S.READY, S.NOT_READY, S.LOGGED_OUT}),
}
# States in which the agent is tied to one call; the call id must be kept through them.
CALL_STATES = frozenset({S.RESERVED, S.RINGING, S.ON_CALL, S.ON_HOLD, S.WRAP_UP})
# An agent who dials out goes on his call at once (no reservation: nobody offers it to him),
# from any state in which he is signed in and holds no call. Kept apart from LEGAL so that
# no other path reaches ON_CALL without a reservation.
DIAL_OUT_FROM = frozenset({S.READY, S.NOT_READY, S.WRAP_UP})


class CannotDialOut(CallCenterError):
    """The agent may not start an outbound call in his present state."""

    code = "agent-busy"

    def __init__(self, agent_id: int, current: AgentState) -> None:
        if current == AgentState.LOGGED_OUT:
            super().__init__("请先在工作台签入，再拨打外呼电话", code="agent-signed-out")
        else:
            super().__init__(
                f"坐席 {agent_id} 当前为{STATE_LABELS[current]}，有来电或通话时不能外呼"
            )
        self.current = current


class IllegalTransition(CallCenterError):
    code = "illegal-agent-transition"

    def __init__(self, agent_id: int, current: AgentState, wanted: AgentState) -> None:
        super().__init__(
            f"坐席 {agent_id} 当前为{STATE_LABELS[current]}，不能切换到{STATE_LABELS[wanted]}"
        )
        self.current = current
        self.wanted = wanted


@dataclass(frozen=True)
class AgentStatus:
    agent_id: int
    state: AgentState = AgentState.LOGGED_OUT
    reason: str = ""
    call_id: str = ""
    since: float = 0.0  # when the current interval started
    idle_since: float = 0.0  # when the agent last became ready: longest idle goes first
    wrapup_until: float = 0.0  # 0 unless in wrap_up
    version: int = 0  # bumped by every change; lets adapters apply changes compare-and-set


@dataclass(frozen=True)
class Interval:
    """A closed interval of one state and reason, as the history and the reports see it."""

    agent_id: int
    state: AgentState
    reason: str
    call_id: str
    start: float
    end: float

    @property
    def seconds(self) -> float:
        return self.end - self.start


@dataclass(frozen=True)
class Transition:
    before: AgentStatus
    after: AgentStatus
    closed: Interval | None  # None when nothing changed (same state and reason)

    @property
    def changed(self) -> bool:
        return self.closed is not None


def transition(
    status: AgentStatus,
    to: AgentState,
    *,
    at: float,
    reason: str = "",
    call_id: str = "",
    wrapup_seconds: float = 0.0,
) -> Transition:
    """Move ``status`` to ``to`` at time ``at``; raise IllegalTransition for a forbidden edge.

    Repeating the current state with the same reason is a no-op (AMI may report a state we set
    ourselves); the same state with another reason closes the interval and opens a new one.
    """
    if to == AgentState.NOT_READY and not reason:
        reason = NotReadyReason.BREAK
    if to != AgentState.NOT_READY:
        reason = ""
    if to == status.state and reason == status.reason:
        return Transition(status, status, None)
    if to not in LEGAL[status.state]:
        raise IllegalTransition(status.agent_id, status.state, to)
    return _move(status, to, at, reason, call_id, wrapup_seconds)


def dial_out(status: AgentStatus, *, at: float, call_id: str) -> Transition:
    """The agent starts an outbound call: on that call now (CannotDialOut if he may not)."""
    if status.state not in DIAL_OUT_FROM:
        raise CannotDialOut(status.agent_id, status.state)
    return _move(status, AgentState.ON_CALL, at, "", call_id, 0.0)


# What an agent signed in before the store was lost is put back as: at rest, or on a call.
RESTORABLE = frozenset({S.READY, S.NOT_READY, S.ON_CALL})


def restored(
    status: AgentStatus, to: AgentState, *, at: float, reason: str = "", call_id: str = ""
) -> Transition:
    """An agent the store lost (Redis came back empty) put back as he last was: from
    signed-out straight to ``to`` (ready, not ready, or on his call), bypassing the edges
    that need a reservation, because the call itself was made before the loss."""
    if status.state != AgentState.LOGGED_OUT or to not in RESTORABLE:
        raise IllegalTransition(status.agent_id, status.state, to)
    reason = (reason or NotReadyReason.BREAK) if to == AgentState.NOT_READY else ""
    return _move(status, to, at, reason, call_id, 0.0)


def _move(
    status: AgentStatus,
    to: AgentState,
    at: float,
    reason: str,
    call_id: str,
    wrapup_seconds: float,
) -> Transition:
    at = max(at, status.since)  # a late clock never makes a negative interval
    call_id = (call_id or status.call_id) if to in CALL_STATES else ""
    idle_since = status.idle_since
    if to == AgentState.READY and status.state not in (AgentState.RESERVED, AgentState.RINGING):
        idle_since = at
    # A reservation the caller abandoned gives the agent back his place in the idle order.
    after = replace(
        status,
        state=to,
        reason=reason,
        call_id=call_id,
        since=at,
        idle_since=idle_since,
        wrapup_until=at + wrapup_seconds if to == AgentState.WRAP_UP else 0.0,
        version=status.version + 1,
    )
    closed = Interval(
        status.agent_id, status.state, status.reason, status.call_id, status.since, at
    )
    return Transition(status, after, closed)


def wrapup_due(status: AgentStatus, now: float) -> Transition | None:
    """The wrap-up that has run out by ``now`` ends exactly at its timer, not when noticed."""
    if status.state != AgentState.WRAP_UP or now < status.wrapup_until:
        return None
    return transition(status, AgentState.READY, at=status.wrapup_until)


def is_available(status: AgentStatus) -> bool:
    return status.state == AgentState.READY
