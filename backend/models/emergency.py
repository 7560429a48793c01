"""Emergency messages a supervisor switches on for a line, a hospital or a queue
(``backend/emergency.py``)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from backend.models.base import Base, utcnow


class EmergencyMessage(Base):
    __tablename__ = "emergency_messages"
    __table_args__ = (Index("ix_emergency_messages_scope_ends", "scope", "target", "ends_at"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    scope: Mapped[str] = mapped_column(String(16))  # line | hospital | queue
    target: Mapped[str] = mapped_column(String(64))  # the line's, hospital's or skill's code
    text: Mapped[str] = mapped_column(Text, default="")  # spoken by TTS when no recording
    recording: Mapped[str] = mapped_column(String(256), default="")  # an Asterisk sound name
    mode: Mapped[str] = mapped_column(String(16))  # continue | end | divert
    divert_skill: Mapped[str] = mapped_column(String(32), default="")
    starts_at: Mapped[datetime] = mapped_column()
    ends_at: Mapped[datetime] = mapped_column()
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    cancelled_at: Mapped[datetime | None] = mapped_column(default=None)
    cancelled_by: Mapped[str] = mapped_column(String(100), default="")
