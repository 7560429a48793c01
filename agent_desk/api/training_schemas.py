"""The training API's request and answer bodies (``agent_desk.api.training``).

Families: ``QuestionIn``/``QuestionOut`` (the bank, answers included: editors only),
``QuizIn``/``QuizOut``, ``AssignIn``; for the agent ``PaperOut`` (a quiz without its answers),
``AttemptIn``/``AttemptOut`` and ``MyQuizOut``.
"""

# No ``from __future__ import annotations``: FastAPI evaluates these annotations at runtime.

from datetime import date, datetime
from typing import Annotated, Any

from pydantic import BaseModel, Field

from agent_desk.api.workorder_schemas import MAX_ID
from backend.training.questions import KIND_LABELS, KINDS, MAX_OPTIONS, BankEntry, QuestionDraft
from backend.training.quizzes import MAX_QUESTIONS, QuizDraft
from backend.workorders.exchange import CleanStr

Id = Annotated[int, Field(ge=1, le=MAX_ID)]
AgentId = Annotated[int, Field(ge=1, le=2**31 - 1)]  # agents.id is an integer column
OptionIndex = Annotated[int, Field(ge=0, le=MAX_OPTIONS - 1)]


class QuestionIn(BaseModel):
    article_id: Id
    kind: CleanStr = Field(description="/".join(KINDS) + "（单选、多选、判断）")
    prompt: CleanStr = Field(min_length=1, max_length=2000)
    options: list[Annotated[CleanStr, Field(max_length=500)]] = Field(
        default_factory=list, max_length=MAX_OPTIONS, description="判断题可不填（正确/错误）"
    )
    answer: list[OptionIndex] = Field(max_length=MAX_OPTIONS, description="正确选项序号，从0开始")
    explanation: CleanStr = Field(default="", max_length=2000)

    def draft(self) -> QuestionDraft:
        return QuestionDraft(**self.model_dump())


class QuestionOut(BaseModel):
    question_id: int
    article_id: int
    article_title: str
    article_version: int = Field(description="题目依据的知识版本")
    kind: str
    kind_label: str
    prompt: str
    options: list[str]
    answer: list[int]
    explanation: str
    needs_review: bool = Field(description="知识在出题后有新版本或已下架：须复核")
    review_reason: str

    @classmethod
    def of(cls, entry: BankEntry) -> "QuestionOut":
        q = entry.question
        return cls(
            question_id=q.id,
            article_id=q.article_id,
            article_title=entry.article_title,
            article_version=q.article_version,
            kind=q.kind,
            kind_label=KIND_LABELS.get(q.kind, q.kind),
            prompt=q.prompt,
            options=list(q.options),
            answer=list(q.answer),
            explanation=q.explanation,
            needs_review=entry.review.needed,
            review_reason=entry.review.reason,
        )


class QuizIn(BaseModel):
    title: CleanStr = Field(min_length=1, max_length=200)
    question_ids: list[Id] = Field(min_length=1, max_length=MAX_QUESTIONS)
    pass_score: int = Field(default=60, ge=0, le=100)

    def draft(self) -> QuizDraft:
        return QuizDraft(**self.model_dump())


class QuizOut(BaseModel):
    quiz_id: int
    title: str
    pass_score: int
    question_ids: list[int]


class AssignIn(BaseModel):
    agent_id: AgentId | None = None
    team: CleanStr | None = Field(default=None, min_length=1, max_length=64)
    due_on: date | None = None


class PaperQuestion(BaseModel):
    question_id: int
    kind: str
    kind_label: str
    prompt: str
    options: list[str]


class PaperOut(BaseModel):
    quiz_id: int
    title: str
    pass_score: int
    questions: list[PaperQuestion]


class AnswerIn(BaseModel):
    question_id: Id
    chosen: list[OptionIndex] = Field(max_length=MAX_OPTIONS)


class AttemptIn(BaseModel):
    attempt_key: str = Field(
        min_length=8, max_length=64, pattern=r"^[0-9A-Za-z_-]+$",
        description="打开试卷时生成（如UUID）；同一编号重复提交只记一次",
    )  # fmt: skip
    answers: list[AnswerIn] = Field(max_length=MAX_QUESTIONS)

    def chosen(self) -> dict[int, list[int]]:
        return {a.question_id: a.chosen for a in self.answers}


class AttemptOut(BaseModel):
    attempt_id: int
    quiz_id: int
    quiz_title: str
    submitted_at: datetime
    correct: int
    total: int
    score: float
    passed: bool
    answers: list[dict[str, Any]]


class MyQuizOut(BaseModel):
    quiz_id: int
    title: str
    pass_score: int
    due_on: date | None
    attempts: int
    best_score: float | None
    last_score: float | None
