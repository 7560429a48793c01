"""Draining the outbox: each due message composed, handed to the gateway, marked sent.

One message per transaction, its row locked (``SKIP LOCKED``) while the gateway takes it, so
two senders never send the same message and a crash rolls the row back to "queued". The only
window for a duplicate is a crash after the gateway took a message and before the commit:
then the message goes again (at least once there, never lost).

When the gateway refuses (``SmsSendFailed``: down, timed out) the message stays queued with
a later attempt time and the drain stops: the rest would meet the same gateway. Messages that
could not go for ``max_age`` are marked expired (a reminder two days late helps nobody).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session, sessionmaker

from backend.booking.context import BookingContext
from backend.db import transaction
from backend.errors import CallCenterError
from backend.models.sms import SmsOutbox, SmsReceipt
from backend.notifications.compose import compose, outbox_row_for_update
from backend.notifications.texts import current_texts
from backend.personal_data import mask_phone
from backend.sms.outbox import EXPIRED, SENT, SKIPPED
from backend.sms.port import ReceiptSource, SmsGateway, SmsSendFailed

log = logging.getLogger(__name__)

FIRST_RETRY = timedelta(seconds=15)
LAST_RETRY = timedelta(minutes=10)


@dataclass
class DrainResult:
    sent: int = 0
    skipped: int = 0
    failed: int = 0  # attempts the gateway refused (the message stays queued)
    receipts: int = 0


def retry_delay(attempts: int) -> timedelta:
    """Doubling from 15 s to at most 10 min: a gateway back after an outage is used within
    minutes, one still down is not hammered."""
    return min(FIRST_RETRY * 2 ** max(attempts - 1, 0), LAST_RETRY)


class OutboxSender:
    def __init__(
        self,
        session_factory: sessionmaker[Session],
        ctx: BookingContext,
        gateway: SmsGateway,
        gateway_name: str,
        *,
        batch: int = 100,
        max_age: timedelta = timedelta(days=2),
    ) -> None:
        self._factory = session_factory
        self._ctx = ctx
        self._gateway = gateway
        self._gateway_name = gateway_name
        self._batch = batch
        self._max_age = max_age

    def drain(self) -> DrainResult:
        result = DrainResult()
        for _ in range(self._batch):
            outcome = self._send_next()
            if outcome is None:
                break
            setattr(result, outcome, getattr(result, outcome) + 1)
            if outcome == "failed":
                break
        result.receipts = self.store_receipts()
        return result

    def _send_next(self) -> str | None:
        """Send the next due message: "sent", "skipped", "failed", or None when none is due."""
        now = self._ctx.clock()
        with transaction(self._factory) as session:
            row = outbox_row_for_update(session, now)
            if row is None:
                return None
            if row.created_at < now - self._max_age:
                row.status = EXPIRED
                return "skipped"
            try:
                message = compose(session, self._ctx, row, current_texts(session))
            except CallCenterError as exc:  # e.g. a number under a key no longer listed
                message, row.last_error = None, exc.message[:200]
            if message is None:
                row.status = SKIPPED
                return "skipped"
            try:
                message_id = self._gateway.send(message)
            except SmsSendFailed as exc:
                self._postpone(row, now, str(exc))
                return "failed"
            row.status, row.sent_at, row.attempts = SENT, now, row.attempts + 1
            row.gateway, row.gateway_message_id = self._gateway_name, message_id
            log.info("sms %s #%s sent to %s", row.event, row.id, mask_phone(message.phone))
            return "sent"

    def _postpone(self, row: SmsOutbox, now: datetime, reason: str) -> None:
        row.attempts += 1
        row.next_attempt_at = now + retry_delay(row.attempts)
        row.last_error = reason[:200]
        log.warning("sms %s #%s not taken (%s), retry later", row.event, row.id, reason)

    def store_receipts(self, wait_seconds: float = 0.0) -> int:
        """Keep the delivery reports the gateway has received (once each)."""
        if not isinstance(self._gateway, ReceiptSource):
            return 0
        receipts = self._gateway.take_receipts(wait_seconds)
        if not receipts:
            return 0
        now = self._ctx.clock()
        with transaction(self._factory) as session:
            for receipt in receipts:
                session.execute(
                    insert(SmsReceipt)
                    .values(
                        gateway=self._gateway_name,
                        message_id=receipt.message_id,
                        status=receipt.status[:16],
                        received_at=now,
                    )
                    .on_conflict_do_nothing()
                )
        return len(receipts)
