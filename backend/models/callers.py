"""Callers the lines treat specially: blocked numbers (harassment, abuse of the line)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from backend.models.base import Base, CreatedAt


class BlockedCaller(CreatedAt, Base):
    __tablename__ = "blocked_callers"

    id: Mapped[int] = mapped_column(primary_key=True)
    caller_hash: Mapped[str] = mapped_column(String(64), index=True)  # keyed hash of the number
    caller_masked: Mapped[str] = mapped_column(String(32), default="")
    line: Mapped[str] = mapped_column(String(16), default="")  # "" = every line
    reason: Mapped[str] = mapped_column(String(200))
    until: Mapped[datetime | None] = mapped_column(default=None)
    created_by: Mapped[str] = mapped_column(String(64))
