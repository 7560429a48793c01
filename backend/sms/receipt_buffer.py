"""The delivery reports a carrier's connection has received and the sender not yet taken."""

from __future__ import annotations

from collections import deque

from backend.sms.port import DeliveryReceipt

# A process that never takes them (the desk, binding for sign-in codes) keeps only the latest.
MAX_KEPT_RECEIPTS = 10_000


class ReceiptBuffer:
    def __init__(self, limit: int = MAX_KEPT_RECEIPTS) -> None:
        self._kept: deque[DeliveryReceipt] = deque(maxlen=limit)

    def add(self, receipt: DeliveryReceipt) -> None:
        self._kept.append(receipt)

    def take(self) -> list[DeliveryReceipt]:
        """Every report kept, once."""
        taken = list(self._kept)
        self._kept.clear()
        return taken
