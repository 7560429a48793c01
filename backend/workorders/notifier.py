"""Telling the responsible people: an interface, so that SMS can be added beside the desk."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class Notification:
    recipients: Sequence[str]  # usernames, or "dept:<department>" for a department's inbox
    kind: str  # "overdue", "dispatched", "supervision", ...
    title: str
    body: str = ""
    order_id: int | None = None


class Notifier(Protocol):
    def notify(self, notification: Notification) -> None: ...


def department_inbox(department: str) -> str:
    return f"dept:{department}"
