"""How long the outbox and the delivery reports are kept: finished messages (sent, skipped,
expired) and reports older than ``keep_days`` go; queued messages stay whatever their age
(the sender expires them first). Every row holds a number only as ciphertext, but what was
sent to whom is still personal data, kept no longer than disputes need."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.orm import Session, sessionmaker

from backend.db import transaction
from backend.models.sms import SmsOutbox, SmsReceipt
from backend.sms.outbox import QUEUED

KEEP_DAYS = 180


def purge_old_messages(
    session_factory: sessionmaker[Session], now: datetime, keep_days: int = KEEP_DAYS
) -> int:
    """Delete finished messages and reports older than ``keep_days``; how many messages."""
    before = now - timedelta(days=keep_days)
    with transaction(session_factory) as session:
        gone = session.execute(
            delete(SmsOutbox)
            .where(SmsOutbox.status != QUEUED, SmsOutbox.created_at < before)
            .returning(SmsOutbox.id)
        ).all()
        session.execute(delete(SmsReceipt).where(SmsReceipt.received_at < before))
        return len(gone)
