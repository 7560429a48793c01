"""Training and assessment on the desk: editors keep the question bank and set quizzes
(``KNOWLEDGE_EDIT``: the question bank is part of the knowledge base); agents take the quizzes
assigned to them or their team and see their history (``DESK``). Scores by agent are in the
agent report (``reports.training_scores``).
"""

# No ``from __future__ import annotations``: FastAPI evaluates these annotations at runtime.

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Path, Query

from agent_desk.agent_status import agent_id_of
from agent_desk.api.training_schemas import (
    AssignIn,
    AttemptIn,
    AttemptOut,
    MyQuizOut,
    PaperOut,
    PaperQuestion,
    QuestionIn,
    QuestionOut,
    QuizIn,
    QuizOut,
)
from agent_desk.api.workorder_schemas import MAX_ID
from agent_desk.deps import DeskUser, KnowledgeEditor, SessionDep
from agent_desk.errors import error_responses
from backend.models.training import TrainingAttempt, TrainingQuestion, TrainingQuiz
from backend.training.attempts import history, submit_attempt
from backend.training.questions import (
    KIND_LABELS,
    BankEntry,
    add_question,
    list_questions,
    retire_question,
    revise_question,
)
from backend.training.quizzes import (
    Assignee,
    assign_quiz,
    assigned_quiz,
    create_quiz,
    questions_to_ask,
    quizzes_for,
)
from backend.training.scoring import BadAnswerSheet

router = APIRouter(
    prefix="/api/training",
    tags=["培训考核"],
    responses=error_responses(400, 401, 403, 404, 409, 422),
)
ItemId = Annotated[int, Path(ge=1, le=MAX_ID)]


def _entry(session: SessionDep, question: TrainingQuestion) -> BankEntry:
    entries = list_questions(session, article_id=question.article_id)
    return next(e for e in entries if e.question.id == question.id)


@router.post("/questions", status_code=201, summary="新增题目（题库，依据一条知识）")
def new_question(body: QuestionIn, session: SessionDep, who: KnowledgeEditor) -> QuestionOut:
    question = add_question(session, body.draft(), who.actor, datetime.now(UTC))
    session.commit()
    return QuestionOut.of(_entry(session, question))


@router.get("/questions", summary="题库（可只看某条知识的题目、或只看待复核的题目）")
def bank(
    session: SessionDep,
    who: KnowledgeEditor,
    article_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    needs_review: bool | None = None,
) -> list[QuestionOut]:
    entries = list_questions(session, article_id=article_id, needs_review=needs_review)
    return [QuestionOut.of(e) for e in entries]


@router.put("/questions/{question_id}", summary="修订题目（原样提交即确认复核无误）")
def revise(
    question_id: ItemId, body: QuestionIn, session: SessionDep, who: KnowledgeEditor
) -> QuestionOut:
    question = revise_question(session, question_id, body.draft(), who.actor, datetime.now(UTC))
    session.commit()
    return QuestionOut.of(_entry(session, question))


@router.post("/questions/{question_id}/retire", summary="停用题目")
def retire(question_id: ItemId, session: SessionDep, who: KnowledgeEditor) -> dict[str, int]:
    retire_question(session, question_id, who.actor, datetime.now(UTC))
    session.commit()
    return {"retired": question_id}


@router.post("/quizzes", status_code=201, summary="组卷")
def new_quiz(body: QuizIn, session: SessionDep, who: KnowledgeEditor) -> QuizOut:
    quiz = create_quiz(session, body.draft(), who.actor, datetime.now(UTC))
    session.commit()
    return QuizOut(
        quiz_id=quiz.id, title=quiz.title, pass_score=quiz.pass_score,
        question_ids=body.question_ids,
    )  # fmt: skip


@router.post("/quizzes/{quiz_id}/assignments", summary="把考试分配给坐席或班组")
def assign(
    quiz_id: ItemId, body: AssignIn, session: SessionDep, who: KnowledgeEditor
) -> dict[str, object]:
    to = Assignee(body.agent_id, body.team)
    assign_quiz(session, quiz_id, to, body.due_on, who.actor, datetime.now(UTC))
    session.commit()
    return {"quiz_id": quiz_id, "agent_id": body.agent_id, "team": body.team}


@router.get("/my/quizzes", summary="分配给我的考试")
def my_quizzes(session: SessionDep, who: DeskUser) -> list[MyQuizOut]:
    agent_id = agent_id_of(who)
    attempts: dict[int, list[float]] = {}
    for attempt, _ in reversed(history(session, agent_id)):
        attempts.setdefault(attempt.quiz_id, []).append(attempt.score)
    return [
        MyQuizOut(
            quiz_id=a.quiz.id,
            title=a.quiz.title,
            pass_score=a.quiz.pass_score,
            due_on=a.due_on,
            attempts=len(attempts.get(a.quiz.id, [])),
            best_score=max(attempts[a.quiz.id]) if a.quiz.id in attempts else None,
            last_score=attempts[a.quiz.id][-1] if a.quiz.id in attempts else None,
        )
        for a in quizzes_for(session, agent_id)
    ]


@router.get("/my/quizzes/{quiz_id}", summary="试卷（不含答案）")
def paper(quiz_id: ItemId, session: SessionDep, who: DeskUser) -> PaperOut:
    quiz = assigned_quiz(session, quiz_id, agent_id_of(who))
    questions = [
        PaperQuestion(
            question_id=q.question_id,
            kind=q.kind,
            kind_label=KIND_LABELS.get(q.kind, q.kind),
            prompt=q.prompt,
            options=q.options,
        )
        for q in questions_to_ask(session, quiz_id)
    ]
    return PaperOut(
        quiz_id=quiz.id, title=quiz.title, pass_score=quiz.pass_score, questions=questions
    )


@router.post("/my/quizzes/{quiz_id}/attempts", summary="交卷并评分")
def take(quiz_id: ItemId, body: AttemptIn, session: SessionDep, who: DeskUser) -> AttemptOut:
    if len(body.chosen()) != len(body.answers):
        raise BadAnswerSheet("同一道题提交了多个答案")
    agent_id = agent_id_of(who)
    attempt = submit_attempt(
        session, quiz_id, agent_id, body.attempt_key, body.chosen(), datetime.now(UTC)
    )
    session.commit()
    quiz = session.get(TrainingQuiz, attempt.quiz_id)
    return _attempt_out(attempt, quiz.title if quiz else "")


@router.get("/my/attempts", summary="我的考试记录")
def my_attempts(session: SessionDep, who: DeskUser) -> list[AttemptOut]:
    return [_attempt_out(a, q.title) for a, q in history(session, agent_id_of(who))]


def _attempt_out(attempt: TrainingAttempt, title: str) -> AttemptOut:
    return AttemptOut(
        attempt_id=attempt.id,
        quiz_id=attempt.quiz_id,
        quiz_title=title,
        submitted_at=attempt.submitted_at,
        correct=attempt.correct,
        total=attempt.total,
        score=attempt.score,
        passed=attempt.passed,
        answers=list(attempt.answers),
    )
