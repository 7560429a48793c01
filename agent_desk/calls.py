"""The agent's record of a call: the wrap-up (result, notes, the order or booking it led to)
and a work order opened from the call, with the caller's number carried over.

Each works in one transaction with its audit record; a call belongs to the agent who took
it, and another agent's call is "not found".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from agent_desk.auth.audit import add_audit
from agent_desk.caller_history import caller_of
from agent_desk.state import AppState
from backend.audit import Actor
from backend.db import transaction
from backend.errors import NotFound
from backend.models.calls import CallRecord
from backend.models.workorders import WorkOrder
from backend.workorders.service import OrderDraft


@dataclass(frozen=True)
class WrapUp:
    call_id: str
    code: str
    notes: str = ""
    order_number: str = ""
    booking_code: str = ""

    def audited(self) -> dict[str, str]:
        """What the audit record keeps: everything but the free-text notes."""
        return {"call_id": self.call_id, "code": self.code,
                "order_number": self.order_number, "booking_code": self.booking_code}  # fmt: skip


@dataclass(frozen=True)
class CallOrder:
    """A work order opened from a call: the call's line and caller are filled in."""

    title: str
    category: str = ""
    description: str = ""
    call_id: str | None = None


def _record(db: Session, call_id: str) -> CallRecord | None:
    if not call_id:
        return None
    return db.scalar(select(CallRecord).where(CallRecord.call_id == call_id))


def record_wrapup(state: AppState, agent_id: int, wrapup: WrapUp, actor: Actor) -> None:
    """Store the wrap-up on the agent's call and link the order it names to the call."""
    with transaction(state.session_factory) as db:
        record = _record(db, wrapup.call_id)
        if record is not None:
            if record.agent_id not in (None, agent_id):
                raise NotFound("没有这通电话")
            record.wrapup_code = wrapup.code
            record.wrapup_notes = wrapup.notes
        if wrapup.order_number and wrapup.call_id:
            _link_order(state, db, wrapup.order_number, wrapup.call_id, actor)
        add_audit(db, actor.username, "call.wrapup", target=f"call:{wrapup.call_id}",
                  source_ip=actor.source_ip, details=wrapup.audited())  # fmt: skip


def _link_order(state: AppState, db: Session, number: str, call_id: str, actor: Actor) -> None:
    order = db.scalar(select(WorkOrder).where(WorkOrder.number == number))
    if order is None:
        raise NotFound(f"没有工单 {number}")
    if order.call_id != call_id:
        service = state.workorders.service(db)
        service.link_call(order.id, call_id, "related", "", actor, datetime.now(UTC))


def open_order(state: AppState, request: CallOrder, actor: Actor) -> WorkOrder:
    with transaction(state.session_factory) as db:
        record = _record(db, request.call_id or "")
        draft = OrderDraft(
            title=request.title,
            category=request.category,
            description=request.description,
            line=record.line.value if record else "hotline",
            # The full number (the order stores it encrypted), not the call's masked form.
            caller_phone=caller_of(state.cipher, record) if record else "",
            call_id=record.call_id if record else None,
        )
        return state.workorders.service(db).create(draft, actor, datetime.now(UTC))
