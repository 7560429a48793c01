"""The report pages in a real browser, inside the desk's layout.

A supervisor opens 统计报表 from the desk's navigation, picks "上月" and a skill in the form
and reads the figures the raw call records give (counted here, independently, from the rows);
a figure opens the calls behind it, with the recording the supervisor may play. The demo's
history (the same load as ``make demo``, into a database of its own) gives every report a
chart with something in it.

History: calls of the test's own skill, recorded as the controller records them (the call
lifecycle opens the record, the queue recorder writes what happened in the queue), in last
month, and decoys (the same skill this month and the month before; another skill last month).
"""

from __future__ import annotations

import asyncio
import re
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from backend.demo import DEMO_PASSWORD, DEMO_TOTP_SECRET, seed_demo
from backend.models.calls import CallRecord, Direction, Disposition
from backend.models.users import Role, User
from callcenter.cli.report_commands import load_demo_history
from ivr.acd.queue import QueueReport
from ivr.acd.records import SqlQueueRecorder
from reports.summaries import refresh_summaries
from tests.browser.test_desk_browser import log_in
from tests.db_support import scratch_database
from tests.desk_browser import DeskServer, screenshot, serve_desk
from tests.desk_support import DeskUser, desk_settings, ensure_skill, make_user
from tests.recording_support import recorded_call

pytestmark = pytest.mark.browser
BJ = ZoneInfo("Asia/Shanghai")
DEMO_DAYS = 8


def last_month(today: date) -> tuple[date, date]:
    last = today.replace(day=1) - timedelta(days=1)
    return last.replace(day=1), last


def record_queue_calls(
    factory: sessionmaker[Session], skill: str, agent_id: int, days: list[date], tag: str
) -> list[str]:
    """On each day, calls leaving the queue of ``skill`` as the controller reports them:
    answered after various waits, abandoned (long and short waits), and one callback."""
    recorder = SqlQueueRecorder(factory)
    outcomes = [("answered", 4), ("answered", 18), ("answered", 45), ("abandoned", 30),
                ("abandoned", 2), ("callback", 70), ("answered", 9)]  # fmt: skip
    ids: list[str] = []

    async def record() -> None:
        for day in days:
            start = datetime.combine(day, time(10), tzinfo=BJ).timestamp()
            for nth, (status, wait) in enumerate(outcomes[: 3 + day.day % 5]):
                queued = start + nth * 600
                call_id = f"rp{tag}-{uuid.uuid4().hex[:10]}"
                ids.append(call_id)
                answered = status == "answered"
                await recorder.queue_left(
                    QueueReport(
                        call_id=call_id, line="hotline", caller_number="13912345678",
                        skill=skill, priority=0, queued_at=queued,
                        left_at=queued + wait + (120 if answered else 0), status=status,
                        agent_id=agent_id if answered else None,
                        answered_at=queued + wait if answered else None,
                        talk_seconds=120 if answered else 0,
                    )
                )  # fmt: skip

    # A sync Playwright test holds its thread's event loop: record in another thread.
    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, record()).result()
    return ids


def expected_figures(
    factory: sessionmaker[Session], skill: str, first: date, last: date
) -> dict[str, str]:
    """The figures counted from the raw rows, as the page shows them."""
    start = datetime.combine(first, time.min, tzinfo=BJ).astimezone(UTC)
    end = datetime.combine(last + timedelta(days=1), time.min, tzinfo=BJ).astimezone(UTC)
    with factory() as db:
        rows = db.scalars(
            select(CallRecord).where(
                CallRecord.skill == skill,
                CallRecord.started_at >= start,
                CallRecord.started_at < end,
            )
        ).all()
    inbound = [r for r in rows if r.direction is Direction.INBOUND]
    queued = [r for r in inbound if r.queued_at is not None]
    answered = [r for r in queued if r.answered_at is not None]
    gave_up = (Disposition.ABANDONED_QUEUE, Disposition.SHORT_ABANDON)
    abandoned = [r for r in queued if r.answered_at is None and r.disposition in gave_up]
    asa = sum(r.wait_seconds or 0 for r in answered) / len(answered)
    return {
        "呼入量": str(len(inbound)),
        "进入队列": str(len(queued)),
        "接听": str(len(answered)),
        "放弃": str(len(abandoned)),
        "平均应答速度(秒)": f"{asa:.1f}",
    }


def table_row(page: Any, title: str, row: int = 0) -> dict[str, str]:
    table = page.locator(f"table[data-title='{title}']")
    columns = table.locator("thead th").all_text_contents()
    cells = table.locator("tbody tr").nth(row).locator("td").all_text_contents()
    return dict(zip(columns, cells, strict=True))


def test_supervisor_picks_last_month_and_a_skill_and_sees_the_raw_figures(
    desk_server: DeskServer,
    new_page: Any,
    session_factory: sessionmaker[Session],
    recordings_root: Path,
) -> None:
    today = datetime.now(BJ).date()
    first, last = last_month(today)
    skill = f"rp{uuid.uuid4().hex[:6]}"
    other = f"ro{uuid.uuid4().hex[:6]}"
    ensure_skill(session_factory, skill, line="hotline")
    ensure_skill(session_factory, other, line="hotline")
    team = f"报表{uuid.uuid4().hex[:4]}"
    agent = make_user(session_factory, Role.AGENT, team=team)
    boss = make_user(session_factory, Role.SUPERVISOR, team=team)
    assert agent.agent_id is not None
    month_days = [first + timedelta(days=n) for n in range(0, (last - first).days + 1, 3)]
    ids = record_queue_calls(session_factory, skill, agent.agent_id, month_days, "m")
    record_queue_calls(session_factory, other, agent.agent_id, month_days[:4], "o")
    decoys = [first - timedelta(days=2), last + timedelta(days=1)]
    record_queue_calls(
        session_factory, skill, agent.agent_id, [d for d in decoys if d <= today], "d"
    )
    with session_factory() as db:
        # Part of the month from the summaries, as after an import (the page reads both).
        refresh_summaries(db, datetime.combine(first - timedelta(days=3), time.min, tzinfo=BJ))
    with session_factory() as db:
        answered = db.scalars(
            select(CallRecord.call_id).where(
                CallRecord.call_id.in_(ids), CallRecord.answered_at.is_not(None)
            ).order_by(CallRecord.started_at.desc()).limit(1)
        ).one()  # fmt: skip
    recorded_call(session_factory, desk_server.settings, recordings_root, answered, 1.0)
    expected = expected_figures(session_factory, skill, first, last)
    assert int(expected["接听"]) > 0 and int(expected["放弃"]) > 0

    page = new_page()
    page.set_default_timeout(60_000)  # report pages over a busy test database, a loaded machine
    log_in(page, desk_server, boss, "/supervisor")
    page.click("nav >> text=统计报表")
    page.wait_for_url("**/reports")
    page.click(".report-tabs >> text=话务与服务水平")
    page.wait_for_url("**/reports/service")
    page.select_option("#f-preset", "last_month")  # runs the report at once
    page.wait_for_url(re.compile(r".*preset=last_month.*"))
    assert page.input_value("#f-first") == first.isoformat()
    assert page.input_value("#f-last") == last.isoformat()
    page.select_option("#f-skill", skill)
    page.click("#report-go")
    page.wait_for_url(re.compile(rf".*skill={skill}.*"))
    assert f"{first.isoformat()} 至 {last.isoformat()}" in page.text_content("#report-subtitle")
    overall = table_row(page, "总体指标")
    for label, value in expected.items():
        assert overall[label] == value, label
    headline = page.locator(".headline").text_content() or ""
    assert f"接听{expected['接听']}" in headline.replace(" ", "")
    assert page.locator("figure.chart svg rect.bar").count() > 0
    screenshot(page, "reports-last-month-skill")

    # The figure opens the calls it counts; the supervisor plays the recorded one.
    page.click(
        f"table[data-title='总体指标'] tbody tr >> nth=0 >> a.drill >> text='{expected['接听']}'"
    )
    page.wait_for_url("**/reports/calls?**")
    assert page.text_content("#call-count b") == expected["接听"]
    assert page.locator("#call-list tbody tr").count() == int(expected["接听"])
    player = page.locator(f"#call-list tr[data-call='{answered}'] audio")
    assert player.count() == 1
    player.evaluate("el => el.load()")  # preload="none": nothing is fetched before a play
    for _ in range(100):  # polled: the page's CSP refuses wait_for_function's eval
        if player.evaluate("el => el.readyState") >= 1:
            break
        page.wait_for_timeout(100)
    assert player.evaluate("el => el.duration") == pytest.approx(1.0, abs=0.1)
    screenshot(page, "reports-drill-down-answered")


def test_the_demo_history_fills_every_reports_chart(
    settings: Any, new_page: Any, redis_namespace: str, tmp_path: Path
) -> None:
    with scratch_database(settings, "demo") as scratch:
        with scratch.factory() as db:
            seed_demo(db, scratch.settings)
            db.commit()
        # What `make demo` runs, over a week rather than its 60 days (the same code; a test
        # on a loaded machine), in another thread: Playwright's loop holds this one.
        with ThreadPoolExecutor(1) as pool:
            summary = pool.submit(load_demo_history, scratch.settings, DEMO_DAYS).result()
        assert re.search(r"demo history: \d{3,} calls", summary), summary
        today = datetime.now(BJ).date()
        first, last = today - timedelta(days=DEMO_DAYS - 1), today - timedelta(days=1)
        with scratch.factory() as db:
            boss_id = db.scalars(select(User.id).where(User.username == "supervisor")).one()
        server = serve_desk(
            desk_settings(scratch.settings, redis_namespace, recordings_dir=tmp_path),
            scratch.factory,
        )
        try:
            boss = DeskUser(boss_id, "supervisor", Role.SUPERVISOR, DEMO_PASSWORD, DEMO_TOTP_SECRET)
            page = new_page()
            page.set_default_timeout(60_000)  # as above
            log_in(page, server, boss, "/supervisor")
            page.click("nav >> text=统计报表")
            for tab, shot in (("话务与服务水平", "service"), ("坐席绩效", "agents")):
                page.click(f".report-tabs >> text={tab}")
                page.fill("#f-first", first.isoformat())  # typed dates: a custom range
                page.fill("#f-last", last.isoformat())
                page.click("#report-go")
                page.wait_for_url(re.compile(rf".*first={first.isoformat()}.*"))
                assert page.input_value("#f-preset") == ""
                charts = page.locator("figure.chart svg")
                assert charts.count() > 0
                for nth in range(charts.count()):
                    marks = charts.nth(nth).locator("rect.bar, circle.point")
                    heights = marks.evaluate_all(
                        "els => els.map(e => e.tagName === 'circle' ? 1 : Number(e.getAttribute('height')))"
                    )
                    assert any(h > 0 for h in heights), f"{tab}: chart {nth} is empty"
                screenshot(page, f"reports-demo-{shot}")
        finally:
            server.stop()
