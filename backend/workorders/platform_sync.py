"""Applying the 12345 exchange format: platform orders in, replies and results out."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, tuple_
from sqlalchemy.orm import Session

from backend.models.workorders import WorkOrder
from backend.workorders.exchange import (
    ImportResult,
    PlatformBatch,
    PlatformOrder,
    PlatformReply,
    ReplyCursor,
)
from backend.workorders.service import Actor, OrderDraft, WorkOrderService
from backend.workorders.workflow import STATE_LABELS, Source, State, Urgency


def draft_from_platform(order: PlatformOrder) -> OrderDraft:
    return OrderDraft(
        title=order.title,
        source=Source.CITY_PLATFORM,
        description=order.content,
        category=order.category,
        industry=order.industry,
        urgency=Urgency(order.urgency),
        complex_case=order.complex,
        address=order.full_address(),
        caller_name=order.caller.name,
        caller_phone=order.caller.phone,
        attachments=[a.model_dump() for a in order.attachments],
        platform_order_id=order.platform_order_id,
        final_due_at=order.deadline,
        received_at=order.received_at,
    )


def import_batch(
    service: WorkOrderService, batch: PlatformBatch, actor: Actor, now: datetime
) -> list[ImportResult]:
    results = []
    for incoming in batch.orders:
        order, created = service.import_platform_order(draft_from_platform(incoming), actor, now)
        results.append(
            ImportResult(
                platform_order_id=incoming.platform_order_id,
                order_number=order.number,
                status="created" if created else "duplicate",
            )
        )
    return results


def replies_since(
    session: Session, since: datetime, limit: int = 500, *, since_id: int | None = None
) -> tuple[list[PlatformReply], ReplyCursor | None]:
    """Platform orders changed after the cursor, oldest change first, and the cursor to pass
    next (None when there were none). The cursor is (``updated_at``, id): orders sharing one
    ``updated_at`` are split between pages by id. Without ``since_id``, orders changed exactly
    at ``since`` are left out (the time-only cursor of older clients)."""
    after = (
        WorkOrder.updated_at > since
        if since_id is None
        else tuple_(WorkOrder.updated_at, WorkOrder.id) > tuple_(since, since_id)
    )
    query = (
        select(WorkOrder)
        .where(WorkOrder.platform_order_id.is_not(None), after)
        .order_by(WorkOrder.updated_at, WorkOrder.id)
        .limit(limit)
    )
    orders = session.scalars(query).all()
    replies = []
    for order in orders:
        feedback = order.feedback or {}
        replies.append(
            PlatformReply(
                platform_order_id=order.platform_order_id or "",
                order_number=order.number,
                state=order.state,
                state_label=STATE_LABELS[State(order.state)],
                department=order.department,
                background=str(feedback.get("background", "")),
                process=str(feedback.get("process", "")),
                result=str(feedback.get("result", "")),
                follow_up=str(feedback.get("follow_up", "")),
                resolved=order.resolved,
                satisfied=order.satisfied,
                returned_reason=order.return_reason,
                closed_at=order.closed_at,
                updated_at=order.updated_at,
            )
        )
    last = orders[-1] if orders else None
    cursor = None if last is None else ReplyCursor(since=last.updated_at, since_id=last.id)
    return replies, cursor
