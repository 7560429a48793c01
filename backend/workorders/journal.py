"""Who did what to an order: its timeline row and, for people, the audit record.

Both are written in the caller's session, so that a step and its record are kept or dropped
together.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from backend.audit import Actor, record_audit
from backend.models.workorders import WorkOrder, WorkOrderEvent

SYSTEM = "system"


__all__ = ["SYSTEM", "Actor", "Step", "record_step"]


@dataclass(frozen=True)
class Step:
    """One entry of an order's timeline: ``action`` took it from one state to another."""

    action: str
    from_state: str
    to_state: str
    note: str = ""
    details: dict[str, Any] | None = None


def record_step(
    session: Session, order: WorkOrder, actor: Actor, step: Step, now: datetime
) -> None:
    """The timeline row; and an audit record unless the system acted (the overdue check,
    imports of messages), which audits nobody."""
    session.add(
        WorkOrderEvent(
            order_id=order.id,
            at=now,
            actor=actor.username,
            action=step.action,
            from_state=step.from_state,
            to_state=step.to_state,
            note=step.note,
            details=step.details or {},
        )
    )
    if actor.username != SYSTEM:
        moved = {"number": order.number, "from": step.from_state, "to": step.to_state}
        record_audit(
            session, actor, f"workorder.{step.action}", f"work_order:{order.id}", now, moved
        )
