"""The overdue check: open orders past their stage's deadline are marked once per stage, and
the people who must act are told."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.models.workorders import WorkOrder
from backend.workorders.deadlines import STAGE_LABELS, stage_of
from backend.workorders.journal import SYSTEM, Actor, Step, record_step
from backend.workorders.notifier import Notification, Notifier, department_inbox
from backend.workorders.workflow import State

# Team leaders see every overdue order, also those nobody has signed for yet.
SUPERVISORS_INBOX = "role:supervisor"


def mark_overdue(session: Session, now: datetime, notifier: Notifier) -> list[int]:
    """Mark open orders whose current stage is past due, once per stage, and tell people."""
    query = (
        select(WorkOrder)
        .where(
            WorkOrder.state != State.CLOSED.value,
            WorkOrder.overdue.is_(False),
            WorkOrder.due_at.is_not(None),
            WorkOrder.due_at < now,
        )
        .order_by(WorkOrder.due_at, WorkOrder.id)
        .with_for_update(skip_locked=True)
    )
    marked: list[int] = []
    for order in session.scalars(query):
        order.overdue = True
        order.overdue_count += 1
        stage = stage_of(State(order.state))
        stage_label = STAGE_LABELS[stage] if stage else order.due_stage
        due = {"due_at": order.due_at.isoformat() if order.due_at else None}
        step = Step("overdue", order.state, order.state, f"{stage_label}已超期", due)
        record_step(session, order, Actor(SYSTEM), step, now)
        notifier.notify(
            Notification(
                recipients=_told_of_overdue(order),
                kind="overdue",
                title=f"工单 {order.number} {stage_label}超期",
                body=order.title,
                order_id=order.id,
            )
        )
        marked.append(order.id)
    session.flush()
    return marked


def _told_of_overdue(order: WorkOrder) -> list[str]:
    recipients = [SUPERVISORS_INBOX, order.assignee, *order.copies]
    if order.department and order.due_stage == "handle":
        recipients.append(department_inbox(order.department))
    if not order.assignee:
        recipients.append(order.created_by)
    return [r for r in recipients if r and r != SYSTEM]
