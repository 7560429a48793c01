"""Agents, their skills with levels, and the history of their states."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from backend.models.base import Base, utcnow


class Skill(Base):
    __tablename__ = "skills"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)  # "booking", "policy", ...
    name: Mapped[str] = mapped_column(String(64))  # Chinese label shown in pages
    line: Mapped[str] = mapped_column(String(16))  # "114" or "hotline"
    wrapup_seconds: Mapped[int] = mapped_column(Integer, default=15)
    sl_threshold_seconds: Mapped[int] = mapped_column(Integer, default=20)
    overflow_after_seconds: Mapped[int] = mapped_column(Integer, default=60)
    overflow_skill: Mapped[str | None] = mapped_column(String(32), default=None)
    max_wait_seconds: Mapped[int] = mapped_column(Integer, default=600)


class Agent(Base):
    __tablename__ = "agents"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), unique=True)
    number: Mapped[str] = mapped_column(String(16), unique=True)  # 工号, also the extension
    name: Mapped[str] = mapped_column(String(64))
    interface: Mapped[str] = mapped_column(String(128))  # "PJSIP/8001" or "Local/a1@sim-agent"
    team: Mapped[str] = mapped_column(String(64), default="")
    auto_answer: Mapped[bool] = mapped_column(Boolean, default=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    skills: Mapped[list[AgentSkill]] = relationship(
        back_populates="agent", cascade="all, delete-orphan", lazy="selectin"
    )


class AgentSkill(Base):
    __tablename__ = "agent_skills"

    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id"), primary_key=True)
    skill_code: Mapped[str] = mapped_column(ForeignKey("skills.code"), primary_key=True)
    level: Mapped[int] = mapped_column(Integer, default=5)  # 1 (novice) .. 10 (expert)

    agent: Mapped[Agent] = relationship(back_populates="skills")


class AgentStateChange(Base):
    """One row per state change; an interval ends where the agent's next row starts."""

    __tablename__ = "agent_state_changes"
    __table_args__ = (
        Index("ix_agent_state_changes_agent_at", "agent_id", "at"),
        # Stream entry ids are unique within a stream; an agent's events are all in one.
        Index("ux_agent_state_changes_agent_event", "agent_id", "event_id", unique=True),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id"))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    state: Mapped[str] = mapped_column(String(16))  # logged_out, ready, not_ready, ringing...
    reason: Mapped[str] = mapped_column(String(32), default="")
    call_id: Mapped[str] = mapped_column(String(64), default="")
    actor: Mapped[str] = mapped_column(String(64), default="system")
    # The Redis stream entry the row was written from ("1732600000000-0"): a redelivered event
    # is known by it. NULL for rows written before it was kept.
    event_id: Mapped[str | None] = mapped_column(String(32), default=None)
