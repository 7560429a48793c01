"""Workforce planning (排班): shift templates, agents' days off, rosters and their shifts.

Tables (migration ``0700_rosters``):

- ``shift_templates``: the shifts a roster is built from. ``code`` (unique), ``name``,
  ``kind`` (``day``, ``night``, ``weekend``, ``holiday``), ``start_time`` (local wall clock,
  Asia/Shanghai), ``minutes`` (length; a night shift runs past midnight), ``active``.
  ``day`` and ``night`` shifts may fall on any date; ``weekend`` only on a Saturday or Sunday
  that is not a working day (调休), ``holiday`` only on a public holiday of the Chinese
  calendar (``backend/workcalendar.py``).
- ``agent_days_off``: ``agent_id``, ``day``, ``reason``: a local date on which the agent is not
  available (leave, training); the solver never schedules the agent then.
- ``rosters``: one plan for a ``line`` and ``skill`` ("" = every skill of the line) from
  ``first_day`` to ``last_day`` (local dates, both included); ``status`` is ``draft`` or
  ``published``; ``rules`` (JSON: rest hours between shifts, days in a row, hours per week,
  service-level target) and ``forecast`` (JSON: per half hour the offered calls and handle
  time it was planned for) keep what the plan was made against, so an edit can be re-scored.
- ``roster_shifts``: **a scheduled shift**: ``agent_id``, ``starts_at`` and ``ends_at``
  (timestamptz, UTC instants), ``template_code`` (the shift template), ``roster_id``.

Who is scheduled when is read through ``backend.workforce.schedule.scheduled_shifts``, which
counts the shifts of published rosters only.
"""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Time,
)
from sqlalchemy.orm import Mapped, mapped_column

from backend.models.base import Base, utcnow


class ShiftTemplate(Base):
    __tablename__ = "shift_templates"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))  # day, night, weekend, holiday
    start_time: Mapped[time] = mapped_column(Time)  # local wall clock
    minutes: Mapped[int] = mapped_column(Integer)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class AgentDayOff(Base):
    __tablename__ = "agent_days_off"

    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id"), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    reason: Mapped[str] = mapped_column(String(64), default="")


class Roster(Base):
    __tablename__ = "rosters"

    id: Mapped[int] = mapped_column(primary_key=True)
    line: Mapped[str] = mapped_column(String(16))
    skill: Mapped[str] = mapped_column(String(32), default="")
    first_day: Mapped[date] = mapped_column(Date)
    last_day: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16), default="draft")  # draft, published
    rules: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    forecast: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    agent_hours: Mapped[float] = mapped_column(Float, default=0.0)
    created_by: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class RosterShift(Base):
    """A scheduled shift: ``agent_id`` works from ``starts_at`` to ``ends_at``."""

    __tablename__ = "roster_shifts"
    __table_args__ = (
        Index("ix_roster_shifts_agent_starts", "agent_id", "starts_at"),
        Index("ix_roster_shifts_starts", "starts_at"),
        Index(
            "ux_roster_shifts_roster_agent_starts",
            "roster_id",
            "agent_id",
            "starts_at",
            unique=True,
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    roster_id: Mapped[int] = mapped_column(ForeignKey("rosters.id", ondelete="CASCADE"))
    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id"))
    template_code: Mapped[str] = mapped_column(ForeignKey("shift_templates.code"))
    starts_at: Mapped[datetime] = mapped_column()
    ends_at: Mapped[datetime] = mapped_column()
