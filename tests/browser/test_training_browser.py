"""Training in a real browser: a team leader sets a quiz on a knowledge article (through the
desk API of the leader's signed-in page), the agent takes it on the desk's 培训考核 page and
sees the score, the agent report shows it; revising the article puts its questions up for
review."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from backend.models.users import Role
from tests.browser.test_desk_browser import log_in
from tests.desk_browser import DeskServer, screenshot
from tests.desk_support import make_user

pytestmark = pytest.mark.browser


def _post(page: Any, server: DeskServer, path: str, body: dict[str, Any]) -> dict[str, Any]:
    reply = page.request.post(server.url + path, data=body)
    assert reply.ok, reply.text()
    return dict(reply.json())


def _set_quiz(boss: Any, server: DeskServer, team: str) -> tuple[int, list[int]]:
    article = _post(
        boss, server, "/api/knowledge/articles",
        {"title": f"医保卡补办{uuid.uuid4().hex[:4]}", "body": "先挂失，再持身份证到网点补办。"},
    )["article_id"]  # fmt: skip
    questions = [
        {"kind": "single", "prompt": "社保卡丢失后第一步做什么？",
         "options": ["直接补办", "先挂失", "等待找回"], "answer": [1]},
        {"kind": "multiple", "prompt": "补卡期间可用什么就医？",
         "options": ["医保电子凭证", "身份证", "他人社保卡"], "answer": [0]},
        {"kind": "true_false", "prompt": "补办社保卡需要携带身份证。", "answer": [0]},
    ]  # fmt: skip
    ids = [
        _post(boss, server, "/api/training/questions", {"article_id": article, **q})["question_id"]
        for q in questions
    ]
    quiz = _post(
        boss, server, "/api/training/quizzes", {"title": "社保卡业务", "question_ids": ids}
    )
    _post(boss, server, f"/api/training/quizzes/{quiz['quiz_id']}/assignments", {"team": team})
    return article, ids


def test_agent_takes_a_quiz_its_score_is_reported_and_an_article_edit_flags_questions(
    desk_server: DeskServer, new_page: Any, session_factory: sessionmaker[Session]
) -> None:
    team = f"培{uuid.uuid4().hex[:4]}"
    agent = make_user(session_factory, Role.AGENT, team=team)
    boss_user = make_user(session_factory, Role.SUPERVISOR, team=team)
    boss = new_page()
    log_in(boss, desk_server, boss_user, "/supervisor")
    article, ids = _set_quiz(boss, desk_server, team)

    desk = new_page()
    log_in(desk, desk_server, agent, "/desk")
    desk.click("text=培训考核")
    desk.wait_for_selector("body[data-loaded='1']")
    desk.locator("#my-quizzes tr", has_text="社保卡业务").locator("button[data-open]").click()
    desk.locator("#paper-questions li").nth(2).wait_for()
    # Right, wrong (an extra option chosen on the multiple choice), right: 2 of 3.
    desk.check(f"input[name='q{ids[0]}'][value='1']")
    desk.check(f"input[name='q{ids[1]}'][value='0']")
    desk.check(f"input[name='q{ids[1]}'][value='1']")
    desk.check(f"input[name='q{ids[2]}'][value='0']")
    desk.click("#btn-submit-paper")
    result = desk.locator("#paper-result")
    result.filter(has_text="得分 66.7").wait_for()
    assert "答对 2/3" in result.inner_text() and "通过" in result.inner_text()
    assert desk.locator(f"li[data-question='{ids[1]}']").get_attribute("data-right") == "0"
    desk.locator("#my-quizzes td.best", has_text="66.7").wait_for()
    screenshot(desk, "training-01-quiz-scored")

    boss.goto(f"{desk_server.url}/reports/agents?team={team}")
    row = boss.locator("tr", has_text=agent.agent_number).filter(has_text="社保卡业务")
    assert row.locator("td").all_inner_texts()[3:8] == ["1", "1", "66.7", "66.7", "66.7"]
    screenshot(boss, "training-02-agent-report-scores")

    _post(
        boss, desk_server, f"/api/knowledge/articles/{article}/versions",
        {"title": "医保卡补办", "body": "可在银行网点即时补办。"},
    )  # fmt: skip
    bank = boss.request.get(f"{desk_server.url}/api/training/questions?article_id={article}")
    assert [(q["question_id"], q["needs_review"]) for q in bank.json()] == [(i, True) for i in ids]
    # The team leader sees them on the training page, and confirms one as still right.
    boss.goto(f"{desk_server.url}/desk/training")
    boss.wait_for_selector("body[data-loaded='1']")
    flagged = boss.locator("#review tr[data-question]")
    for question_id in ids:
        row = boss.locator(f"#review tr[data-question='{question_id}'] td.reason")
        assert "已更新至第2版（题目依据第1版）" in row.inner_text()
    screenshot(boss, "training-03-questions-for-review")
    before = flagged.count()
    boss.click(f"#review tr[data-question='{ids[2]}'] button[data-confirm]")
    boss.locator(f"#review tr[data-question='{ids[2]}']").wait_for(state="detached")
    assert flagged.count() == before - 1
