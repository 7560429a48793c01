"""The work-order state machine: every step a hotline order takes, and the refusals."""

from __future__ import annotations

from typing import Any

import pytest

from backend.errors import Refused
from backend.workorders.workflow import (
    Action,
    GuardRefused,
    IllegalTransition,
    OrderFacts,
    State,
    allowed_actions,
    decide,
    missing_feedback_parts,
)

GOOD_FEEDBACK = {
    "background": "市民咨询门诊报销比例",
    "process": "电话联系市民并核实参保信息",
    "result": "已告知在职职工报销比例为百分之九十",
    "follow_up": "一周后再次回访确认",
}


def step(facts: OrderFacts, action: Action, **payload: Any) -> OrderFacts:
    outcome = decide(facts, action, payload)
    feedback = outcome.changes.get("feedback", facts.feedback)
    return OrderFacts(
        state=outcome.to_state,
        department=outcome.changes.get("department", facts.department),
        supervision_round=outcome.changes.get("supervision_round", facts.supervision_round),
        feedback=feedback,
    )


def test_a_hotline_order_walks_through_rework_supervision_and_closes() -> None:
    order = OrderFacts(State.CREATED)
    order = step(order, Action.SIGN)
    assert order.state is State.SIGNED
    order = step(order, Action.DISPATCH, department="朝阳区医保局", copies=["王科长"])
    assert (order.state, order.department) == (State.DISPATCHED, "朝阳区医保局")
    order = step(order, Action.ACCEPT_ASSIGNMENT)
    order = step(order, Action.SUBMIT_FEEDBACK, background="市民咨询", result="已答复")
    order = step(order, Action.CHECK_FEEDBACK, accept=False, note="要素不全")
    assert order.state is State.REWORK
    order = step(order, Action.SUBMIT_FEEDBACK, **GOOD_FEEDBACK)
    order = step(order, Action.CHECK_FEEDBACK, accept=True)
    assert order.state is State.ACCEPTED
    order = step(order, Action.CALLBACK, recording="cb/1.wav", resolved=False, satisfied=False)
    assert order.state is State.SUPERVISION
    order = step(order, Action.SUPERVISE, note="请三日内再次办理")
    assert (order.state, order.supervision_round, order.feedback) == (State.HANDLING, 1, {})
    order = step(order, Action.SUBMIT_FEEDBACK, **GOOD_FEEDBACK)
    order = step(order, Action.CHECK_FEEDBACK, accept=True)
    order = step(order, Action.CALLBACK, recording="cb/2.wav", resolved=True, satisfied=True)
    assert order.state is State.CALLED_BACK
    order = step(order, Action.CLOSE)
    assert order.state is State.CLOSED
    assert allowed_actions(State.CLOSED) == []


def test_illegal_transition_names_the_state_and_the_action() -> None:
    with pytest.raises(IllegalTransition) as caught:
        decide(OrderFacts(State.CREATED), Action.CLOSE, {})
    assert isinstance(caught.value, Refused)
    assert caught.value.code == "illegal-transition"
    assert "已受理" in caught.value.message and "close" in caught.value.message


def test_a_returned_order_goes_back_to_dispatch_with_its_reason() -> None:
    order = OrderFacts(State.DISPATCHED, department="东城区医保局")
    outcome = decide(order, Action.RETURN, {"reason": "不属于本部门职责"})
    assert outcome.to_state is State.RETURNED
    assert outcome.changes["return_reason"] == "不属于本部门职责"
    assert Action.DISPATCH in allowed_actions(State.RETURNED)
    with pytest.raises(GuardRefused) as caught:
        decide(order, Action.RETURN, {"reason": "  "})
    assert caught.value.code == "return-reason-required"


def test_incomplete_feedback_cannot_be_accepted() -> None:
    order = OrderFacts(
        State.FEEDBACK_SUBMITTED, feedback={"background": "市民咨询报销", "result": "无"}
    )
    assert missing_feedback_parts(order.feedback) == ["process", "result", "follow_up"]
    with pytest.raises(GuardRefused) as caught:
        decide(order, Action.CHECK_FEEDBACK, {"accept": True})
    assert caught.value.code == "feedback-incomplete"
    assert "办理过程" in caught.value.message
    rework = decide(order, Action.CHECK_FEEDBACK, {"accept": False})
    assert rework.to_state is State.REWORK and "缺少后续措施" in rework.note


def test_callback_needs_a_recording_and_both_answers() -> None:
    order = OrderFacts(State.ACCEPTED)
    with pytest.raises(GuardRefused) as caught:
        decide(order, Action.CALLBACK, {"resolved": True, "satisfied": True})
    assert caught.value.code == "callback-recording-required"
    with pytest.raises(GuardRefused) as caught:
        decide(order, Action.CALLBACK, {"recording": "cb.wav", "resolved": True})
    assert caught.value.code == "callback-flag-missing"


def test_after_the_second_handling_an_unsatisfied_callback_still_ends_the_order() -> None:
    order = OrderFacts(State.ACCEPTED, supervision_round=1)
    outcome = decide(
        order, Action.CALLBACK, {"recording": "r.wav", "resolved": True, "satisfied": False}
    )
    assert outcome.to_state is State.CALLED_BACK
    assert outcome.changes["satisfied"] is False


def test_dispatch_needs_a_department() -> None:
    with pytest.raises(GuardRefused) as caught:
        decide(OrderFacts(State.SIGNED), Action.DISPATCH, {"copies": ["王科长"]})
    assert caught.value.code == "department-required"


def test_the_check_needs_an_explicit_decision() -> None:
    order = OrderFacts(State.FEEDBACK_SUBMITTED, feedback=GOOD_FEEDBACK)
    with pytest.raises(GuardRefused) as caught:
        decide(order, Action.CHECK_FEEDBACK, {})
    assert caught.value.code == "check-decision-required"
