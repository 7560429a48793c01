"""Quizzes and who must take them.

A quiz is a list of questions from the bank and a pass mark. It is assigned to an agent or to
a team: a team's assignment reaches every agent whose team it is, including agents who join
later. Assigning twice is the same assignment (the later due date wins). When an agent opens
a quiz, the questions put up for review since it was made are left out
(``backend.training.questions``): nobody is marked against a superseded article.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import or_, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from backend.audit import Actor, record_audit
from backend.errors import NotFound, Refused
from backend.models.agents import Agent
from backend.models.knowledge import KnowledgeArticle
from backend.models.training import (
    TrainingAssignment,
    TrainingQuestion,
    TrainingQuiz,
    TrainingQuizQuestion,
)
from backend.training.questions import review_state
from backend.training.scoring import Asked

MAX_QUESTIONS = 100


@dataclass(frozen=True)
class QuizDraft:
    title: str
    question_ids: list[int]
    pass_score: int = 60


def create_quiz(session: Session, draft: QuizDraft, editor: Actor, now: datetime) -> TrainingQuiz:
    if not draft.title.strip():
        raise Refused("考试名称不能为空", code="title-required")
    if not 0 <= draft.pass_score <= 100:
        raise Refused("及格分须在0至100之间", code="bad-pass-score")
    ids = draft.question_ids
    if not 1 <= len(ids) <= MAX_QUESTIONS or len(set(ids)) != len(ids):
        raise Refused(f"考试须有1至{MAX_QUESTIONS}道不重复的题目", code="bad-questions")
    rows = session.execute(
        select(TrainingQuestion, KnowledgeArticle)
        .join(KnowledgeArticle, KnowledgeArticle.id == TrainingQuestion.article_id)
        .where(TrainingQuestion.id.in_(ids), TrainingQuestion.active)
    )
    found = {q.id: review_state(q, a) for q, a in rows}
    missing = [i for i in ids if i not in found]
    if missing:
        raise NotFound(f"没有这些题目：{missing}", code="no-such-question")
    stale = [i for i in ids if found[i].needed]
    if stale:
        raise Refused(f"这些题目待复核，复核后才能组卷：{stale}", code="question-needs-review")
    quiz = TrainingQuiz(
        title=draft.title.strip(), pass_score=draft.pass_score,
        created_by=editor.username, created_at=now,
    )  # fmt: skip
    session.add(quiz)
    session.flush()
    session.add_all(
        TrainingQuizQuestion(quiz_id=quiz.id, question_id=qid, position=n)
        for n, qid in enumerate(ids)
    )
    record_audit(
        session, editor, "training.quiz_create", f"training_quiz:{quiz.id}", now,
        {"questions": ids, "pass_score": draft.pass_score},
    )  # fmt: skip
    session.flush()
    return quiz


def get_quiz(session: Session, quiz_id: int) -> TrainingQuiz:
    quiz = session.get(TrainingQuiz, quiz_id)
    if quiz is None:
        raise NotFound(f"没有编号为 {quiz_id} 的考试", code="no-such-quiz")
    return quiz


@dataclass(frozen=True)
class Assignee:
    """Exactly one of them: an agent, or a team."""

    agent_id: int | None = None
    team: str | None = None


def _target(session: Session, to: Assignee) -> tuple[str, int | str]:
    """The assignment's column (``agent_id`` or ``team``) and value, once checked."""
    if (to.agent_id is None) == (to.team is None):
        raise Refused("请指定一名坐席或一个班组", code="bad-assignee")
    if to.agent_id is not None:
        agent = session.get(Agent, to.agent_id)
        if agent is None or not agent.active:
            raise NotFound(f"没有编号为 {to.agent_id} 的在岗坐席", code="no-such-agent")
        return "agent_id", to.agent_id
    team = (to.team or "").strip()
    if not team or not session.scalar(select(Agent.id).where(Agent.team == team).limit(1)):
        raise NotFound(f"班组“{team}”没有坐席", code="no-such-team")
    return "team", team


def assign_quiz(
    session: Session,
    quiz_id: int,
    to: Assignee,
    due_on: date | None,
    editor: Actor,
    now: datetime,
) -> None:
    get_quiz(session, quiz_id)
    column, value = _target(session, to)
    changes = {"due_on": due_on, "assigned_by": editor.username, "assigned_at": now}
    statement = insert(TrainingAssignment).values(quiz_id=quiz_id, **{column: value}, **changes)
    # One partial unique index per kind of assignee: assigning again updates the due date.
    session.execute(
        statement.on_conflict_do_update(
            index_elements=["quiz_id", column],
            index_where=TrainingAssignment.__table__.c[column].is_not(None),
            set_=changes,
        )
    )
    record_audit(
        session, editor, "training.assign", f"training_quiz:{quiz_id}", now, {column: value}
    )
    session.flush()


@dataclass(frozen=True)
class AssignedQuiz:
    quiz: TrainingQuiz
    due_on: date | None


def quizzes_for(session: Session, agent_id: int) -> list[AssignedQuiz]:
    """The quizzes assigned to the agent, directly or through the team; earliest due first."""
    team = session.scalar(select(Agent.team).where(Agent.id == agent_id)) or ""
    rows = session.execute(
        select(TrainingQuiz, TrainingAssignment.due_on)
        .join(TrainingAssignment, TrainingAssignment.quiz_id == TrainingQuiz.id)
        .where(
            or_(
                TrainingAssignment.agent_id == agent_id,
                (TrainingAssignment.team == team) & (team != ""),
            )
        )
    )
    due: dict[int, AssignedQuiz] = {}
    for quiz, due_on in rows:
        seen = due.get(quiz.id)
        if seen is None or (due_on is not None and (seen.due_on is None or due_on < seen.due_on)):
            due[quiz.id] = AssignedQuiz(quiz, due_on)
    return sorted(due.values(), key=lambda a: (a.due_on or date.max, a.quiz.id))


def assigned_quiz(session: Session, quiz_id: int, agent_id: int) -> TrainingQuiz:
    """The quiz, if it is assigned to the agent (else NotFound: others' quizzes are not shown)."""
    for assigned in quizzes_for(session, agent_id):
        if assigned.quiz.id == quiz_id:
            return assigned.quiz
    raise NotFound(f"没有分配给您的编号为 {quiz_id} 的考试", code="no-such-quiz")


def questions_to_ask(session: Session, quiz_id: int) -> list[Asked]:
    """The quiz's questions in order, leaving out retired ones and those up for review."""
    rows = session.execute(
        select(TrainingQuestion, KnowledgeArticle)
        .join(TrainingQuizQuestion, TrainingQuizQuestion.question_id == TrainingQuestion.id)
        .join(KnowledgeArticle, KnowledgeArticle.id == TrainingQuestion.article_id)
        .where(TrainingQuizQuestion.quiz_id == quiz_id, TrainingQuestion.active)
        .order_by(TrainingQuizQuestion.position)
    )
    return [
        Asked(q.id, q.kind, q.prompt, list(q.options), list(q.answer), q.explanation)
        for q, article in rows
        if not review_state(q, article).needed
    ]
