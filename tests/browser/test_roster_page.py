"""The roster page in a real browser: a team leader generates a roster from the forecast,
takes an agent off a busy half hour and sees the forecast service level drop.

History: sixty calls (hotline, a skill of the test's own) at 10:00 on the two weekdays of the
week before, recorded as the controller records a caller leaving the queue.
"""

from __future__ import annotations

import re
import uuid
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from backend.db import transaction
from backend.models.agents import AgentSkill
from backend.models.users import Role
from tests.browser.test_desk_browser import log_in
from tests.desk_browser import DeskServer, screenshot
from tests.desk_support import ensure_skill, make_user
from tests.roster_support import record_busy_half_hours

pytestmark = pytest.mark.browser
FIRST = date(2026, 6, 8)  # Monday; the week before has no holiday


def _level(page: Any) -> float:
    text = page.text_content("#roster-sl") or ""
    found = re.fullmatch(r"([\d.]+)%", text.strip())
    assert found, text
    return float(found.group(1))


def test_edit_a_shift_and_see_the_service_level_change(
    desk_server: DeskServer, new_page: Any, session_factory: sessionmaker[Session]
) -> None:
    skill = f"rb{uuid.uuid4().hex[:6]}"
    ensure_skill(session_factory, skill, line="hotline")
    agents = [make_user(session_factory, Role.AGENT, team="排班组") for _ in range(4)]
    with transaction(session_factory) as db:
        db.add_all(AgentSkill(agent_id=a.agent_id, skill_code=skill, level=5) for a in agents)
    history = [FIRST - timedelta(days=7), FIRST - timedelta(days=6)]
    record_busy_half_hours(session_factory, "hotline", skill, agents[0].agent_id, history)
    boss = make_user(session_factory, Role.SUPERVISOR, team="排班组")

    page = new_page()
    log_in(page, desk_server, boss, "/supervisor")
    page.click("nav >> text=排班")
    page.wait_for_url("**/rosters")
    page.select_option("#plan-line", "hotline")
    page.fill("#plan-skill", skill)
    page.fill("#plan-first", FIRST.isoformat())
    page.fill("#plan-days", "2")
    page.click("#plan-go")
    page.wait_for_selector("#roster-card:not([hidden])")
    assert page.text_content("#roster-short") == "0"
    before = _level(page)
    assert before >= 80  # the hotline's target, met by the generated roster

    # Take off the first agent working at 10:00 on Monday.
    working = page.locator(f"select[data-day='{FIRST.isoformat()}']").evaluate_all(
        "els => els.filter(e => e.value).map(e => e.dataset.agent)"
    )
    assert working, "the roster schedules somebody on Monday"
    page.select_option(f"select[data-agent='{working[0]}'][data-day='{FIRST.isoformat()}']", "")
    page.wait_for_function("before => document.getElementById('roster-sl').textContent !== before",
                           arg=page.text_content("#roster-sl"))  # fmt: skip
    after = _level(page)
    assert after < before
    assert int(page.text_content("#roster-short") or "0") > 0
    screenshot(page, "roster-edited")
