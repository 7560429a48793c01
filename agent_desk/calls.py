"""The agent's record of a call: the wrap-up (result, notes, the order or booking it led to)
and a work order opened from the call, with the caller's number carried over.

Each works in one transaction with its audit record; a call belongs to the agent who took
it: another agent's call is "not found" to the wrap-up, and an order from a call that is not
the agent's own (the one the ACD has the agent on, or one whose record names the agent) is
refused with 403 ``not-own-call`` and the attempt audited.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from agent_desk.auth.audit import add_audit, audit_now
from agent_desk.auth.errors import Forbidden
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


class NotOwnCall(Forbidden):
    code = "not-own-call"


@dataclass(frozen=True)
class OrderTaker:
    """Who opens an order from a call: the person, their agent, and the call the ACD has
    that agent on now (also during its wrap-up)."""

    actor: Actor
    agent_id: int | None
    current_call: str = ""
    team: str = ""  # the order goes to this desk team (backend.workorders.scope)


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


def _own_call(state: AppState, db: Session, call_id: str, taker: OrderTaker) -> CallRecord | None:
    """The record of ``call_id`` when it is the taker's call; NotOwnCall (audited) if not."""
    record = _record(db, call_id)
    if call_id == taker.current_call:
        return record
    if record is not None and taker.agent_id is not None and record.agent_id == taker.agent_id:
        return record
    audit_now(
        state.session_factory, taker.actor.username, "call.order_refused",
        target=f"call:{call_id}", source_ip=taker.actor.source_ip,
        details={"reason": "not-own-call", "agent_id": taker.agent_id},
    )  # fmt: skip
    raise NotOwnCall("只能由您本人接听的电话新建工单")


def open_order(state: AppState, request: CallOrder, taker: OrderTaker) -> WorkOrder:
    with transaction(state.session_factory) as db:
        record = _own_call(state, db, request.call_id, taker) if request.call_id else None
        draft = OrderDraft(
            title=request.title,
            category=request.category,
            description=request.description,
            line=record.line.value if record else "hotline",
            # The full number (the order stores it encrypted), not the call's masked form.
            caller_phone=caller_of(state.cipher, record) if record else "",
            call_id=record.call_id if record else None,
            team=taker.team,
        )
        return state.workorders.service(db).create(draft, taker.actor, datetime.now(UTC))
