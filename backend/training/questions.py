"""The question bank: questions about knowledge articles, and which of them need review.

A question is written against the article's version of the moment (``article_version``). When
the article gets a newer version, or is retired, the question may no longer be right: it is
*up for review* until an editor revises it (or confirms it unchanged), which moves it to the
article's newest version. The flag is worked out from the article each time it is read, so no
path that changes an article (the desk, the demo data, an import) can forget to set it.
Questions up for review are not asked in quizzes (``backend.training.quizzes``).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.audit import Actor, record_audit
from backend.errors import NotFound, Refused
from backend.models.knowledge import KnowledgeArticle, KnowledgeVersion
from backend.models.training import TrainingQuestion

KINDS = ("single", "multiple", "true_false")
KIND_LABELS = {"single": "单选题", "multiple": "多选题", "true_false": "判断题"}
TRUE_FALSE_OPTIONS = ["正确", "错误"]
MAX_OPTIONS = 8


@dataclass(frozen=True)
class QuestionDraft:
    article_id: int
    kind: str
    prompt: str
    options: list[str]
    answer: list[int]  # indexes of the right options
    explanation: str = ""


@dataclass(frozen=True)
class Review:
    """Whether a question needs review, and why (one sentence for the editor)."""

    needed: bool
    reason: str = ""


def check_draft(draft: QuestionDraft) -> QuestionDraft:
    """The draft as stored (true/false options filled in, answer sorted), or Refused."""
    if draft.kind not in KINDS:
        raise Refused(f"题型只能是 {'/'.join(KINDS)}", code="bad-question-kind")
    if not draft.prompt.strip():
        raise Refused("题干不能为空", code="prompt-required")
    options = (
        TRUE_FALSE_OPTIONS if draft.kind == "true_false" else [o.strip() for o in draft.options]
    )
    if draft.kind != "true_false":
        if not 2 <= len(options) <= MAX_OPTIONS or not all(options):
            raise Refused(f"选项须为2至{MAX_OPTIONS}个且不能为空", code="bad-options")
        if len(set(options)) != len(options):
            raise Refused("选项不能重复", code="bad-options")
    answer = sorted(set(draft.answer))
    if len(answer) != len(draft.answer) or any(not 0 <= i < len(options) for i in answer):
        raise Refused("答案须为不重复的选项序号（从0开始）", code="bad-answer")
    if draft.kind in ("single", "true_false") and len(answer) != 1:
        raise Refused(f"{KIND_LABELS[draft.kind]}须有且只有一个正确答案", code="bad-answer")
    if draft.kind == "multiple" and not answer:
        raise Refused("多选题至少有一个正确答案", code="bad-answer")
    return QuestionDraft(
        draft.article_id, draft.kind, draft.prompt.strip(), options, answer,
        draft.explanation.strip(),
    )  # fmt: skip


def _article(session: Session, article_id: int) -> KnowledgeArticle:
    article = session.get(KnowledgeArticle, article_id)
    if article is None or article.status != "active":
        raise NotFound(f"没有编号为 {article_id} 的有效知识", code="no-such-article")
    return article


def review_state(question: TrainingQuestion, article: KnowledgeArticle) -> Review:
    if article.status != "active":
        return Review(True, "所依据的知识已下架")
    if article.latest_version > question.article_version:
        return Review(
            True,
            f"所依据的知识已更新至第{article.latest_version}版"
            f"（题目依据第{question.article_version}版）",
        )
    return Review(False)


def add_question(
    session: Session, draft: QuestionDraft, editor: Actor, now: datetime
) -> TrainingQuestion:
    draft = check_draft(draft)
    article = _article(session, draft.article_id)
    question = TrainingQuestion(
        article_id=article.id,
        article_version=article.latest_version,
        kind=draft.kind,
        prompt=draft.prompt,
        options=draft.options,
        answer=draft.answer,
        explanation=draft.explanation,
        active=True,
        created_by=editor.username,
        created_at=now,
        updated_at=now,
    )
    session.add(question)
    session.flush()
    record_audit(
        session, editor, "training.question_add", f"training_question:{question.id}", now,
        {"article_id": article.id, "article_version": article.latest_version},
    )  # fmt: skip
    return question


def get_question(session: Session, question_id: int, *, lock: bool = False) -> TrainingQuestion:
    question = session.get(TrainingQuestion, question_id, with_for_update=lock)
    if question is None or not question.active:
        raise NotFound(f"没有编号为 {question_id} 的题目", code="no-such-question")
    return question


def revise_question(
    session: Session, question_id: int, draft: QuestionDraft, editor: Actor, now: datetime
) -> TrainingQuestion:
    """Replace a question's text and answer; it is then current with the article's newest
    version (the review is done). Sending it unchanged confirms it as still right."""
    draft = check_draft(draft)
    question = get_question(session, question_id, lock=True)
    if draft.article_id != question.article_id:
        raise Refused("题目所属的知识不能更改，请新建题目", code="article-fixed")
    article = _article(session, question.article_id)
    question.kind, question.prompt = draft.kind, draft.prompt
    question.options, question.answer = draft.options, draft.answer
    question.explanation = draft.explanation
    reviewed_from = question.article_version
    question.article_version = article.latest_version
    question.updated_at = now
    record_audit(
        session, editor, "training.question_revise", f"training_question:{question.id}", now,
        {"from_version": reviewed_from, "to_version": article.latest_version},
    )  # fmt: skip
    session.flush()
    return question


def retire_question(session: Session, question_id: int, editor: Actor, now: datetime) -> None:
    question = get_question(session, question_id, lock=True)
    question.active = False
    question.updated_at = now
    record_audit(
        session, editor, "training.question_retire", f"training_question:{question.id}", now, {}
    )
    session.flush()


@dataclass(frozen=True)
class BankEntry:
    question: TrainingQuestion
    article_title: str
    review: Review


def list_questions(
    session: Session, *, article_id: int | None = None, needs_review: bool | None = None
) -> list[BankEntry]:
    """The active questions (of one article), each with its review state."""
    query = (
        select(TrainingQuestion, KnowledgeArticle)
        .join(KnowledgeArticle, KnowledgeArticle.id == TrainingQuestion.article_id)
        .where(TrainingQuestion.active)
        .order_by(TrainingQuestion.id)
    )
    if article_id is not None:
        query = query.where(TrainingQuestion.article_id == article_id)
    rows = session.execute(query).all()
    titles = _titles(session, {a.id for _, a in rows})
    entries = [BankEntry(q, titles.get(a.id, ""), review_state(q, a)) for q, a in rows]
    if needs_review is None:
        return entries
    return [e for e in entries if e.review.needed == needs_review]


def _titles(session: Session, article_ids: Collection[int]) -> dict[int, str]:
    """The newest title of each article."""
    if not article_ids:
        return {}
    rows = session.execute(
        select(KnowledgeVersion.article_id, KnowledgeVersion.title)
        .join(
            KnowledgeArticle,
            (KnowledgeArticle.id == KnowledgeVersion.article_id)
            & (KnowledgeArticle.latest_version == KnowledgeVersion.version),
        )
        .where(KnowledgeVersion.article_id.in_(list(article_ids)))
    )
    return {row.article_id: row.title for row in rows}
