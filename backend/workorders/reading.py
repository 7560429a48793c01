"""Reading work orders: one order, its timeline and calls, the caller's earlier orders, lists.

Caller names and phones are stored encrypted; the reader decrypts them for whoever shows
them (the desk masks them before they leave the server).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.errors import NotFound
from backend.models.workorders import WorkOrder, WorkOrderCall, WorkOrderEvent
from backend.personal_data import PersonalDataCipher
from backend.workorders.scope import EVERY_ORDER, OrderScope
from backend.workorders.workflow import State

EARLIER_ORDERS_SHOWN = 20


@dataclass(frozen=True)
class OrderListFilter:
    """Which orders a list shows, newest first."""

    states: Sequence[State] = ()  # any state when empty
    mine_of: str | None = None  # orders this user filed or signed for
    overdue: bool | None = None
    limit: int = 100
    scope: OrderScope = EVERY_ORDER  # whose orders (``backend.workorders.scope``)


class WorkOrderReader:
    def __init__(self, session: Session, cipher: PersonalDataCipher) -> None:
        self._session = session
        self._cipher = cipher

    def get(self, order_id: int) -> WorkOrder:
        order = self._session.get(WorkOrder, order_id)
        if order is None:
            raise NotFound(f"没有编号为 {order_id} 的工单")
        return order

    def list_orders(self, f: OrderListFilter) -> list[WorkOrder]:
        query = select(WorkOrder).order_by(WorkOrder.created_at.desc(), WorkOrder.id.desc())
        query = query.where(f.scope.condition())
        if f.states:
            query = query.where(WorkOrder.state.in_([s.value for s in f.states]))
        if f.mine_of is not None:
            query = query.where(
                (WorkOrder.assignee == f.mine_of) | (WorkOrder.created_by == f.mine_of)
            )
        if f.overdue is not None:
            query = query.where(WorkOrder.overdue.is_(f.overdue))
        return list(self._session.scalars(query.limit(f.limit)))

    def timeline(self, order_id: int) -> list[WorkOrderEvent]:
        query = (
            select(WorkOrderEvent)
            .where(WorkOrderEvent.order_id == order_id)
            .order_by(WorkOrderEvent.at, WorkOrderEvent.id)
        )
        return list(self._session.scalars(query))

    def linked_calls(self, order_id: int) -> list[WorkOrderCall]:
        query = select(WorkOrderCall).where(WorkOrderCall.order_id == order_id)
        return list(self._session.scalars(query.order_by(WorkOrderCall.id)))

    def earlier_orders_of_caller(
        self, order: WorkOrder, scope: OrderScope = EVERY_ORDER
    ) -> list[WorkOrder]:
        if not order.caller_phone_hash:
            return []
        query = (
            select(WorkOrder)
            .where(
                WorkOrder.caller_phone_hash == order.caller_phone_hash,
                WorkOrder.id != order.id,
                WorkOrder.created_at <= order.created_at,
                scope.condition(),
            )
            .order_by(WorkOrder.created_at.desc(), WorkOrder.id.desc())
            .limit(EARLIER_ORDERS_SHOWN)
        )
        return list(self._session.scalars(query))

    def caller_phone(self, order: WorkOrder) -> str:
        return self._cipher.decrypt(order.caller_phone_enc) if order.caller_phone_enc else ""

    def caller_name(self, order: WorkOrder) -> str:
        return self._cipher.decrypt(order.caller_name_enc) if order.caller_name_enc else ""
