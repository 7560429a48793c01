"""Writing audit records for desk actions: who, what, on what, from where."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from backend.db import transaction
from backend.models.audit import AuditRecord


def add_audit(
    session: Session,
    actor: str,
    action: str,
    *,
    target: str = "",
    source_ip: str = "",
    details: dict[str, Any] | None = None,
) -> None:
    session.add(
        AuditRecord(
            actor=actor[:64],
            action=action[:64],
            target=target[:128],
            source_ip=source_ip[:64],
            details=details or {},
        )
    )


def audit_now(
    factory: sessionmaker[Session],
    actor: str,
    action: str,
    *,
    target: str = "",
    source_ip: str = "",
    details: dict[str, Any] | None = None,
) -> None:
    """An audit record in its own transaction: kept even when the request then fails."""
    with transaction(factory) as session:
        add_audit(session, actor, action, target=target, source_ip=source_ip, details=details)
