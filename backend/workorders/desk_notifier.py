"""The desk notifier: notifications are rows that the desk shows to their recipients."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from backend.models.workorders import DeskNotification
from backend.workorders.notifier import Notification


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


def unread_for(session: Session, recipients: list[str], limit: int = 50) -> list[DeskNotification]:
    query = (
        select(DeskNotification)
        .where(DeskNotification.recipient.in_(recipients), DeskNotification.read_at.is_(None))
        .order_by(DeskNotification.created_at.desc(), DeskNotification.id.desc())
        .limit(limit)
    )
    return list(session.scalars(query))


def mark_read(session: Session, recipients: list[str], ids: list[int], now: datetime) -> int:
    result = session.execute(
        update(DeskNotification)
        .where(DeskNotification.id.in_(ids), DeskNotification.recipient.in_(recipients))
        .values(read_at=now)
    )
    return int(getattr(result, "rowcount", 0) or 0)
