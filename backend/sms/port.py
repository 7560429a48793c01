"""The SMS gateway port: what the platform needs of any gateway, whoever runs it.

One call, one message, synchronous: the caller (a request in the thread pool, the worker
draining the outbox) decides what a failure means. An adapter raises ``SmsSendFailed`` when
the gateway did not accept the message, never for a message it accepted, and returns the
gateway's id of the message where the gateway gives one (delivery reports name it).

Gateways that report delivery (SMPP, CMPP) also implement ``ReceiptSource``: the sender
collects the reports that arrived on the gateway's connection and stores them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable


@dataclass(frozen=True)
class SmsMessage:
    phone: str  # normalized: 11-digit mobile, or a fixed line with its area code
    text: str
    purpose: str  # "account-code", "patient-code", ...: for the gateway's own records


class SmsSendFailed(Exception):
    """The gateway did not take the message (unreachable, refused, timed out)."""


@dataclass(frozen=True)
class DeliveryReceipt:
    message_id: str  # the id ``send`` returned
    status: str  # the carrier's word: DELIVRD, UNDELIV, EXPIRED, REJECTD, ...


class SmsGateway(Protocol):
    def send(self, message: SmsMessage) -> str | None:
        """Hand one message to the gateway; ``SmsSendFailed`` when it is not taken."""
        ...


@runtime_checkable
class ReceiptSource(Protocol):
    def take_receipts(self, wait_seconds: float = 0.0) -> list[DeliveryReceipt]:
        """The delivery reports received since the last call (waiting up to
        ``wait_seconds`` for the first), each once."""
        ...
