"""The SMS gateway port: what the platform needs of any gateway, whoever runs it.

One call, one message, synchronous: the caller (a request in the thread pool, later a worker
draining an outbox) decides what a failure means. An adapter raises ``SmsSendFailed`` when
the gateway did not accept the message, never for a message it accepted.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class SmsMessage:
    phone: str  # normalized: 11-digit mobile, or a fixed line with its area code
    text: str
    purpose: str  # "account-code", "patient-code", ...: for the gateway's own records


class SmsSendFailed(Exception):
    """The gateway did not take the message (unreachable, refused, timed out)."""


class SmsGateway(Protocol):
    def send(self, message: SmsMessage) -> None:
        """Hand one message to the gateway; ``SmsSendFailed`` when it is not taken."""
        ...
