"""An agent's states over a span of time, from the rows of ``agent_state_changes`` (pure).

A state holds from its change until the agent's next change. The state at the start of a
span is that of the last change before it; an agent with no change before is logged out.
*Signed in* is any state but ``logged_out``. *Ready* is signed in and not 示忙
(``not_ready``, whatever the reason): waiting for a call, or ringing, talking, holding or in
wrap-up — the time the agent works the queue.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

LOGGED_OUT = "logged_out"
NOT_READY = "not_ready"


@dataclass(frozen=True)
class StateChange:
    at: datetime
    state: str
    reason: str = ""


@dataclass(frozen=True)
class Segment:
    start: datetime
    end: datetime
    state: str

    @property
    def seconds(self) -> float:
        return (self.end - self.start).total_seconds()


def is_signed_in(state: str) -> bool:
    return state != LOGGED_OUT


def is_ready(state: str) -> bool:
    return state not in (LOGGED_OUT, NOT_READY)


def segments(changes: Sequence[StateChange], start: datetime, end: datetime) -> list[Segment]:
    """The states over ``[start, end)``; ``changes`` sorted by time (earlier ones included)."""
    if end <= start:
        return []
    state = LOGGED_OUT
    cursor = start
    out: list[Segment] = []
    for change in changes:
        if change.at <= start:
            state = change.state
            continue
        if change.at >= end:
            break
        out.append(Segment(cursor, change.at, state))
        cursor, state = change.at, change.state
    out.append(Segment(cursor, end, state))
    return [s for s in out if s.seconds > 0]


def seconds_where(spans: Sequence[Segment], keep: Callable[[str], bool]) -> float:
    return sum(s.seconds for s in spans if keep(s.state))


def first_signed_in(spans: Sequence[Segment]) -> datetime | None:
    return next((s.start for s in spans if is_signed_in(s.state)), None)
