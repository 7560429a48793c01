"""Taking a quiz: an attempt is marked and kept with the answers as they were asked.

The desk chooses an ``attempt_key`` when it opens the quiz; a second submission with the same
key (a double click, a retried request) answers the attempt already kept instead of counting
twice. An agent may sit a quiz again with a new key: every attempt is in the history.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from backend.errors import Conflict
from backend.models.training import TrainingAttempt, TrainingQuiz
from backend.training.quizzes import assigned_quiz, questions_to_ask
from backend.training.scoring import mark


def submit_attempt(
    session: Session,
    quiz_id: int,
    agent_id: int,
    attempt_key: str,
    chosen: Mapping[int, list[int]],
    now: datetime,
) -> TrainingAttempt:
    quiz = assigned_quiz(session, quiz_id, agent_id)
    kept = _kept(session, agent_id, attempt_key)
    if kept is not None:
        return _same_quiz(kept, quiz_id)
    marked = mark(questions_to_ask(session, quiz_id), chosen)
    inserted = session.scalar(
        insert(TrainingAttempt)
        .values(
            quiz_id=quiz.id,
            agent_id=agent_id,
            attempt_key=attempt_key,
            submitted_at=now,
            correct=marked.correct,
            total=marked.total,
            score=marked.score,
            passed=marked.passed(quiz.pass_score),
            answers=marked.details,
        )
        .on_conflict_do_nothing(index_elements=["agent_id", "attempt_key"])
        .returning(TrainingAttempt.id)
    )
    session.flush()
    if inserted is None:  # the same attempt, submitted at the same moment, was kept first
        kept = _kept(session, agent_id, attempt_key)
        assert kept is not None
        return _same_quiz(kept, quiz_id)
    attempt = session.get(TrainingAttempt, inserted)
    assert attempt is not None
    return attempt


def _kept(session: Session, agent_id: int, attempt_key: str) -> TrainingAttempt | None:
    return session.scalar(
        select(TrainingAttempt)
        .where(TrainingAttempt.agent_id == agent_id, TrainingAttempt.attempt_key == attempt_key)
        .execution_options(populate_existing=True)
    )


def _same_quiz(attempt: TrainingAttempt, quiz_id: int) -> TrainingAttempt:
    if attempt.quiz_id != quiz_id:
        raise Conflict("该答卷编号已用于另一场考试", code="attempt-key-reused")
    return attempt


def history(session: Session, agent_id: int) -> list[tuple[TrainingAttempt, TrainingQuiz]]:
    """The agent's attempts, newest first."""
    rows = session.execute(
        select(TrainingAttempt, TrainingQuiz)
        .join(TrainingQuiz, TrainingQuiz.id == TrainingAttempt.quiz_id)
        .where(TrainingAttempt.agent_id == agent_id)
        .order_by(TrainingAttempt.submitted_at.desc(), TrainingAttempt.id.desc())
    )
    return list(rows)
