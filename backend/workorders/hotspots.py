"""Hot spots and repeat callers over a period, for the order list and the reports."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from backend.models.workorders import WorkOrder
from backend.personal_data import PersonalDataCipher, mask_phone


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
    session: Session, since: datetime, until: datetime, *, min_callers: int = 3
) -> list[Hotspot]:
    """Problems at one place reported by at least ``min_callers`` different callers."""
    window = (
        WorkOrder.created_at >= since,
        WorkOrder.created_at < until,
        WorkOrder.hotspot_key != "",
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
) -> list[RepeatCaller]:
    """Callers with ``min_orders`` or more orders in the period, phone masked."""
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
