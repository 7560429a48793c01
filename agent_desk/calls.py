"""The agent's record of a call: the wrap-up (result, notes, the order or booking it led to)
and a work order opened from the call, with the caller's number carried over.

Each works in one transaction with its audit record; a call belongs to the agent who took
it: a wrap-up of, or an order from, a call that is not the agent's own (the one the ACD has
the agent on, or one whose record names the agent) is refused with 403 ``not-own-call`` and
the attempt audited; a wrap-up links only an order of the agent's scope to the call.
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
from agent_desk.workorder_access import OrderOutOfScope
from backend.audit import Actor
from backend.db import transaction
from backend.errors import NotFound
from backend.models.calls import CallRecord
from backend.models.workorders import WorkOrder
from backend.workorders.scope import EVERY_ORDER, OrderScope
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
class CallTaker:
    """Who records something of a call: the person, their agent, the call the ACD has that
    agent on now (also during its wrap-up), and whose work orders they work on (an order
    opened goes to the scope's team)."""

    actor: Actor
    agent_id: int | None
    current_call: str = ""
    scope: OrderScope = EVERY_ORDER


def _record(db: Session, call_id: str) -> CallRecord | None:
    if not call_id:
        return None
    return db.scalar(select(CallRecord).where(CallRecord.call_id == call_id))


def record_wrapup(state: AppState, wrapup: WrapUp, taker: CallTaker) -> None:
    """Store the wrap-up on the agent's own call and link the order it names to the call."""
    actor = taker.actor
    with transaction(state.session_factory) as db:
        record = _own_call(state, db, wrapup.call_id, taker, "wrapup") if wrapup.call_id else None
        if record is not None:
            record.wrapup_code = wrapup.code
            record.wrapup_notes = wrapup.notes
        if wrapup.order_number and wrapup.call_id:
            _link_order(state, db, wrapup, taker)
        add_audit(db, actor.username, "call.wrapup", target=f"call:{wrapup.call_id}",
                  source_ip=actor.source_ip, details=wrapup.audited())  # fmt: skip


def _link_order(state: AppState, db: Session, wrapup: WrapUp, taker: CallTaker) -> None:
    """The call linked to the order the wrap-up names, an order of the taker's scope."""
    order = db.scalar(select(WorkOrder).where(WorkOrder.number == wrapup.order_number))
    if order is None:
        raise NotFound(f"没有工单 {wrapup.order_number}")
    if not taker.scope.allows(order):
        audit_now(
            state.session_factory, taker.actor.username, "workorder.refused",
            target=f"work_order:{order.id}", source_ip=taker.actor.source_ip,
            details={"purpose": "wrapup", "team": taker.scope.team, "order_team": order.team},
        )  # fmt: skip
        raise OrderOutOfScope("该工单属于其他班组，不能关联到您的通话")
    if order.call_id != wrapup.call_id:
        service = state.workorders.service(db)
        now = datetime.now(UTC)
        service.link_call(order.id, wrapup.call_id, "related", "", taker.actor, now)


REFUSALS = {
    "order": "只能由您本人接听的电话新建工单",
    "wrapup": "只能为您本人接听的电话填写话后小结",
}


def _own_call(
    state: AppState, db: Session, call_id: str, taker: CallTaker, purpose: str
) -> CallRecord | None:
    """The record of ``call_id`` when it is the taker's call; NotOwnCall (audited as
    ``call.<purpose>_refused``) if not."""
    record = _record(db, call_id)
    if call_id == taker.current_call:
        return record
    if record is not None and taker.agent_id is not None and record.agent_id == taker.agent_id:
        return record
    audit_now(
        state.session_factory, taker.actor.username, f"call.{purpose}_refused",
        target=f"call:{call_id}", source_ip=taker.actor.source_ip,
        details={"reason": "not-own-call", "agent_id": taker.agent_id},
    )  # fmt: skip
    raise NotOwnCall(REFUSALS[purpose])


def open_order(state: AppState, request: CallOrder, taker: CallTaker) -> WorkOrder:
    with transaction(state.session_factory) as db:
        record = _own_call(state, db, request.call_id, taker, "order") if request.call_id else None
        draft = OrderDraft(
            title=request.title,
            category=request.category,
            description=request.description,
            line=record.line.value if record else "hotline",
            # The full number (the order stores it encrypted), not the call's masked form.
            caller_phone=caller_of(state.cipher, record) if record else "",
            call_id=record.call_id if record else None,
            team=taker.scope.team,
        )
        return state.workorders.service(db).create(draft, taker.actor, datetime.now(UTC))
