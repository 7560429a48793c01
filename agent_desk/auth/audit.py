"""Writing audit records for desk actions: who, what, on what, from where."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
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


def audit_log(db: Session, *, actor: str = "", action: str = "", limit: int) -> list[AuditRecord]:
    """The newest records first, optionally of one actor and one action."""
    query = select(AuditRecord).order_by(AuditRecord.at.desc(), AuditRecord.id.desc())
    if actor:
        query = query.where(AuditRecord.actor == actor)
    if action:
        query = query.where(AuditRecord.action == action)
    return list(db.scalars(query.limit(limit)))
