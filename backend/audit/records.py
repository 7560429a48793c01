"""Audit records the domain services write: who did what, to what, from where.

Written in the caller's session, so that an action and its audit record are kept or dropped
together.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from backend.models.audit import AuditRecord


@dataclass(frozen=True)
class Actor:
    """Who acts, and from where."""

    username: str
    source_ip: str = ""


def record_audit(
    session: Session,
    actor: Actor,
    action: str,
    target: str,
    now: datetime,
    details: dict[str, Any] | None = None,
) -> None:
    session.add(
        AuditRecord(
            at=now,
            actor=actor.username,
            action=action,
            target=target,
            source_ip=actor.source_ip,
            details=details or {},
        )
    )
