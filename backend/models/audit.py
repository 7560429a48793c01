"""Audit trail: every state change a person makes — who, when, what, from where.

The records form hash chains (migration 0500_security, backend/audit/chain.py). The chain
columns are written by the database at commit, never by the application: code adds a record
with its content only, and the application roles may not change a record once written.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, CheckConstraint, Index, SmallInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from backend.models.base import Base, utcnow


class AuditRecord(Base):
    __tablename__ = "audit_records"
    __table_args__ = (Index("ix_audit_records_actor_at", "actor", "at"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(64))  # username, "system", "hospital:<code>"
    action: Mapped[str] = mapped_column(String(64), index=True)  # e.g. "booking.create"
    target: Mapped[str] = mapped_column(String(128), default="")  # e.g. "booking:123"
    source_ip: Mapped[str] = mapped_column(String(64), default="")
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # Set by the chain trigger at commit: which chain, the position in it, the link to the
    # record before in that chain, and the record's own hash.
    chain_id: Mapped[int | None] = mapped_column(SmallInteger)
    chain_seq: Mapped[int | None] = mapped_column(BigInteger)
    prev_id: Mapped[int | None] = mapped_column(BigInteger)
    prev_hash: Mapped[str | None] = mapped_column(String(64))
    row_hash: Mapped[str | None] = mapped_column(String(64))


class AuditChain(Base):
    """One row per chain: its head (the last record linked; the next one links to it) and its
    anchor left by retention (the first remaining record links to the last purged one)."""

    __tablename__ = "audit_chain"
    __table_args__ = (CheckConstraint("id BETWEEN 1 AND 16", name="heads"),)

    id: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    last_seq: Mapped[int] = mapped_column(BigInteger)
    last_id: Mapped[int | None] = mapped_column(BigInteger)
    last_hash: Mapped[str] = mapped_column(String(64))
    purged_seq: Mapped[int] = mapped_column(BigInteger)
    purged_id: Mapped[int | None] = mapped_column(BigInteger)
    purged_hash: Mapped[str] = mapped_column(String(64))
