"""Training and assessment through the desk API on real PostgreSQL: the question bank's checks,
an article edit putting its questions up for review, a team's quiz taken and marked once, and
the score in the agent report."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from backend.models.users import Role
from reports.agent_report import build_agent_report
from reports.periods import ReportFilter
from tests.desk_support import LOCAL, login, make_user


def _article(editor: TestClient, title: str, body: str) -> int:
    reply = editor.post("/api/knowledge/articles", json={"title": title, "body": body})
    assert reply.status_code == 201, reply.text
    return int(reply.json()["article_id"])


def _question(editor: TestClient, **fields: Any) -> dict[str, Any]:
    reply = editor.post("/api/training/questions", json=fields)
    assert reply.status_code == 201, reply.text
    return dict(reply.json())


def _bank(editor: TestClient, article_id: int) -> list[dict[str, Any]]:
    questions = editor.get("/api/training/questions", params={"article_id": article_id}).json()
    return list(questions)


def test_the_bank_checks_questions_and_an_article_edit_flags_them(
    desk_app: FastAPI, session_factory: sessionmaker[Session]
) -> None:
    with TestClient(desk_app, client=LOCAL) as editor:
        login(editor, make_user(session_factory, Role.SUPERVISOR))
        article = _article(editor, f"门诊起付线{uuid.uuid4().hex[:4]}", "在职职工起付线1800元。")
        single = _question(
            editor, article_id=article, kind="single", prompt="在职职工门诊起付线是多少？",
            options=["1300元", "1800元", "2000元"], answer=[1],
        )  # fmt: skip
        judged = _question(
            editor, article_id=article, kind="true_false", prompt="起付线每年1800元。", answer=[0]
        )
        assert judged["options"] == ["正确", "错误"] and not judged["needs_review"]
        refused = {
            "bad-answer": dict(kind="single", options=["甲", "乙"], answer=[0, 1]),
            "bad-options": dict(kind="multiple", options=["甲", "甲"], answer=[0]),
        }
        for code, fields in refused.items():
            reply = editor.post(
                "/api/training/questions", json={"article_id": article, "prompt": "？", **fields}
            )
            assert (reply.status_code, reply.json()["error"]) == (422, code)
        missing = editor.post(
            "/api/training/questions",
            json={"article_id": 2**62, "kind": "true_false", "prompt": "？", "answer": [0]},
        )
        assert (missing.status_code, missing.json()["error"]) == (404, "no-such-article")

        # The article is revised: both questions are up for review, and cannot go in a quiz.
        edited = editor.post(
            f"/api/knowledge/articles/{article}/versions",
            json={"title": "门诊起付线", "body": "在职职工起付线调整为1500元。"},
        )
        assert edited.status_code == 201
        flagged = {q["question_id"]: q for q in _bank(editor, article)}
        assert all(q["needs_review"] for q in flagged.values())
        assert "第2版" in flagged[single["question_id"]]["review_reason"]
        stale = editor.post(
            "/api/training/quizzes",
            json={"title": "起付线", "question_ids": [single["question_id"]]},
        )
        assert (stale.status_code, stale.json()["error"]) == (422, "question-needs-review")

        # The editor corrects the one question; the other stays flagged.
        fixed = editor.put(
            f"/api/training/questions/{single['question_id']}",
            json={**{k: single[k] for k in ("article_id", "kind", "prompt", "options")},
                  "options": ["1300元", "1500元", "1800元"], "answer": [1]},
        )  # fmt: skip
        assert (fixed.json()["needs_review"], fixed.json()["article_version"]) == (False, 2)
        waiting = editor.get("/api/training/questions", params={"needs_review": True}).json()
        assert judged["question_id"] in {q["question_id"] for q in waiting}
        assert single["question_id"] not in {q["question_id"] for q in waiting}


def test_a_team_quiz_is_marked_once_and_shows_in_the_agent_report(
    desk_app: FastAPI, session_factory: sessionmaker[Session]
) -> None:
    team = f"训{uuid.uuid4().hex[:4]}"
    agent = make_user(session_factory, Role.AGENT, team=team)
    outsider = make_user(session_factory, Role.AGENT, team=f"外{uuid.uuid4().hex[:4]}")
    with (
        TestClient(desk_app, client=LOCAL) as editor,
        TestClient(desk_app, client=LOCAL) as desk,
        TestClient(desk_app, client=LOCAL) as other,
    ):
        login(editor, make_user(session_factory, Role.SUPERVISOR, team=team))
        article = _article(editor, f"异地备案{uuid.uuid4().hex[:4]}", "可在App办理备案。")
        asked = [
            _question(editor, article_id=article, kind="multiple", prompt="可在哪里备案？",
                      options=["国家医保服务平台App", "北京医保公共服务平台", "药店"], answer=[0, 1]),
            _question(editor, article_id=article, kind="true_false", prompt="备案后可直接结算。",
                      answer=[0]),
        ]  # fmt: skip
        ids = [q["question_id"] for q in asked]
        quiz = editor.post("/api/training/quizzes", json={"title": "异地就医", "question_ids": ids})
        quiz_id = quiz.json()["quiz_id"]
        assign = {"team": team, "due_on": "2026-12-31"}
        for _ in range(2):  # assigning twice is one assignment
            reply = editor.post(f"/api/training/quizzes/{quiz_id}/assignments", json=assign)
            assert reply.status_code == 200, reply.text

        login(desk, agent)
        login(other, outsider)
        assert [q["quiz_id"] for q in desk.get("/api/training/my/quizzes").json()] == [quiz_id]
        assert other.get(f"/api/training/my/quizzes/{quiz_id}").status_code == 404
        paper = desk.get(f"/api/training/my/quizzes/{quiz_id}").json()
        assert [q["question_id"] for q in paper["questions"]] == ids
        assert "answer" not in paper["questions"][0]

        url = f"/api/training/my/quizzes/{quiz_id}/attempts"
        half = {
            "attempt_key": uuid.uuid4().hex,
            "answers": [{"question_id": ids[0], "chosen": [0]}],
        }
        unanswered = desk.post(url, json=half)
        assert (unanswered.status_code, unanswered.json()["error"]) == (422, "bad-answer-sheet")
        # One multiple-choice option missed (no part marks), the true/false right: 50 points.
        sheet = {**half, "answers": [*half["answers"], {"question_id": ids[1], "chosen": [0]}]}
        with ThreadPoolExecutor(2) as pool:
            replies = list(pool.map(lambda _: desk.post(url, json=sheet), range(2)))
        assert [r.status_code for r in replies] == [200, 200]
        results = [r.json() for r in replies]
        assert results[0]["attempt_id"] == results[1]["attempt_id"]
        assert (results[0]["score"], results[0]["correct"], results[0]["passed"]) == (
            50.0,
            1,
            False,
        )
        assert len(desk.get("/api/training/my/attempts").json()) == 1

    # The report counts Beijing dates.
    submitted = datetime.fromisoformat(results[0]["submitted_at"])
    today = submitted.astimezone(ZoneInfo("Asia/Shanghai")).date()
    with session_factory() as db:
        f = ReportFilter(first=today, last=today, team=team)
        rows = build_agent_report(db, f).table("培训考核成绩").rows
    assert rows == [
        [agent.agent_number, "测试agent", team, 1, 0, "50.0", "50.0", "50.0", "异地就医"]
    ]
