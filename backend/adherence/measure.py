"""Adherence of one shift, and totals over shifts (pure).

For a shift and the agent's state history, over the part of the shift inside the period
asked for and not in the future:

- *scheduled*: the length of that part;
- *signed in* and *ready* (``backend.adherence.timeline``): the time of it the agent was so;
- adherence (遵从率) = ready ÷ scheduled; sign-in rate (签入率) = signed in ÷ scheduled.

At shift start: an agent who signs in within ``LATE_GRACE`` of the start (or was signed in
already) is on time; later is *late*, by the minutes from the start to the first sign-in; an
agent not signed in once the grace has passed is *absent* (缺勤) until they sign in, and stays
absent for a shift that ended without a sign-in. Late and absent agents alert the supervisor
on the wallboard.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from backend.adherence.timeline import (
    StateChange,
    first_signed_in,
    is_ready,
    is_signed_in,
    seconds_where,
    segments,
)

LATE_GRACE = timedelta(minutes=5)
UPCOMING, DUE, ON_TIME, LATE, ABSENT = "upcoming", "due", "on_time", "late", "absent"
STATUS_LABELS = {
    UPCOMING: "未开始",
    DUE: "待签入",
    ON_TIME: "准时",
    LATE: "迟到",
    ABSENT: "缺勤（未签入）",
}
ALERTS = (LATE, ABSENT)


@dataclass(frozen=True)
class ShiftAdherence:
    agent_id: int
    starts_at: datetime
    ends_at: datetime
    scheduled: float  # seconds, of the part measured
    signed_in: float
    ready: float
    status: str
    late_seconds: float = 0.0
    first_sign_in: datetime | None = None

    @property
    def alert(self) -> bool:
        return self.status in ALERTS


def _status(
    starts_at: datetime, ends_at: datetime, first: datetime | None, now: datetime
) -> tuple[str, float]:
    if now < starts_at:
        return UPCOMING, 0.0
    if first is None:
        return (DUE, 0.0) if now < starts_at + LATE_GRACE else (ABSENT, 0.0)
    late = max(0.0, (first - starts_at).total_seconds())
    return (LATE, late) if first > starts_at + LATE_GRACE else (ON_TIME, 0.0)


def measure_shift(
    agent_id: int,
    starts_at: datetime,
    ends_at: datetime,
    changes: Sequence[StateChange],
    since: datetime,
    until: datetime,
    now: datetime,
) -> ShiftAdherence:
    """One shift over ``[since, until)``, no later than ``now``; ``changes`` sorted by time."""
    start, end = max(starts_at, since), min(ends_at, until, now)
    spans = segments(changes, start, end)
    # Lateness looks at the whole shift so far, even when the period starts inside it.
    first = first_signed_in(segments(changes, starts_at, min(ends_at, now)))
    status, late = _status(starts_at, ends_at, first, now)
    return ShiftAdherence(
        agent_id=agent_id,
        starts_at=starts_at,
        ends_at=ends_at,
        scheduled=max(0.0, (end - start).total_seconds()),
        signed_in=seconds_where(spans, is_signed_in),
        ready=seconds_where(spans, is_ready),
        status=status,
        late_seconds=late,
        first_sign_in=first,
    )


@dataclass(frozen=True)
class Totals:
    shifts: int = 0
    scheduled: float = 0.0
    signed_in: float = 0.0
    ready: float = 0.0
    late: int = 0
    late_seconds: float = 0.0
    absent: int = 0

    def __add__(self, other: Totals) -> Totals:
        return Totals(
            self.shifts + other.shifts,
            self.scheduled + other.scheduled,
            self.signed_in + other.signed_in,
            self.ready + other.ready,
            self.late + other.late,
            self.late_seconds + other.late_seconds,
            self.absent + other.absent,
        )

    @property
    def adherence(self) -> float | None:
        return self.ready / self.scheduled if self.scheduled else None

    @property
    def sign_in_rate(self) -> float | None:
        return self.signed_in / self.scheduled if self.scheduled else None


def totals_of(shift: ShiftAdherence) -> Totals:
    return Totals(
        shifts=1,
        scheduled=shift.scheduled,
        signed_in=shift.signed_in,
        ready=shift.ready,
        late=int(shift.status == LATE),
        late_seconds=shift.late_seconds,
        absent=int(shift.status == ABSENT),
    )
