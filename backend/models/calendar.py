"""The holiday calendar the administrator enters, one row per year (``backend/holiday_calendar``).

``holiday_years``: ``year``; ``holidays`` (JSON: a list of ``{"name", "first", "last"}``, ISO
dates, both ends included); ``workdays`` (JSON: the weekend days worked, 调休, ISO dates);
``revision`` (1 when entered, +1 on each change: the processes' caches compare the sum);
``entered_by``, ``entered_at``. A year is written whole in one statement, so never half.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from backend.models.base import Base, utcnow


class HolidayYear(Base):
    __tablename__ = "holiday_years"

    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    holidays: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    workdays: Mapped[list[str]] = mapped_column(JSON)
    revision: Mapped[int] = mapped_column(BigInteger, default=1)
    entered_by: Mapped[str] = mapped_column(String(100))
    entered_at: Mapped[datetime] = mapped_column(default=utcnow)
