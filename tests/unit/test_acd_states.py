"""The agent state machine: legal changes, intervals that close on state or reason."""

from __future__ import annotations

import pytest

from backend.acd.states import (
    AgentState,
    AgentStatus,
    CannotDialOut,
    IllegalTransition,
    dial_out,
    restored,
    transition,
    wrapup_due,
)

S = AgentState


def walk(status: AgentStatus, *steps: tuple[AgentState, float, str]) -> AgentStatus:
    for to, at, reason in steps:
        status = transition(status, to, at=at, reason=reason, call_id="c1").after
    return status


def test_a_reason_change_closes_the_not_ready_interval() -> None:
    status = walk(AgentStatus(7), (S.READY, 0, ""), (S.NOT_READY, 10, "break"))
    t = transition(status, S.NOT_READY, at=25, reason="meal")
    assert t.closed is not None
    assert (t.closed.state, t.closed.reason, t.closed.seconds) == (S.NOT_READY, "break", 15)
    assert (t.after.state, t.after.reason, t.after.since) == (S.NOT_READY, "meal", 25)


def test_repeating_the_same_state_and_reason_changes_nothing() -> None:
    status = walk(AgentStatus(7), (S.READY, 0, ""), (S.NOT_READY, 10, "training"))
    t = transition(status, S.NOT_READY, at=30, reason="training")
    assert not t.changed and t.after == status


def test_not_ready_without_a_reason_is_a_break() -> None:
    status = walk(AgentStatus(7), (S.READY, 0, ""))
    assert transition(status, S.NOT_READY, at=1).after.reason == "break"


@pytest.mark.parametrize(
    ("start", "to"),
    [
        (S.LOGGED_OUT, S.ON_CALL),
        (S.READY, S.ON_CALL),  # a call is always reserved first
        (S.ON_CALL, S.LOGGED_OUT),  # sign out only after the call
        (S.ON_CALL, S.RESERVED),  # never a second call
        (S.NOT_READY, S.RESERVED),
        (S.WRAP_UP, S.RESERVED),
    ],
)
def test_forbidden_changes_are_refused(start: AgentState, to: AgentState) -> None:
    with pytest.raises(IllegalTransition) as err:
        transition(AgentStatus(7, state=start), to, at=5)
    assert err.value.code == "illegal-agent-transition"


def test_a_full_call_cycle_keeps_the_call_id_until_wrap_up_ends() -> None:
    status = walk(
        AgentStatus(7),
        (S.READY, 0, ""),
        (S.RESERVED, 5, ""),
        (S.RINGING, 5, ""),
        (S.ON_CALL, 9, ""),
        (S.ON_HOLD, 20, ""),
        (S.ON_CALL, 30, ""),
    )
    assert status.call_id == "c1"
    wrap = transition(status, S.WRAP_UP, at=100, wrapup_seconds=15).after
    assert wrap.call_id == "c1" and wrap.wrapup_until == 115
    assert wrapup_due(wrap, 114.9) is None
    done = wrapup_due(wrap, 300)
    assert done is not None
    assert done.after.state == S.READY and done.after.call_id == ""
    assert done.after.since == 115 and done.after.idle_since == 115  # the timer, not 300


def test_ring_no_answer_is_its_own_not_ready_reason() -> None:
    status = walk(AgentStatus(7), (S.READY, 0, ""), (S.RESERVED, 5, ""), (S.RINGING, 5, ""))
    t = transition(status, S.NOT_READY, at=20, reason="no_answer")
    assert t.closed is not None and t.closed.state == S.RINGING and t.closed.seconds == 15
    assert t.after.reason == "no_answer" and t.after.call_id == ""


def test_an_abandoned_reservation_keeps_the_agents_idle_place() -> None:
    status = walk(AgentStatus(7), (S.READY, 3, ""), (S.RESERVED, 50, ""))
    back = transition(status, S.READY, at=52).after
    assert back.idle_since == 3
    fresh = walk(back, (S.NOT_READY, 60, "break"), (S.READY, 70, ""))
    assert fresh.idle_since == 70


def test_a_late_clock_never_makes_a_negative_interval() -> None:
    status = walk(AgentStatus(7), (S.READY, 100, ""))
    t = transition(status, S.NOT_READY, at=99, reason="meal")
    assert t.closed is not None and t.closed.seconds == 0


def test_every_change_bumps_the_version() -> None:
    status = walk(AgentStatus(7), (S.READY, 0, ""), (S.NOT_READY, 1, "break"))
    assert status.version == 2


@pytest.mark.parametrize("start", [S.READY, S.NOT_READY, S.WRAP_UP])
def test_an_agent_free_of_calls_dials_out_straight_onto_the_call(start: AgentState) -> None:
    status = AgentStatus(7, state=start, reason="meal" if start == S.NOT_READY else "", since=3)
    t = dial_out(status, at=10, call_id="out-1")
    assert (t.after.state, t.after.call_id, t.after.reason) == (S.ON_CALL, "out-1", "")
    assert t.closed is not None and (t.closed.state, t.closed.seconds) == (start, 7)


@pytest.mark.parametrize(
    ("start", "code"),
    [
        (S.LOGGED_OUT, "agent-signed-out"),
        (S.RESERVED, "agent-busy"),
        (S.RINGING, "agent-busy"),
        (S.ON_CALL, "agent-busy"),
        (S.ON_HOLD, "agent-busy"),
    ],
)
def test_no_outbound_call_over_another_or_before_signing_in(start: AgentState, code: str) -> None:
    with pytest.raises(CannotDialOut) as refused:
        dial_out(AgentStatus(7, state=start), at=5, call_id="out-1")
    assert refused.value.code == code


def test_a_lost_agent_is_restored_from_signed_out_at_rest_or_on_his_call() -> None:
    out = AgentStatus(4)
    ready = restored(out, S.READY, at=50.0).after
    assert (ready.state, ready.idle_since, ready.version) == (S.READY, 50.0, 1)
    pause = restored(out, S.NOT_READY, at=50.0, reason="meal").after
    assert (pause.state, pause.reason) == (S.NOT_READY, "meal")
    busy = restored(out, S.ON_CALL, at=50.0, call_id="c9").after
    assert (busy.state, busy.call_id) == (S.ON_CALL, "c9")


@pytest.mark.parametrize("to", [S.RESERVED, S.RINGING, S.WRAP_UP, S.LOGGED_OUT])
def test_restoring_refuses_states_held_for_a_live_reservation(to: AgentState) -> None:
    with pytest.raises(IllegalTransition):
        restored(AgentStatus(4), to, at=1.0)


def test_only_a_signed_out_agent_is_restored() -> None:
    with pytest.raises(IllegalTransition):
        restored(AgentStatus(4, state=S.READY), S.READY, at=1.0)
