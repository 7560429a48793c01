"""Marking a quiz attempt (pure).

A question scores when the options chosen are exactly its right options: a multiple-choice
question with one right option missed, or one wrong option added, scores nothing (no part
marks, as in the qualification exams agents sit). The score is the percentage of questions
right, to one decimal. Every question asked must be answered, and with options it has:
an incomplete or malformed answer sheet is refused whole, not marked as wrong.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from backend.errors import Refused


@dataclass(frozen=True)
class Asked:
    """A question as it is put to the agent (the answer stays on the server)."""

    question_id: int
    kind: str
    prompt: str
    options: list[str]
    answer: list[int]
    explanation: str = ""


@dataclass(frozen=True)
class Marked:
    correct: int
    total: int
    score: float
    details: list[dict[str, Any]]  # per question: what was asked, chosen, right, whether right

    def passed(self, pass_score: int) -> bool:
        return self.score >= pass_score


class BadAnswerSheet(Refused):
    code = "bad-answer-sheet"


def _choices(question: Asked, chosen: list[int], number: int) -> list[int]:
    picked = sorted(set(chosen))
    if len(picked) != len(chosen) or any(not 0 <= i < len(question.options) for i in picked):
        raise BadAnswerSheet(f"第{number}题的选项不存在或重复")
    if not picked:
        raise BadAnswerSheet(f"第{number}题未作答")
    if question.kind != "multiple" and len(picked) != 1:
        raise BadAnswerSheet(f"第{number}题只能选一个答案")
    return picked


def mark(asked: Sequence[Asked], chosen: Mapping[int, list[int]]) -> Marked:
    """Mark the answer sheet ``chosen`` (question id → chosen option indexes)."""
    if not asked:
        raise Refused("本次考试没有可作答的题目", code="quiz-empty")
    extra = set(chosen) - {q.question_id for q in asked}
    if extra:
        raise BadAnswerSheet(f"答卷含有本次考试之外的题目：{sorted(extra)}")
    details: list[dict[str, Any]] = []
    for number, question in enumerate(asked, start=1):
        if question.question_id not in chosen:
            raise BadAnswerSheet(f"第{number}题未作答")
        picked = _choices(question, list(chosen[question.question_id]), number)
        details.append(
            {
                "question_id": question.question_id,
                "kind": question.kind,
                "prompt": question.prompt,
                "options": question.options,
                "chosen": picked,
                "answer": question.answer,
                "right": picked == question.answer,
                "explanation": question.explanation,
            }
        )
    correct = sum(1 for d in details if d["right"])
    return Marked(correct, len(asked), round(100 * correct / len(asked), 1), details)
