"""Routing policy: priority, then wait, then skill level, then longest idle; overflow; reasons."""

from __future__ import annotations

from backend.acd.policy import (
    CandidateAgent,
    Priority,
    SkillConfig,
    WaitingCall,
    call_score,
    decide,
    entered_at_from_score,
    priority_from_score,
)

NOW = 1_764_000_000.0
SKILLS = {
    "booking": SkillConfig("booking", overflow_skill="complaints", overflow_after_seconds=60),
    "complaints": SkillConfig("complaints"),
}


def agent(agent_id: int, idle: float, **skills: int) -> CandidateAgent:
    return CandidateAgent(agent_id, str(1000 + agent_id), skills, NOW - idle)


def call(call_id: str, waited: float, priority: int = 0, skill: str = "booking") -> WaitingCall:
    return WaitingCall(call_id, skill, priority, NOW - waited)


def test_higher_priority_beats_longer_wait() -> None:
    d = decide(
        [call("old", 300), call("elderly", 5, Priority.ELDERLY)],
        [agent(1, 10, booking=5)],
        SKILLS,
        NOW,
    )
    assert d is not None and d.call_id == "elderly"


def test_longer_wait_first_among_equal_priority() -> None:
    d = decide([call("new", 5), call("old", 50)], [agent(1, 10, booking=5)], SKILLS, NOW)
    assert d is not None and d.call_id == "old"


def test_best_level_beats_idle_time_and_idle_time_breaks_ties() -> None:
    agents = [agent(1, 500, booking=4), agent(2, 42, booking=8), agent(3, 20, booking=8)]
    d = decide([call("x", 10)], agents, SKILLS, NOW)
    assert d is not None and d.agent_id == 2
    assert d.reason == (
        "agent 1002 got call x: skill booking level 8, idle 42 s, longest idle of 2 at that "
        "level (3 ready); priority 0, waited 10 s"
    )


def test_a_call_no_one_can_serve_does_not_block_the_next() -> None:
    d = decide(
        [call("c1", 100, 2, skill="complaints"), call("b1", 5)],
        [agent(1, 10, booking=5)],
        SKILLS,
        NOW,
    )
    assert d is not None and d.call_id == "b1"


def test_overflow_to_the_secondary_skill_after_the_wait() -> None:
    helpers = [agent(9, 10, complaints=6)]
    assert decide([call("b", 59)], helpers, SKILLS, NOW) is None
    d = decide([call("b", 60)], helpers, SKILLS, NOW)
    assert d is not None and d.overflow and d.skill == "complaints"
    assert "overflow from booking" in d.reason


def test_own_skill_agents_before_overflow_agents() -> None:
    agents = [agent(1, 999, complaints=10), agent(2, 1, booking=1)]
    d = decide([call("b", 600)], agents, SKILLS, NOW)
    assert d is not None and d.agent_id == 2 and not d.overflow


def test_score_round_trips_priority_and_entry_time() -> None:
    score = call_score(2, NOW + 0.123)
    assert priority_from_score(score) == 2
    assert entered_at_from_score(score) == NOW + 0.123
    assert call_score(1, NOW) < call_score(0, NOW - 3600)  # priority first
