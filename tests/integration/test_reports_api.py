"""Report pages and downloads through the desk, as a health-commission manager sees them,
and the scheduled editions kept for download.

One day of hand-built traffic on the 114 line (2023-05-08, Beijing time): three calls
queued; one answered after 12 s (talk 90 s), one after 40 s (talk 150 s), one abandoned
after 2 s (a short abandon). SL = 1 answered within 20 s ÷ (3 offered − 1 short) = 50.0 %;
ASA = (12 + 40) / 2 = 26.0 s.
"""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import openpyxl
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from backend.booking.rules import BookingRules
from backend.models.agents import Agent, AgentSkill, AgentStateChange, Skill
from backend.models.calls import CallRecord, Disposition, Line
from backend.models.users import Role
from reports.summaries import refresh_summaries
from reports.tasks import generate_due_reports
from tests.desk_support import login, make_user

BJ = ZoneInfo("Asia/Shanghai")
DAY = "first=2023-05-08&last=2023-05-08&line=114&skill=rpt_api"


@pytest.fixture(scope="module")
def day_of_calls(session_factory: sessionmaker[Session]) -> None:
    with session_factory() as s:
        s.add(Skill(code="rpt_api", name="预约(接口测试)", line="114"))
        agent = Agent(number="r8201", name="丁四", interface="Local/r4@sim", team="rpt丁")
        s.add(agent)
        s.flush()
        s.add(AgentSkill(agent_id=agent.id, skill_code="rpt_api"))
        # Signed in 09:50, on a meal 10:15–10:20 (not staffed), signed out 10:45.
        for hour, minute, state, reason in [
            (9, 50, "ready", ""),
            (10, 15, "not_ready", "meal"),
            (10, 20, "ready", ""),
            (10, 45, "logged_out", ""),
        ]:
            at = datetime(2023, 5, 8, hour, minute, tzinfo=BJ).astimezone(UTC)
            s.add(AgentStateChange(agent_id=agent.id, at=at, state=state, reason=reason))
        for n, (minute, wait, talk) in enumerate([(0, 12, 90), (10, 40, 150), (20, 2, 0)]):
            start = datetime(2023, 5, 8, 10, minute, tzinfo=BJ).astimezone(UTC)
            queued = start + timedelta(seconds=8)
            answered = queued + timedelta(seconds=wait) if talk else None
            s.add(
                CallRecord(
                    call_id=f"rpt-api-{n}",
                    line=Line.APPOINTMENT_114,
                    started_at=start,
                    queued_at=queued,
                    answered_at=answered,
                    wait_seconds=wait,
                    talk_seconds=talk,
                    agent_id=agent.id if talk else None,
                    skill="rpt_api",
                    disposition=Disposition.ANSWERED if talk else Disposition.SHORT_ABANDON,
                )
            )
        s.commit()
        # Other test modules may have left a refresh mark after this day: summarise it.
        refresh_summaries(s, datetime(2023, 5, 8, tzinfo=UTC))


def test_manager_reads_the_service_page_with_chart_and_formula(
    desk_client: TestClient, session_factory: sessionmaker[Session], day_of_calls: None
) -> None:
    login(desk_client, make_user(session_factory, Role.MANAGER))
    page = desk_client.get(f"/reports/service?{DAY}")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html; charset=utf-8")
    html = page.text
    assert "<svg" in html and "服务水平 = T秒内接听数 ÷（进入队列数 − 短时放弃数）" in html
    assert "<td>50.0%</td>" in html and "<td>26.0</td>" in html
    assert "format=xlsx" in html


def test_downloads_carry_the_same_figures(
    desk_client: TestClient, session_factory: sessionmaker[Session], day_of_calls: None
) -> None:
    login(desk_client, make_user(session_factory, Role.SUPERVISOR))
    csv_reply = desk_client.get(f"/reports/service?{DAY}&format=csv")
    assert csv_reply.headers["content-type"].startswith("text/csv")
    assert "attachment" in csv_reply.headers["content-disposition"]
    csv_text = csv_reply.content.decode("utf-8-sig")
    assert "合计,3,3,2,1,50.0%,26.0" in csv_text
    xlsx = desk_client.get(f"/reports/service?{DAY}&format=xlsx")
    sheet = openpyxl.load_workbook(io.BytesIO(xlsx.content))["总体指标"]
    assert next(iter(sheet.iter_rows(min_row=4, values_only=True)))[:6] == (
        "合计",
        3,
        3,
        2,
        1,
        "50.0%",
    )
    pdf = desk_client.get(f"/reports/agents?{DAY}&format=pdf")
    assert pdf.content.startswith(b"%PDF")


def test_agents_may_not_read_reports_and_bad_ranges_are_refused(
    desk_client: TestClient, session_factory: sessionmaker[Session]
) -> None:
    login(desk_client, make_user(session_factory, Role.MANAGER))
    bad = desk_client.get("/reports/service?first=2023-05-09&last=2023-05-08")
    assert bad.status_code == 400 and bad.json()["error"] == "bad-report-filter"
    login(desk_client, make_user(session_factory, Role.AGENT))
    assert desk_client.get(f"/reports/service?{DAY}").status_code == 403


def test_staffing_page_sets_erlang_beside_actual_staff(
    desk_client: TestClient, session_factory: sessionmaker[Session], day_of_calls: None
) -> None:
    login(desk_client, make_user(session_factory, Role.MANAGER))
    page = desk_client.get("/reports/staffing?day=2023-05-08&line=114")
    assert page.status_code == 200
    assert "Erlang C所需" in page.text
    # 10:00–10:30: 3 queued, AHT (90 + 150) / 2 = 120 s, load 3 / 1800 × 120 = 0.2 Erl.
    # Erlang C, 90 % in 20 s: 1 agent gives 1 − 0.2·e^(−0.8·20/120) = 82.5 %, 2 give 98.7 %.
    # Patience 54 s / 1 abandon = 54 s: Erlang A with 1 agent reaches 84.6 %, so also 2.
    # Staffed 10:00–10:15 and 10:20–10:30: 25 of 30 minutes = 0.8 agents on average.
    cells = '<td class="n">'
    expected_row = (
        f"<td>10:00</td>{cells}3</td><td>120.0</td>{cells}0.2</td>{cells}2</td>{cells}2</td>"
        f"{cells}0.8</td>"
    )
    assert expected_row in page.text


def test_scheduled_editions_are_kept_for_download(
    desk_client: TestClient, session_factory: sessionmaker[Session], day_of_calls: None
) -> None:
    with session_factory() as s:
        rules = BookingRules(timezone="Asia/Shanghai")
        made = generate_due_reports(s, date(2023, 6, 1), rules)
        again = generate_due_reports(s, date(2023, 6, 1), rules)
        archive_id = s.execute(
            text(
                "SELECT id FROM report_archives WHERE kind = 'service_monthly' AND fmt = 'xlsx' "
                "AND period_start = :start"
            ),
            {"start": datetime(2023, 5, 1, tzinfo=BJ)},
        ).scalar_one()
    # May's service, work-order and confirmation-sheet editions, and (caught up from Monday
    # 29 May) the last week's work orders: PDF + XLSX each.
    assert len(made) == 8 and again == []
    login(desk_client, make_user(session_factory, Role.MANAGER))
    assert "2023-05-01" in desk_client.get("/reports/archive").text
    book = openpyxl.load_workbook(
        io.BytesIO(desk_client.get(f"/reports/archive/{archive_id}").content)
    )
    rows = list(book["总体指标"].iter_rows(min_row=4, values_only=True))
    assert rows[0][1] >= 3  # May's inbound calls include the day above


def test_dates_outside_the_reports_range_are_refused_not_crashing(
    desk_client: TestClient, session_factory: sessionmaker[Session]
) -> None:
    login(desk_client, make_user(session_factory, Role.SUPERVISOR))
    for url in ("/reports/workorders?day=9999-12-31", "/reports/service?last=0001-01-01"):
        response = desk_client.get(url)
        assert response.status_code == 422, (url, response.status_code)
