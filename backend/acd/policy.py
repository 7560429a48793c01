"""Who gets which call, and why: the routing policy as plain functions.

Order of precedence, fixed and explainable:

1. calls: higher priority first (elderly mode, repeat caller, callback...), then the earlier
   queue entry (a callback keeps the entry time of the call it came from);
2. agents for that call: those with the call's own skill before overflow agents, then the
   higher skill level, then the longest idle (ready since the earliest moment).

A call that has waited ``overflow_after_seconds`` may also go to agents of the skill's
``overflow_skill``. The Redis adapter runs the same rules inside one Lua script (so that two
controllers never assign twice); the integration tests check both agree on random queues.
Ties break on the id as text because that is how a Redis sorted set orders equal scores.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

PRIORITY_MIN = 0
PRIORITY_MAX = 9
LEVEL_MIN = 1
LEVEL_MAX = 10
# Scores pack (rank, milliseconds) into one double; integers stay exact below 2**53.
_RANK_WEIGHT = 10**13


class Priority:
    """Named priorities; higher is served first."""

    NORMAL = 0
    REPEAT_CALLER = 1  # called within 24 h
    CALLBACK = 1
    ELDERLY = 2


@dataclass(frozen=True)
class SkillConfig:
    code: str
    wrapup_seconds: float = 15.0
    overflow_skill: str | None = None
    overflow_after_seconds: float = 60.0
    max_wait_seconds: float = 600.0


@dataclass(frozen=True)
class WaitingCall:
    call_id: str
    skill: str
    priority: int
    entered_at: float  # epoch seconds of the first queue entry
    callback: bool = False


@dataclass(frozen=True)
class CandidateAgent:
    agent_id: int
    number: str  # 工号, what people read in the log
    skills: Mapping[str, int]  # skill code -> level 1..10
    idle_since: float


@dataclass(frozen=True)
class RoutingDecision:
    call_id: str
    agent_id: int
    agent_number: str
    skill: str  # the skill the agent was matched on (the overflow skill when overflowed)
    level: int
    call_skill: str
    overflow: bool
    priority: int
    waited_seconds: float
    idle_seconds: float
    ready_count: int  # ready agents with that skill when the decision was made
    same_level_count: int  # of those, how many at the chosen level (idle time decided among them)
    callback: bool = False

    @property
    def reason(self) -> str:
        return explain(self)


def clamp_priority(priority: int) -> int:
    return max(PRIORITY_MIN, min(PRIORITY_MAX, priority))


def clamp_level(level: int) -> int:
    return max(LEVEL_MIN, min(LEVEL_MAX, level))


def to_ms(seconds: float) -> int:
    return round(seconds * 1000)


def call_score(priority: int, entered_at: float) -> float:
    """Lower is served first: priority rank, then entry time."""
    return float((PRIORITY_MAX - clamp_priority(priority)) * _RANK_WEIGHT + to_ms(entered_at))


def agent_score(level: int, idle_since: float) -> float:
    """Lower is chosen first: best level, then longest idle."""
    return float((LEVEL_MAX - clamp_level(level)) * _RANK_WEIGHT + to_ms(idle_since))


def entered_at_from_score(score: float) -> float:
    return (int(score) % _RANK_WEIGHT) / 1000.0


def priority_from_score(score: float) -> int:
    return PRIORITY_MAX - int(score) // _RANK_WEIGHT


def call_key(call: WaitingCall) -> tuple[float, str]:
    return (call_score(call.priority, call.entered_at), call.call_id)


def agent_key(agent: CandidateAgent, skill: str) -> tuple[float, str]:
    return (agent_score(agent.skills[skill], agent.idle_since), str(agent.agent_id))


def eligible_skills(
    call: WaitingCall, skills: Mapping[str, SkillConfig], now: float
) -> list[tuple[str, bool]]:
    """The skills whose agents may take ``call`` now: its own, then its overflow skill."""
    result = [(call.skill, False)]
    config = skills.get(call.skill)
    if (
        config is not None
        and config.overflow_skill
        and config.overflow_skill != call.skill
        and now - call.entered_at >= config.overflow_after_seconds
    ):
        result.append((config.overflow_skill, True))
    return result


def best_agent(
    agents: Iterable[CandidateAgent], skill: str
) -> tuple[CandidateAgent | None, int, int]:
    """The best ready agent for ``skill``, how many ready agents have the skill, and how many
    of them share the best one's level."""
    pool = [a for a in agents if skill in a.skills]
    if not pool:
        return None, 0, 0
    best = min(pool, key=lambda a: agent_key(a, skill))
    level = clamp_level(best.skills[skill])
    same = sum(1 for a in pool if clamp_level(a.skills[skill]) == level)
    return best, len(pool), same


def decide(
    calls: Iterable[WaitingCall],
    agents: Sequence[CandidateAgent],
    skills: Mapping[str, SkillConfig],
    now: float,
) -> RoutingDecision | None:
    """The next assignment among ``calls`` (waiting) and ``agents`` (ready), or None."""
    for call in sorted(calls, key=call_key):
        for skill, overflow in eligible_skills(call, skills, now):
            agent, count, same = best_agent(agents, skill)
            if agent is not None:
                return RoutingDecision(
                    call_id=call.call_id,
                    agent_id=agent.agent_id,
                    agent_number=agent.number,
                    skill=skill,
                    level=agent.skills[skill],
                    call_skill=call.skill,
                    overflow=overflow,
                    priority=call.priority,
                    waited_seconds=max(0.0, now - call.entered_at),
                    idle_seconds=max(0.0, now - agent.idle_since),
                    ready_count=count,
                    same_level_count=same,
                    callback=call.callback,
                )
    return None


def explain(d: RoutingDecision) -> str:
    """One log line saying why that agent got that call (no personal data in it)."""
    via = f" (overflow from {d.call_skill})" if d.overflow else ""
    kind = "callback" if d.callback else "call"
    return (
        f"agent {d.agent_number} got {kind} {d.call_id}: skill {d.skill}{via} level {d.level}, "
        f"idle {d.idle_seconds:.0f} s, longest idle of {d.same_level_count} at that level "
        f"({d.ready_count} ready); "
        f"priority {d.priority}, waited {d.waited_seconds:.0f} s"
    )
