"""Work orders as the tests need them, made through the work-order service."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy.orm import Session, sessionmaker

from backend.models.workorders import WorkOrder
from backend.settings import Settings
from backend.workorders.composition import workorder_service
from backend.workorders.service import Actor, OrderDraft

LONG_AGO = datetime(2026, 1, 5, 2, 0, tzinfo=UTC)  # its dispatch deadline passed long ago


def stale_order(session_factory: sessionmaker[Session], settings: Settings) -> int:
    """A work order filed LONG_AGO, its dispatch deadline long passed."""
    with session_factory() as session:
        order = workorder_service(session, settings).create(
            OrderDraft(title=f"药店刷卡问题{uuid.uuid4().hex[:6]}", caller_phone="13700001111"),
            Actor("agent_wu", "10.0.0.30"),
            LONG_AGO,
        )
        session.commit()
        return order.id


def overdue(session_factory: sessionmaker[Session], order_id: int) -> bool:
    with session_factory() as session:
        order = session.get(WorkOrder, order_id)
        assert order is not None
        return order.overdue
