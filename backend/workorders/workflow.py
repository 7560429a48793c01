"""The work-order state machine (接诉即办), pure: states, actions, guards, no I/O.

intake (受理) → sign for (签收) → dispatch (派发) to a department, copying managers →
department accepts and handles (承办) → feedback submitted (反馈) → feedback checked against
the required parts (审核): rework (退回重办) or accepted → callback to the citizen (回访, with a
recording, satisfied / resolved) → closed (办结归档). An unresolved or unsatisfied callback puts
the order under supervision (督办) for a second handling; a department may return a wrongly
dispatched order (退单) with its reason, which sends it back to dispatch.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from backend.errors import Refused


class State(enum.StrEnum):
    CREATED = "created"  # 已受理
    SIGNED = "signed"  # 已签收, waiting for dispatch
    DISPATCHED = "dispatched"  # 已派发, waiting for the department to accept
    HANDLING = "handling"  # 办理中
    RETURNED = "returned"  # 已退单, back at dispatch
    FEEDBACK_SUBMITTED = "feedback_submitted"  # 已反馈, waiting for the check
    REWORK = "rework"  # 退回重办
    ACCEPTED = "accepted"  # 反馈已审核, waiting for the callback
    SUPERVISION = "supervision"  # 督办中
    CALLED_BACK = "called_back"  # 已回访
    CLOSED = "closed"  # 已办结


STATE_LABELS: dict[State, str] = {
    State.CREATED: "已受理",
    State.SIGNED: "已签收",
    State.DISPATCHED: "已派发",
    State.HANDLING: "办理中",
    State.RETURNED: "已退单",
    State.FEEDBACK_SUBMITTED: "已反馈",
    State.REWORK: "退回重办",
    State.ACCEPTED: "待回访",
    State.SUPERVISION: "督办中",
    State.CALLED_BACK: "已回访",
    State.CLOSED: "已办结",
}


class Action(enum.StrEnum):
    SIGN = "sign"  # 签收
    DISPATCH = "dispatch"  # 派发
    ACCEPT_ASSIGNMENT = "accept_assignment"  # 承办
    RETURN = "return"  # 退单
    SUBMIT_FEEDBACK = "submit_feedback"  # 反馈
    CHECK_FEEDBACK = "check_feedback"  # 审核: accept or send back for rework
    CALLBACK = "callback"  # 回访
    SUPERVISE = "supervise"  # 督办: second handling by the department
    CLOSE = "close"  # 办结归档


# The handling office's own steps (承办, 退单, 反馈); every other step is the hotline's
# (签收, 派发, 审核, 回访, 督办, 办结). Who may take which is the desk's to enforce.
DEPARTMENT_ACTIONS = frozenset({Action.ACCEPT_ASSIGNMENT, Action.RETURN, Action.SUBMIT_FEEDBACK})

ACTION_LABELS: dict[Action, str] = {
    Action.SIGN: "签收",
    Action.DISPATCH: "派发",
    Action.ACCEPT_ASSIGNMENT: "承办",
    Action.RETURN: "退单",
    Action.SUBMIT_FEEDBACK: "反馈",
    Action.CHECK_FEEDBACK: "审核反馈",
    Action.CALLBACK: "回访",
    Action.SUPERVISE: "督办",
    Action.CLOSE: "办结",
}


class Source(enum.StrEnum):
    HOTLINE_CALL = "hotline_call"
    HOTLINE_MESSAGE = "hotline_message"  # out-of-hours message left in the IVR
    QUEUE_VOICEMAIL = "queue_voicemail"  # caller left the queue with a voicemail
    CITY_PLATFORM = "city_platform"  # 12345
    WEB = "web"
    WALK_IN = "walk_in"


class Urgency(enum.StrEnum):
    NORMAL = "normal"
    URGENT = "urgent"


# The parts every department's reply must contain before it may be accepted.
FEEDBACK_PARTS: dict[str, str] = {
    "background": "背景",
    "process": "办理过程",
    "result": "办理结果",
    "follow_up": "后续措施",
}
# A part shorter than this is a placeholder ("无", "已办"), not an answer.
MIN_PART_CHARS = 4
# After this many supervision rounds an unsatisfied callback closes the order as it stands.
MAX_SUPERVISION_ROUNDS = 1

OPEN_STATES = frozenset(State) - {State.CLOSED}

TRANSITIONS: dict[tuple[State, Action], tuple[State, ...]] = {
    (State.CREATED, Action.SIGN): (State.SIGNED,),
    (State.SIGNED, Action.DISPATCH): (State.DISPATCHED,),
    (State.RETURNED, Action.DISPATCH): (State.DISPATCHED,),
    (State.DISPATCHED, Action.ACCEPT_ASSIGNMENT): (State.HANDLING,),
    (State.DISPATCHED, Action.RETURN): (State.RETURNED,),
    (State.HANDLING, Action.RETURN): (State.RETURNED,),
    (State.HANDLING, Action.SUBMIT_FEEDBACK): (State.FEEDBACK_SUBMITTED,),
    (State.REWORK, Action.SUBMIT_FEEDBACK): (State.FEEDBACK_SUBMITTED,),
    (State.FEEDBACK_SUBMITTED, Action.CHECK_FEEDBACK): (State.ACCEPTED, State.REWORK),
    (State.ACCEPTED, Action.CALLBACK): (State.CALLED_BACK, State.SUPERVISION),
    (State.SUPERVISION, Action.SUPERVISE): (State.HANDLING,),
    (State.CALLED_BACK, Action.CLOSE): (State.CLOSED,),
}


class IllegalTransition(Refused):
    code = "illegal-transition"

    def __init__(self, state: State, action: Action) -> None:
        super().__init__(
            f"工单当前状态为「{STATE_LABELS[state]}」({state.value})，"
            f"不能执行「{ACTION_LABELS[action]}」({action.value})"
        )
        self.state = state
        self.action = action


class GuardRefused(Refused):
    """A step is allowed in this state but its data is not good enough."""


@dataclass(frozen=True)
class OrderFacts:
    """What the guards need to know about the order."""

    state: State
    department: str = ""
    supervision_round: int = 0
    feedback: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Outcome:
    """The decided step: the new state and the field changes the adapter must store."""

    action: Action
    from_state: State
    to_state: State
    changes: dict[str, Any]
    note: str = ""


def allowed_actions(state: State) -> list[Action]:
    return [action for (s, action) in TRANSITIONS if s == state]


def missing_feedback_parts(feedback: Mapping[str, Any]) -> list[str]:
    return [
        key
        for key in FEEDBACK_PARTS
        if len(str(feedback.get(key, "") or "").strip()) < MIN_PART_CHARS
    ]


def _text(payload: Mapping[str, Any], key: str) -> str:
    value = payload.get(key, "")
    return str(value).strip() if value is not None else ""


def _flag(payload: Mapping[str, Any], key: str, label: str) -> bool:
    value = payload.get(key)
    if not isinstance(value, bool):
        raise GuardRefused(f"回访必须记录{label}（是/否）", code="callback-flag-missing")
    return value


def decide(order: OrderFacts, action: Action, payload: Mapping[str, Any]) -> Outcome:
    """Check the step against the state machine and its guards; return what changes."""
    targets = TRANSITIONS.get((order.state, action))
    if targets is None:
        raise IllegalTransition(order.state, action)
    note = _text(payload, "note")
    changes: dict[str, Any] = {}
    to_state = targets[0]

    if action is Action.DISPATCH:
        department = _text(payload, "department")
        if not department:
            raise GuardRefused("派发必须指定承办部门", code="department-required")
        copies = [str(c).strip() for c in payload.get("copies", []) or [] if str(c).strip()]
        changes.update(department=department, copies=copies, return_reason="")
    elif action is Action.RETURN:
        reason = _text(payload, "reason")
        if not reason:
            raise GuardRefused("退单必须说明理由", code="return-reason-required")
        changes.update(return_reason=reason)
        note = note or reason
    elif action is Action.SUBMIT_FEEDBACK:
        feedback = {key: _text(payload, key) for key in FEEDBACK_PARTS}
        changes.update(feedback=feedback)
    elif action is Action.CHECK_FEEDBACK:
        missing = missing_feedback_parts(order.feedback)
        accept = payload.get("accept")
        if not isinstance(accept, bool):
            raise GuardRefused("审核必须选择通过或退回重办", code="check-decision-required")
        if accept and missing:
            names = "、".join(FEEDBACK_PARTS[m] for m in missing)
            raise GuardRefused(
                f"反馈缺少必备要素：{names}，不能通过审核", code="feedback-incomplete"
            )
        to_state = State.ACCEPTED if accept else State.REWORK
        if not accept:
            reasons = [f"缺少{FEEDBACK_PARTS[m]}" for m in missing]
            note = "；".join([*([note] if note else []), *reasons]) or "退回重办"
    elif action is Action.CALLBACK:
        recording = _text(payload, "recording")
        if not recording:
            raise GuardRefused("回访必须关联通话录音", code="callback-recording-required")
        resolved = _flag(payload, "resolved", "是否解决")
        satisfied = _flag(payload, "satisfied", "是否满意")
        changes.update(resolved=resolved, satisfied=satisfied, callback_recording=recording)
        needs_second_round = not (resolved and satisfied)
        if needs_second_round and order.supervision_round < MAX_SUPERVISION_ROUNDS:
            to_state = State.SUPERVISION
    elif action is Action.SUPERVISE:
        changes.update(supervision_round=order.supervision_round + 1, feedback={})
        if not note:
            raise GuardRefused("督办必须写明督办意见", code="supervision-note-required")

    return Outcome(action, order.state, to_state, changes, note)
