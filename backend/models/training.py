"""Training and assessment (培训考核): question banks tied to knowledge articles, quizzes,
who must take them, and every attempt with its score.

Tables (migration ``0710_training``):

- ``training_questions``: a question of the bank about one knowledge article. ``kind`` is
  ``single`` (one right option), ``multiple`` (one or more right options, all must be chosen)
  or ``true_false`` (options 正确/错误). ``options`` is the list of option texts, ``answer`` the
  sorted indexes of the right ones. ``article_version`` is the article's version the question
  was written (or last reviewed) against: once the article has a newer version, or is retired,
  the question needs review (``backend.training.questions.review_state``).
- ``training_quizzes`` and ``training_quiz_questions``: a quiz and its questions in order.
- ``training_assignments``: a quiz assigned to one agent (``agent_id``) or to a team
  (``team``, every agent whose ``agents.team`` it is, now and later); exactly one is set.
- ``training_attempts``: one submitted attempt: the score (0-100), whether it passed, and the
  answers with the questions as they were asked (a later edit of a question leaves history as
  it was). ``attempt_key`` is chosen by the desk when the quiz is opened: submitting the same
  attempt twice keeps one.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from backend.models.base import Base, utcnow


class TrainingQuestion(Base):
    __tablename__ = "training_questions"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("knowledge_articles.id"), index=True)
    article_version: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(16))  # single, multiple, true_false
    prompt: Mapped[str] = mapped_column(Text)
    options: Mapped[list[str]] = mapped_column(JSON)
    answer: Mapped[list[int]] = mapped_column(JSON)
    explanation: Mapped[str] = mapped_column(Text, default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_by: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class TrainingQuiz(Base):
    __tablename__ = "training_quizzes"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    pass_score: Mapped[int] = mapped_column(Integer, default=60)  # percent
    created_by: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class TrainingQuizQuestion(Base):
    __tablename__ = "training_quiz_questions"

    quiz_id: Mapped[int] = mapped_column(ForeignKey("training_quizzes.id"), primary_key=True)
    question_id: Mapped[int] = mapped_column(ForeignKey("training_questions.id"), primary_key=True)
    position: Mapped[int] = mapped_column(Integer)


class TrainingAssignment(Base):
    __tablename__ = "training_assignments"
    __table_args__ = (
        CheckConstraint("(agent_id IS NULL) <> (team IS NULL)", name="one_assignee"),
        Index(
            "ux_training_assignments_quiz_agent",
            "quiz_id",
            "agent_id",
            unique=True,
            postgresql_where=text("agent_id IS NOT NULL"),
        ),
        Index(
            "ux_training_assignments_quiz_team",
            "quiz_id",
            "team",
            unique=True,
            postgresql_where=text("team IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    quiz_id: Mapped[int] = mapped_column(ForeignKey("training_quizzes.id"))
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id"), default=None)
    team: Mapped[str | None] = mapped_column(String(64), default=None)
    due_on: Mapped[date | None] = mapped_column(Date, default=None)
    assigned_by: Mapped[str] = mapped_column(String(64), default="")
    assigned_at: Mapped[datetime] = mapped_column(default=utcnow)


class TrainingAttempt(Base):
    __tablename__ = "training_attempts"
    __table_args__ = (
        Index("ux_training_attempts_agent_key", "agent_id", "attempt_key", unique=True),
        Index("ix_training_attempts_submitted_at", "submitted_at"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    quiz_id: Mapped[int] = mapped_column(ForeignKey("training_quizzes.id"))
    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id"))
    attempt_key: Mapped[str] = mapped_column(String(64))
    submitted_at: Mapped[datetime] = mapped_column(default=utcnow)
    correct: Mapped[int] = mapped_column(Integer)
    total: Mapped[int] = mapped_column(Integer)
    score: Mapped[float] = mapped_column(Float)  # percent, 0-100
    passed: Mapped[bool] = mapped_column(Boolean)
    answers: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
