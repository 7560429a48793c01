"""Schedule adherence from real state changes: two agents of a team on the day shift of a
published roster; one signs in late and takes a break through the desk API on a clock the test
moves, the other never comes. The history writer puts the changes in PostgreSQL as the
controller does; the wallboard's live adherence (with its alerts) and the agent report are
checked against figures worked out by hand below."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from backend.adherence.load import adherence
from backend.models.users import Role
from backend.settings import Settings
from reports.agent_report import build_agent_report
from reports.periods import ReportFilter
from tests.adherence_support import DAY, at, publish_day_shifts, write_history
from tests.desk_support import LOCAL, desk_settings, login, make_user


@pytest.fixture()
def desk_app_settings(settings: Settings, redis_namespace: str) -> Settings:
    # A Redis prefix of its own: the state stream then holds this test's changes only.
    return desk_settings(settings, f"{redis_namespace}:adh{uuid.uuid4().hex[:6]}")


def test_adherence_from_desk_state_changes_matches_a_hand_calculation(
    desk_app: FastAPI, desk_app_settings: Settings, session_factory: sessionmaker[Session]
) -> None:
    team = f"遵{uuid.uuid4().hex[:4]}"
    late, absent = (make_user(session_factory, Role.AGENT, team=team) for _ in range(2))
    assert late.agent_id and absent.agent_id
    publish_day_shifts(session_factory, [late.agent_id, absent.agent_id])
    moment = {"now": at(7, 55)}
    desk_app.state.app.clock = lambda: moment["now"].timestamp()

    def change(desk: TestClient, hh: int, mm: int, path: str, **body: str) -> None:
        moment["now"] = at(hh, mm)
        reply = desk.post(f"/api/agent/{path}", json=body or None)
        assert reply.status_code == 200, reply.text

    with TestClient(desk_app, client=LOCAL) as desk, TestClient(desk_app, client=LOCAL) as board:
        login(desk, late)
        login(board, make_user(session_factory, Role.SUPERVISOR, team=team))
        change(desk, 8, 12, "sign-in")  # 12 minutes after the shift started: late
        change(desk, 8, 20, "ready")
        write_history(desk_app_settings, session_factory)

        # 08:30 on the wallboard: 30 minutes scheduled each; the late agent signed in for 18
        # of them and ready for 10; the other is absent (no sign-in 5 minutes after start).
        moment["now"] = at(8, 30)
        live = board.get("/api/supervisor/adherence").json()
        mine = {s["agent_id"]: s for s in live["shifts"] if s["team"] == team}
        seconds = ("scheduled_seconds", "signed_in_seconds", "ready_seconds")
        assert [mine[late.agent_id][k] for k in seconds] == [1800, 1080, 600]
        assert (mine[late.agent_id]["status"], mine[late.agent_id]["late_minutes"]) == ("late", 12)
        assert [mine[absent.agent_id][k] for k in seconds] == [1800, 0, 0]
        assert mine[absent.agent_id]["status"] == "absent"
        alerts = {(a["agent_id"], a["status"]) for a in live["alerts"] if a["team"] == team}
        assert alerts == {(late.agent_id, "late"), (absent.agent_id, "absent")}
        banner = {b["message"]: b["level"] for b in live["banner"] if team in b["message"]}
        assert banner == {
            f"排班提醒：测试agent（{late.agent_number}，{team}）08:00 班次迟到 12 分钟": "warning",
            f"排班提醒：测试agent（{absent.agent_number}，{team}）08:00 班次缺勤（未签入）": "critical",
        }
        (row,) = [t for t in live["teams"] if t["team"] == team]
        assert row["adherence"] == pytest.approx(600 / 3600)

        change(desk, 10, 0, "not-ready", reason="break")
        change(desk, 10, 15, "ready")
        change(desk, 16, 30, "sign-out")
        write_history(desk_app_settings, session_factory)

    # The whole day, 08:00-17:00 = 32,400 s each. Signed in 08:12-16:30 = 29,880 s; ready
    # 08:20-10:00 and 10:15-16:30 = 6,000 + 22,500 = 28,500 s.
    with session_factory() as db:
        whole = adherence(db, at(0, 0), at(0, 0) + timedelta(days=1), datetime.now(UTC), team=team)
        doc = build_agent_report(db, ReportFilter(first=DAY, last=DAY, team=team))
    day = whole.by_agent[late.agent_id]
    assert (day.scheduled, day.signed_in, day.ready, day.late_seconds) == (32400, 29880, 28500, 720)
    assert (whole.by_agent[absent.agent_id].ready, whole.by_agent[absent.agent_id].absent) == (0, 1)
    by_number = {r[0]: r[3:] for r in doc.table("排班遵从（坐席）").rows}
    # 29,880 / 32,400 = 92.2 %; 28,500 / 32,400 = 88.0 %.
    assert by_number[late.agent_number] == [1, "9.0", "8.3", "7.9", "92.2%", "88.0%", 1, "12.0", 0]
    assert by_number[absent.agent_number] == [1, "9.0", "0.0", "0.0", "0.0%", "0.0%", 0, "0.0", 1]
    # The team: 64,800 s scheduled; 29,880 / 64,800 = 46.1 %, 28,500 / 64,800 = 44.0 %.
    assert doc.table("排班遵从（班组）").rows == [
        [team, 2, 2, "18.0", "8.3", "7.9", "46.1%", "44.0%", 1, 1]
    ]
