"""The desk notifier: notifications are rows that the desk shows to their recipients."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, or_, select, update
from sqlalchemy.orm import Session

from backend.models.workorders import DeskNotification, WorkOrder
from backend.workorders.notifier import Notification
from backend.workorders.scope import EVERY_ORDER, OrderScope


class DeskNotifier:
    """Writes in the caller's session, so a notification exists only if its cause committed."""

    def __init__(self, session: Session) -> None:
        self._session = session

    def notify(self, notification: Notification) -> None:
        for recipient in dict.fromkeys(r for r in notification.recipients if r):
            self._session.add(
                DeskNotification(
                    recipient=recipient,
                    kind=notification.kind,
                    title=notification.title,
                    body=notification.body,
                    order_id=notification.order_id,
                )
            )
        self._session.flush()


def _shown(scope: OrderScope) -> ColumnElement[bool]:
    """A notification addressed to the person by name is theirs; one to a shared inbox (a
    role's) only when its order is of the person's scope."""
    return or_(
        DeskNotification.recipient == scope.username,
        DeskNotification.order_id.is_(None),
        DeskNotification.order_id.in_(select(WorkOrder.id).where(scope.condition())),
    )


def unread_for(
    session: Session, recipients: list[str], limit: int = 50, scope: OrderScope = EVERY_ORDER
) -> list[DeskNotification]:
    query = (
        select(DeskNotification)
        .where(
            DeskNotification.recipient.in_(recipients),
            DeskNotification.read_at.is_(None),
            _shown(scope),
        )
        .order_by(DeskNotification.created_at.desc(), DeskNotification.id.desc())
        .limit(limit)
    )
    return list(session.scalars(query))


def mark_read(
    session: Session,
    recipients: list[str],
    ids: list[int],
    now: datetime,
    scope: OrderScope = EVERY_ORDER,
) -> int:
    result = session.execute(
        update(DeskNotification)
        .where(
            DeskNotification.id.in_(ids),
            DeskNotification.recipient.in_(recipients),
            _shown(scope),
        )
        .values(read_at=now)
    )
    return int(getattr(result, "rowcount", 0) or 0)
