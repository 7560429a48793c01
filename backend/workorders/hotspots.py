"""Hot spots and repeat callers: marked on each new order, and listed over a period."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from backend.models.workorders import WorkOrder
from backend.personal_data import PersonalDataCipher, mask_phone
from backend.workorders.duplicates import DuplicateRules
from backend.workorders.scope import EVERY_ORDER, OrderScope


@dataclass(frozen=True)
class Hotspot:
    key: str
    category: str
    callers: int
    orders: int
    latest_title: str
    latest_at: datetime


@dataclass(frozen=True)
class RepeatCaller:
    phone_masked: str
    orders: int
    first_at: datetime
    latest_at: datetime


def hotspots(
    session: Session,
    since: datetime,
    until: datetime,
    *,
    min_callers: int = 3,
    scope: OrderScope = EVERY_ORDER,
) -> list[Hotspot]:
    """Problems at one place reported by at least ``min_callers`` different callers, among
    the orders of ``scope``."""
    window = (
        WorkOrder.created_at >= since,
        WorkOrder.created_at < until,
        WorkOrder.hotspot_key != "",
        scope.condition(),
    )
    callers = func.count(func.distinct(WorkOrder.caller_phone_hash)).filter(
        WorkOrder.caller_phone_hash != ""
    )
    rows = session.execute(
        select(
            WorkOrder.hotspot_key,
            func.min(WorkOrder.category),
            callers,
            func.count(WorkOrder.id),
            func.max(WorkOrder.created_at),
        )
        .where(*window)
        .group_by(WorkOrder.hotspot_key)
        .having(callers >= min_callers)
        .order_by(callers.desc(), func.max(WorkOrder.created_at).desc(), WorkOrder.hotspot_key)
    ).all()
    out = []
    for key, category, count, orders, latest_at in rows:
        title = session.scalar(
            select(WorkOrder.title)
            .where(*window, WorkOrder.hotspot_key == key)
            .order_by(WorkOrder.created_at.desc(), WorkOrder.id.desc())
            .limit(1)
        )
        out.append(Hotspot(key, category, int(count), int(orders), title or "", latest_at))
    return out


def repeat_callers(
    session: Session,
    cipher: PersonalDataCipher,
    since: datetime,
    until: datetime,
    *,
    min_orders: int = 2,
    scope: OrderScope = EVERY_ORDER,
) -> list[RepeatCaller]:
    """Callers with ``min_orders`` or more orders of ``scope`` in the period, phone masked."""
    rows = session.execute(
        select(
            WorkOrder.caller_phone_hash,
            func.min(WorkOrder.caller_phone_enc),
            func.count(WorkOrder.id),
            func.min(WorkOrder.created_at),
            func.max(WorkOrder.created_at),
        )
        .where(
            WorkOrder.created_at >= since,
            WorkOrder.created_at < until,
            WorkOrder.caller_phone_hash != "",
            scope.condition(),
        )
        .group_by(WorkOrder.caller_phone_hash)
        .having(func.count(WorkOrder.id) >= min_orders)
        .order_by(
            func.count(WorkOrder.id).desc(),
            func.max(WorkOrder.created_at).desc(),
            WorkOrder.caller_phone_hash,
        )
    ).all()
    return [
        RepeatCaller(mask_phone(cipher.decrypt(enc)), int(count), first, latest)
        for _, enc, count, first, latest in rows
    ]


def mark_duplicates(session: Session, order: WorkOrder, rules: DuplicateRules) -> None:
    """Count a new order's earlier orders from the same caller and the callers reporting its
    hot spot; once a hot spot is reached, every order in it shows the new count."""
    if order.caller_phone_hash:
        since = order.created_at - rules.repeat_window
        earlier = session.scalars(
            select(WorkOrder.id)
            .where(
                WorkOrder.caller_phone_hash == order.caller_phone_hash,
                WorkOrder.id != order.id,
                WorkOrder.created_at >= since,
                WorkOrder.created_at <= order.created_at,
            )
            .order_by(WorkOrder.created_at.desc(), WorkOrder.id.desc())
        ).all()
        order.repeat_count = len(earlier)
        order.repeat_of_id = earlier[0] if earlier else None
    if order.hotspot_key:
        since = order.created_at - rules.hotspot_window
        in_window = (
            WorkOrder.hotspot_key == order.hotspot_key,
            WorkOrder.created_at >= since,
            WorkOrder.caller_phone_hash != "",
        )
        callers = session.scalar(
            select(func.count(func.distinct(WorkOrder.caller_phone_hash))).where(*in_window)
        )
        order.hotspot_callers = int(callers or 0)
        if order.hotspot_callers >= rules.min_callers:
            session.execute(
                update(WorkOrder)
                .where(*in_window, WorkOrder.hotspot_callers < order.hotspot_callers)
                .values(hotspot_callers=order.hotspot_callers)
                .execution_options(synchronize_session=False)
            )
