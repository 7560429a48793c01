"""Calls placed to the citizen about an order: 回访 (the callback step's call) and 回电 (the
return call of a message or voicemail), each try on the timeline, an answered one linked with
its recording; and the recording the 回访 step takes, which is always a linked call's.

Everything works in the caller's session, so a call's result, its timeline row and the
callback task it was for are kept or dropped together.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from backend.errors import NotFound
from backend.models.workorders import CallbackTask, WorkOrder, WorkOrderCall, WorkOrderEvent
from backend.workorders.journal import Actor, Step, record_step
from backend.workorders.workflow import GuardRefused, State

# What each relation of a linked call is, on the order's timeline.
CALL_RELATION_LABELS = {
    "intake": "来电",
    "callback": "回访电话",
    "return_call": "回电",
    "repeat": "重复来电",
    "follow_up": "跟进电话",
    "related": "相关通话",
}


@dataclass(frozen=True)
class CallAttempt:
    """One call placed to the citizen about an order."""

    call_id: str
    relation: str  # "callback" (回访) or "return_call" (回电 of a message or voicemail)
    answered: bool
    result: str  # for people: 已接通, 无人接听, 对方忙...
    recording_path: str = ""  # below the recordings folder
    attempt: int | None = None  # the n-th try of a callback task


def record_attempt(
    session: Session, order: WorkOrder, attempt: CallAttempt, actor: Actor, now: datetime
) -> None:
    """The try on the order's timeline; an answered call linked with its recording."""
    if attempt.answered:
        session.add(
            WorkOrderCall(
                order_id=order.id,
                call_id=attempt.call_id,
                relation=attempt.relation,
                recording_path=attempt.recording_path,
                linked_at=now,
            )
        )
    what = CALL_RELATION_LABELS.get(attempt.relation, "通话")
    nth = f"第{attempt.attempt}次" if attempt.attempt else ""
    details = {
        "call_id": attempt.call_id,
        "relation": attempt.relation,
        "answered": attempt.answered,
        "recording": attempt.recording_path if attempt.answered else "",
    }
    step = Step("call", order.state, order.state, f"{what}{nth}：{attempt.result}", details)
    record_step(session, order, actor, step, now)


def task_attempted(session: Session, task_id: int, *, answered: bool, gave_up: bool) -> None:
    """One more try of a callback task: done when answered, failed after the last try."""
    task = session.get(CallbackTask, task_id, with_for_update=True)
    if task is None:
        raise NotFound(f"没有编号为 {task_id} 的回电任务")
    task.attempts += 1
    task.status = "done" if answered else "failed" if gave_up else "pending"


def with_callback_recording(
    session: Session, order: WorkOrder, payload: Mapping[str, Any]
) -> Mapping[str, Any]:
    """The 回访 step's recording is the answered 回访 call's, linked when that call ended
    (never typed in): the one named by ``call_id``, else the latest since the order last
    became ready for its callback; GuardRefused when there is none."""
    ready_since = session.scalar(
        select(func.max(WorkOrderEvent.at)).where(
            WorkOrderEvent.order_id == order.id,
            WorkOrderEvent.to_state == State.ACCEPTED.value,
            WorkOrderEvent.from_state != State.ACCEPTED.value,
        )
    )
    query = select(WorkOrderCall).where(
        WorkOrderCall.order_id == order.id,
        WorkOrderCall.relation == "callback",
        WorkOrderCall.recording_path != "",
    )
    if ready_since is not None:
        query = query.where(WorkOrderCall.linked_at >= ready_since)
    call_id = str(payload.get("call_id") or "")
    if call_id:
        query = query.where(WorkOrderCall.call_id == call_id)
    link = session.scalar(query.order_by(WorkOrderCall.id.desc()).limit(1))
    if link is None:
        raise GuardRefused(
            "回访必须关联通话录音：请先拨打回访电话，接通后录音会自动关联到工单",
            code="callback-recording-required",
        )
    return {**payload, "recording": link.recording_path, "call_id": link.call_id}
