"""The forecast recovers a known weekly pattern and a holiday pattern from call history.

History (line 114, skill ``fc_bk``): 2026-02-15 .. 2026-03-31, written the way the controller
writes a caller leaving the queue (``SqlQueueRecorder``). Ordinary days follow a weekly
pattern (Monday's 09:00 heavier than the other weekdays', a little on Saturday, nothing on
Sunday); the Spring Festival holidays (02-15 .. 02-23) follow a holiday pattern (10:00 only);
the adjusted working Saturday 02-28 is worked like a Friday. Every count carries a seeded
noise of -1, 0 or +1 call. Calls of another skill share the 09:00 half hours.

Forecast: 2026-04-01 .. 04-07, whose 04-04 .. 04-06 are the Qingming holiday (Saturday,
Sunday, Monday). Stated error: every half hour within one call of the pattern (the noise is
at most one call, so its mean over the reference days is too), and the mean absolute error
over the pattern's busy half hours at most 0.5 call. The holiday days take the holiday
pattern: the Monday holiday has no weekday 09:00 peak.
"""

from __future__ import annotations

import random
import uuid
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from backend.models.agents import Agent
from backend.models.users import Role
from backend.workcalendar import WorkCalendar
from ivr.acd.queue import QueueReport
from ivr.acd.records import SqlQueueRecorder
from reports.summaries import refresh_summaries
from reports.workforce.forecast import HOLIDAY, actual_offered, forecast
from tests.desk_support import login, make_user

BJ = ZoneInfo("Asia/Shanghai")
CALENDAR = WorkCalendar.load()
SKILL, OTHER = "fc_bk", "fc_pol"
HISTORY_FIRST, HISTORY_LAST = date(2026, 2, 15), date(2026, 3, 31)
TARGET_FIRST = date(2026, 4, 1)
WEEKDAY = {18: 6, 19: 4, 28: 5}  # half-hour index: calls (09:00, 09:30, 14:00)
MONDAY = {**WEEKDAY, 18: 9}
SATURDAY = {18: 2}
HOLIDAY_DAY = {20: 3}  # 10:00


def pattern(day: date) -> dict[int, int]:
    if day in CALENDAR.holidays:
        return HOLIDAY_DAY
    if day in CALENDAR.workdays or day.weekday() in (1, 2, 3, 4):
        return WEEKDAY
    return {0: MONDAY, 5: SATURDAY, 6: {}}[day.weekday()]


def _epoch(day: date, half: int, nth: int) -> float:
    at = datetime.combine(day, time.min, tzinfo=BJ) + timedelta(minutes=30 * half, seconds=37 * nth)
    return at.timestamp()


@pytest.fixture(scope="module")
async def history(session_factory: sessionmaker[Session]) -> None:
    with session_factory() as s, s.begin():
        agent = Agent(number="fc01", name="预测", interface="Local/fc01@sim-agent")
        s.add(agent)
        s.flush()
        agent_id = agent.id
    recorder = SqlQueueRecorder(session_factory, wrapup_seconds={SKILL: 15})
    noise = random.Random(25)

    async def calls(day: date, half: int, count: int, skill: str) -> None:
        for nth in range(count):
            queued = _epoch(day, half, nth)
            await recorder.queue_left(
                QueueReport(
                    call_id=f"fc-{uuid.uuid4().hex[:12]}",
                    line="114",
                    caller_number="13800000000",
                    skill=skill,
                    priority=0,
                    queued_at=queued,
                    left_at=queued + 130,
                    status="answered",
                    agent_id=agent_id,
                    answered_at=queued + 10,
                    talk_seconds=120,
                )
            )

    day = HISTORY_FIRST
    while day <= HISTORY_LAST:
        for half, count in pattern(day).items():
            await calls(day, half, count + noise.choice((-1, 0, 1)), SKILL)
        if CALENDAR.is_working_day(day):
            await calls(day, 18, 3, OTHER)
        day += timedelta(days=1)
    with session_factory() as s:
        # As after a late import: the summaries are rebuilt from the history's first day.
        refresh_summaries(s, datetime.combine(HISTORY_FIRST, time.min, tzinfo=BJ))


def test_forecast_recovers_the_weekly_and_holiday_patterns(db: Session, history: None) -> None:
    predicted = forecast(
        db, "114", SKILL, TARGET_FIRST, 7, calendar=CALENDAR, tz_name="Asia/Shanghai"
    )
    assert len(predicted) == 7 * 48
    errors = []
    for half_hour in predicted:
        day, half = half_hour.at.date(), half_hour.at.hour * 2 + half_hour.at.minute // 30
        expected = pattern(day).get(half, 0)
        assert abs(half_hour.calls - expected) <= 1, (half_hour, expected)
        if expected:
            errors.append(abs(half_hour.calls - expected))
        assert half_hour.pattern == (HOLIDAY if day in CALENDAR.holidays else str(day.weekday()))
        assert half_hour.aht == pytest.approx(135)  # 120 s talk + 15 s wrap-up
    assert sum(errors) / len(errors) <= 0.5
    holiday_monday = [h for h in predicted if h.at.date() == date(2026, 4, 6)]
    assert holiday_monday[18].calls == 0 and holiday_monday[20].calls >= 2
    ordinary_tuesday = [h for h in predicted if h.at.date() == date(2026, 4, 7)]
    assert ordinary_tuesday[18].calls >= 5 and ordinary_tuesday[20].calls == 0


def test_the_whole_line_counts_every_skill_and_actuals_are_what_came(
    db: Session, history: None
) -> None:
    line = forecast(db, "114", None, TARGET_FIRST, 1, calendar=CALENDAR, tz_name="Asia/Shanghai")
    skill = forecast(db, "114", SKILL, TARGET_FIRST, 1, calendar=CALENDAR, tz_name="Asia/Shanghai")
    assert line[18].calls == pytest.approx(skill[18].calls + 3)
    came = actual_offered(db, "114", SKILL, date(2026, 3, 30), 1, "Asia/Shanghai")
    expected = {
        datetime(2026, 3, 30, 0, 0) + timedelta(minutes=30 * h): n for h, n in MONDAY.items()
    }
    assert {at for at, n in came.items() if n} <= set(expected)
    assert all(abs(came.get(at, 0) - n) <= 1 for at, n in expected.items())


def test_forecast_page_lays_the_forecast_beside_what_came(
    desk_client: TestClient, session_factory: sessionmaker[Session], history: None
) -> None:
    # Forecast the last history week (from the five weeks before it) and compare.
    login(desk_client, make_user(session_factory, Role.MANAGER))
    page = desk_client.get(f"/reports/forecast?first=2026-03-23&days=7&line=114&skill={SKILL}")
    assert page.status_code == 200
    doc = page.text
    assert "每日预测与实际" in doc and "节假日" in doc  # the footnote names the holiday pattern
    with session_factory() as db:
        monday = forecast(db, "114", SKILL, date(2026, 3, 23), 1, calendar=CALENDAR,
                          tz_name="Asia/Shanghai")[18]  # fmt: skip
        came = actual_offered(db, "114", SKILL, date(2026, 3, 23), 1, "Asia/Shanghai")
    row = f'<td>03-23 09:00</td><td>周一</td><td class="n">{round(monday.calls, 1)}</td>'
    assert row + f'<td class="n">{came[datetime(2026, 3, 23, 9, 0)]}</td>' in doc
    assert desk_client.get("/reports/forecast?line=nowhere").status_code == 400
