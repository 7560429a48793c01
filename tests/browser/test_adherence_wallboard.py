"""The wallboard's live adherence in a real browser: on a desk whose ACD clock the test sets,
an agent signs in 12 minutes into the shift and a teammate never comes; at 08:30 the team
leader's wallboard alerts on both (the alert banner and a notice) and shows the team's adherence."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from backend.models.users import Role
from backend.settings import Settings
from tests.adherence_support import at, publish_day_shifts, write_history
from tests.browser.test_desk_browser import log_in
from tests.desk_browser import DeskServer, screenshot, serve_desk
from tests.desk_support import desk_settings, make_user

pytestmark = pytest.mark.browser


@pytest.fixture()
def clocked_desk(
    settings: Settings, session_factory: sessionmaker[Session], redis_namespace: str,
    recordings_root: Path,
) -> Iterator[tuple[DeskServer, dict[str, datetime]]]:  # fmt: skip
    """A desk of its own (own Redis prefix, own ACD clock), so no other test's time moves."""
    own = desk_settings(
        settings, f"{redis_namespace}:adhb{uuid.uuid4().hex[:6]}", recordings_dir=recordings_root
    )
    server = serve_desk(own, session_factory)
    moment = {"now": at(7, 55)}
    server.server.config.app.state.app.clock = lambda: moment["now"].timestamp()
    yield server, moment
    server.stop()


def test_the_wallboard_alerts_on_late_and_absent_agents(
    clocked_desk: tuple[DeskServer, dict[str, datetime]],
    new_page: Any,
    session_factory: sessionmaker[Session],
) -> None:
    server, moment = clocked_desk
    team = f"遵{uuid.uuid4().hex[:4]}"
    late, absent = (make_user(session_factory, Role.AGENT, team=team) for _ in range(2))
    assert late.agent_id and absent.agent_id
    publish_day_shifts(session_factory, [late.agent_id, absent.agent_id])

    desk = new_page()
    log_in(desk, server, late, "/desk")
    moment["now"] = at(8, 12)
    desk.click("#btn-signin")
    desk.wait_for_selector("#agent-state[data-state='not_ready']")
    write_history(server.settings, session_factory)

    moment["now"] = at(8, 30)
    board = new_page()
    log_in(board, server, make_user(session_factory, Role.SUPERVISOR, team=team), "/supervisor")
    # In the wallboard's alert banner: late a warning, absent critical.
    banner = board.locator("#alerts")
    banner.locator(
        f".alert-warning[data-alert^='adherence:{late.agent_id}:']", has_text="迟到 12 分钟"
    ).wait_for()
    banner.locator(
        f".alert-critical[data-alert^='adherence:{absent.agent_id}:']", has_text="缺勤"
    ).wait_for()
    assert "排班提醒" in board.locator("#toast").inner_text()
    # 60 minutes scheduled, 18 signed in, none ready yet.
    cells = board.locator(f"#adherence-teams tr[data-team='{team}'] td").all_inner_texts()
    assert cells[1:6] == ["1:00", "0:18", "0:00", "30.0%", "0.0%"]
    screenshot(board, "adherence-01-wallboard-alerts")
