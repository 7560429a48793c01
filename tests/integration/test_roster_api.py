"""The roster API: bad input and a requirement no roster can meet get clear answers, not a
500 or a hang; two identical edits at once both end well; agents without the permission are
kept out.

History: sixty calls at 10:00 on Monday 2026-06-15 (hotline, a skill of the test's own), so
the forecast for Monday 2026-06-22 needs more than the one agent holding the skill.
"""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from backend.audit.records import Actor
from backend.db import transaction
from backend.models.agents import AgentSkill
from backend.models.users import Role
from backend.workcalendar import WorkCalendar
from backend.workforce import rosters
from backend.workforce.rosters import DayEdit, RosterDraft
from backend.workforce.rules import RestRules
from tests.desk_support import ensure_skill, login, make_user
from tests.roster_support import BJ, record_busy_half_hours

MONDAY = date(2026, 6, 22)


def _plan(client: TestClient, **changes: object) -> dict[str, object]:
    body: dict[str, object] = {"line": "hotline", "first_day": MONDAY.isoformat(), "days": 1}
    body.update(changes)
    reply = client.post("/api/rosters", json=body)
    return {"status": reply.status_code, **reply.json()}


def test_plans_refused_with_a_reason(
    desk_client: TestClient, session_factory: sessionmaker[Session]
) -> None:
    skill = f"ra{uuid.uuid4().hex[:6]}"
    ensure_skill(session_factory, skill, line="hotline")
    agent = make_user(session_factory, Role.AGENT, team="排班接口")
    with transaction(session_factory) as db:
        db.add(AgentSkill(agent_id=agent.agent_id, skill_code=skill, level=5))
    record_busy_half_hours(session_factory, "hotline", skill, agent.agent_id, [date(2026, 6, 15)])

    login(desk_client, agent)
    assert _plan(desk_client, skill=skill)["status"] == 403

    login(desk_client, make_user(session_factory, Role.SUPERVISOR, team="排班接口"))
    unknown = _plan(desk_client, line="nowhere")
    assert unknown["status"] == 422 and "未知线路" in str(unknown["message"])
    assert _plan(desk_client, days=40)["status"] == 422
    assert _plan(desk_client, skill="a\x00b")["status"] == 422  # PostgreSQL text holds no NUL
    short = _plan(desk_client, skill=skill)
    assert short["status"] == 422
    assert short["error"] == "no-roster"
    assert "06-22 10:00起的半小时需要" in str(short["message"])
    assert "只有1名能在这时上班" in str(short["message"])


def test_two_identical_edits_at_once_both_end_well(
    session_factory: sessionmaker[Session],
) -> None:
    agent = make_user(session_factory, Role.AGENT, team="排班并发")
    with transaction(session_factory) as db:
        draft = RosterDraft("hotline", "", MONDAY, MONDAY, RestRules(), [], [])
        roster_id = rosters.save_roster(db, draft, Actor("甲"), datetime.now(UTC), BJ).id
    edit = DayEdit(agent.agent_id, MONDAY, "day")

    def apply() -> float:
        with transaction(session_factory) as db:
            roster = rosters.set_day(
                db, roster_id, edit, Actor("甲"), datetime.now(UTC),
                tz=BJ, calendar=WorkCalendar.load(),
            )  # fmt: skip
            return roster.agent_hours

    with ThreadPoolExecutor(2) as pool:
        hours = list(pool.map(lambda _: apply(), range(2)))
    assert hours == [9.0, 9.0]
    with session_factory() as db:
        assert [s.template_code for s in rosters.shifts_of(db, roster_id)] == ["day"]


def test_a_day_off_keeps_the_agent_off_the_roster_until_cleared(
    desk_client: TestClient, session_factory: sessionmaker[Session]
) -> None:
    agent = make_user(session_factory, Role.AGENT, team="排班请假")
    with transaction(session_factory) as db:
        draft = RosterDraft("114", "", MONDAY, MONDAY, RestRules(), [], [])
        roster_id = rosters.save_roster(db, draft, Actor("甲"), datetime.now(UTC), BJ).id
    login(desk_client, make_user(session_factory, Role.SUPERVISOR, team="排班请假"))
    leave = {"agent_id": agent.agent_id, "day": MONDAY.isoformat(), "reason": "年假"}
    assert desk_client.put("/api/days-off", json=leave).status_code == 204
    assert desk_client.put("/api/days-off", json=leave).status_code == 204  # once is kept

    day = {"agent_id": agent.agent_id, "day": MONDAY.isoformat(), "template_code": "day"}
    refused = desk_client.put(f"/api/rosters/{roster_id}/days", json=day)
    assert refused.status_code == 422 and "请假" in refused.json()["message"]
    shown = desk_client.get(f"/api/rosters/{roster_id}").json()
    assert shown["days_off"] == [f"{agent.agent_id}/{MONDAY}"]

    gone = desk_client.delete(f"/api/days-off/{agent.agent_id}/{MONDAY}")
    assert gone.status_code == 204
    placed = desk_client.put(f"/api/rosters/{roster_id}/days", json=day)
    assert placed.status_code == 200 and placed.json()["agent_hours"] == 9


def test_team_leaders_add_change_and_retire_shift_templates(
    desk_client: TestClient, session_factory: sessionmaker[Session]
) -> None:
    login(desk_client, make_user(session_factory, Role.SUPERVISOR, team="排班模板"))
    code = f"e{uuid.uuid4().hex[:6]}"
    early = {"name": "早班", "kind": "day", "start": "06:00", "minutes": 360}
    assert desk_client.put(f"/api/shift-templates/{code}", json=early).status_code == 204
    wrong_kind = desk_client.put(f"/api/shift-templates/{code}", json={**early, "kind": "x"})
    assert wrong_kind.status_code == 422 and "班次类型" in wrong_kind.json()["message"]
    odd_start = desk_client.put(f"/api/shift-templates/{code}", json={**early, "start": "06:10"})
    assert odd_start.status_code == 422 and "半点" in odd_start.json()["message"]
    retired = {**early, "minutes": 420, "active": False}
    assert desk_client.put(f"/api/shift-templates/{code}", json=retired).status_code == 204
    listed = {t["code"]: t for t in desk_client.get("/api/shift-templates").json()}
    assert listed[code] == {"code": code, **retired}
    assert {"day", "night", "weekend", "holiday"} <= set(listed)
    with session_factory() as db:
        assert code not in rosters.active_templates(db)  # offered neither to solver nor edits


def test_one_published_roster_per_line_skill_and_dates(
    desk_client: TestClient, session_factory: sessionmaker[Session]
) -> None:
    skill = f"rp{uuid.uuid4().hex[:6]}"
    with transaction(session_factory) as db:
        draft = RosterDraft("hotline", skill, MONDAY, MONDAY, RestRules(), [], [])
        first, second = (
            rosters.save_roster(db, draft, Actor("甲"), datetime.now(UTC), BJ).id for _ in range(2)
        )
    login(desk_client, make_user(session_factory, Role.SUPERVISOR, team="排班发布"))
    published = desk_client.post(f"/api/rosters/{first}/publish")
    assert published.status_code == 200 and published.json()["status"] == "published"
    clash = desk_client.post(f"/api/rosters/{second}/publish")
    assert clash.status_code == 422 and f"排班表#{first}已发布" in clash.json()["message"]
    assert desk_client.post(f"/api/rosters/{first}/withdraw").json()["status"] == "draft"
    assert desk_client.post(f"/api/rosters/{second}/publish").json()["status"] == "published"
    assert desk_client.get("/api/rosters/999999999").status_code == 404
