"""Simulated calls of one day of one line, as a real centre sees them. Pure: no I/O.

The model, chosen for a demo that looks like the real hotlines (docs/report-pages.md):

- arrivals: the line's calls per weekday, spread over the hours by the line's daily cycle (114:
  the rush when the day's slots are released at 07:00–09:00, a lunch dip, a long evening tail,
  a trickle at night; the hotline: its working hours only, closed on weekends and holidays);
- the IVR: a share served there (self-service) or hung up before the queue;
- the queue: the wait grows with the hour's load (a queueing curve ρ/(1−ρ)); each caller has a
  patience drawn from an exponential law and leaves when the wait outlasts it (a short
  abandon under 5 s, most within the first minute); a few hotline callers ask for a callback;
- answered calls: a talk time drawn from a log-normal law around the skill's handling time,
  a hold now and then, then the survey: about half of the callers press 1–5, the others
  hang up during it.

Every draw comes from a generator seeded with the line and the day, so a day generated
twice gives the same calls (the demo load is idempotent).
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo


@dataclass(frozen=True)
class SkillMix:
    skill: str
    share: float  # of the line's queued calls
    talk_seconds: float  # median talk time
    intent: str


@dataclass(frozen=True)
class LineProfile:
    line: str
    did: str
    weekday_calls: int  # an average Wednesday
    weekday_factor: tuple[float, ...]  # Monday … Sunday
    hour_weight: tuple[float, ...]  # 24 relative weights
    working_days_only: bool
    self_service_share: float
    ivr_hangup_share: float
    patience_seconds: float  # mean of the exponential patience
    peak_occupancy: float  # the queue's load in the busiest hour
    callback_share: float  # of callers still waiting after a minute
    skills: tuple[SkillMix, ...]


PROFILE_114 = LineProfile(
    line="114", did="114", weekday_calls=80,
    weekday_factor=(1.3, 1.1, 1.0, 1.0, 0.95, 0.6, 0.55),
    hour_weight=(0.4, 0.2, 0.15, 0.15, 0.2, 0.5, 1.5, 6, 10, 8.5, 7, 5.5,
                 3, 4, 5.5, 5, 4, 3, 2.2, 1.8, 1.5, 1.2, 0.8, 0.6),
    working_days_only=False, self_service_share=0.22, ivr_hangup_share=0.05,
    patience_seconds=70, peak_occupancy=0.9, callback_share=0.0,
    skills=(SkillMix("booking", 0.8, 150, "booking"), SkillMix("general", 0.2, 200, "human")),
)  # fmt: skip
PROFILE_HOTLINE = LineProfile(
    line="hotline", did="12393", weekday_calls=40,
    weekday_factor=(1.25, 1.1, 1.0, 1.0, 0.9, 0, 0),
    hour_weight=(0, 0, 0, 0, 0, 0, 0, 0, 0, 8, 10, 8, 4, 6, 9, 8, 7, 5, 0, 0, 0, 0, 0, 0),
    working_days_only=True, self_service_share=0.12, ivr_hangup_share=0.06,
    patience_seconds=100, peak_occupancy=0.85, callback_share=0.15,
    skills=(
        SkillMix("policy", 0.35, 240, "policy"),
        SkillMix("reimbursement", 0.35, 300, "reimbursement"),
        SkillMix("insurance_card", 0.2, 180, "card"),
        SkillMix("complaint", 0.1, 420, "complaint"),
    ),
)  # fmt: skip
PROFILES = (PROFILE_114, PROFILE_HOTLINE)
SATISFACTION = ((5, 0.62), (4, 0.24), (3, 0.08), (2, 0.03), (1, 0.03))
SURVEYED_SHARE = 0.5
BASE_WAIT_SECONDS = 4.0  # the wait of a lightly loaded queue
# Mean waits: about 9 s at half load, about 50 s in the busiest hour, so service levels
# land near a real centre's (about 70 %), the rush hours below target.
QUEUE_SCALE_SECONDS = 5.0


@dataclass(frozen=True)
class SimCall:
    call_id: str
    line: str
    did: str
    caller_number: str
    arrived: datetime  # UTC
    ivr_seconds: float
    outcome: str  # self_service | ivr_hangup | answered | abandoned | callback
    skill: str = ""
    intent: str = ""
    wait_seconds: float = 0.0
    talk_seconds: float = 0.0
    hold_seconds: float = 0.0
    survey_seconds: float = 0.0  # after the agent hung up (answered calls only)
    satisfaction: int | None = None  # a key 1–5; None: hung up during the survey

    @property
    def queued_at(self) -> datetime:
        return self.arrived + timedelta(seconds=self.ivr_seconds)

    @property
    def queue_left(self) -> datetime:
        """The caller left the queue (gave up), or the agent hung up."""
        return self.queued_at + timedelta(
            seconds=self.wait_seconds + self.talk_seconds + self.hold_seconds
        )

    @property
    def ended(self) -> datetime:
        return self.queue_left + timedelta(seconds=self.survey_seconds)


def calls_of_day(profile: LineProfile, day: date, working: bool, tz: ZoneInfo) -> list[SimCall]:
    """The line's calls on ``day`` (``working``: a working day by the calendar)."""
    if profile.working_days_only and not working:
        return []
    rng = random.Random(f"{profile.line}-{day.isoformat()}")
    factor = profile.weekday_factor[day.weekday()] or (0.0 if profile.working_days_only else 0.6)
    expected = profile.weekday_calls * factor
    total_weight = sum(profile.hour_weight)
    peak = max(profile.hour_weight)
    calls: list[SimCall] = []
    for hour, weight in enumerate(profile.hour_weight):
        count = _poisson(rng, expected * weight / total_weight)
        load = profile.peak_occupancy * weight / peak
        start = datetime.combine(day, time(hour), tzinfo=tz)
        for offset in sorted(rng.uniform(0, 3600) for _ in range(count)):
            arrived = start + timedelta(seconds=offset)
            calls.append(_one_call(profile, rng, arrived, load, len(calls)))
    return calls


def _one_call(
    profile: LineProfile, rng: random.Random, arrived: datetime, load: float, nth: int
) -> SimCall:
    call = SimCall(
        call_id=f"demo-{profile.line}-{arrived:%Y%m%d}-{nth:04d}",
        line=profile.line,
        did=profile.did,
        caller_number=f"13{rng.randrange(10**9):09d}",
        arrived=arrived.astimezone(UTC),
        ivr_seconds=round(rng.uniform(8, 40), 1),
        outcome="ivr_hangup",
    )
    roll = rng.random()
    if roll < profile.self_service_share:
        return replace(call, outcome="self_service", intent="query")
    if roll < profile.self_service_share + profile.ivr_hangup_share:
        return call
    mix = rng.choices(profile.skills, weights=[s.share for s in profile.skills])[0]
    call = replace(call, skill=mix.skill, intent=mix.intent)
    # The queue's wait at this load (ρ/(1−ρ)), drawn around that mean.
    mean_wait = BASE_WAIT_SECONDS + QUEUE_SCALE_SECONDS * load / (1 - min(load, 0.95))
    wait = rng.expovariate(1 / mean_wait)
    patience = rng.expovariate(1 / profile.patience_seconds)
    if patience < wait:
        gave_up = "callback" if patience > 60 and rng.random() < profile.callback_share else ""
        return replace(call, outcome=gave_up or "abandoned", wait_seconds=round(patience, 1))
    talk = rng.lognormvariate(math.log(mix.talk_seconds), 0.45)
    hold = rng.uniform(10, 60) if rng.random() < 0.12 else 0.0
    # The survey follows every answered call; about half the callers press a key.
    score, survey = None, rng.uniform(0.5, 3)
    if rng.random() < SURVEYED_SHARE:
        score = rng.choices([s for s, _ in SATISFACTION], weights=[w for _, w in SATISFACTION])[0]
        survey = rng.uniform(6, 12)
    return replace(
        call, outcome="answered", wait_seconds=round(wait, 1), talk_seconds=round(talk, 1),
        hold_seconds=round(hold, 1), survey_seconds=round(survey, 1), satisfaction=score,
    )  # fmt: skip


def _poisson(rng: random.Random, mean: float) -> int:
    """A Poisson draw (Knuth's method; the hourly means here are small)."""
    if mean <= 0:
        return 0
    if mean > 60:  # normal approximation for large means
        return max(0, round(rng.gauss(mean, math.sqrt(mean))))
    limit, k, p = math.exp(-mean), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1
