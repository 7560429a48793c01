"""KPIs computed in PostgreSQL over a hand-built day of calls, by both read paths.

The day (Beijing time, 2025-03-10, line 114, queue ``rpt_bk`` with T = 20 s and short
abandons under 5 s):

====  ======  =========  ====  ==================  =====  =========================
call  start   direction  wait  outcome             agent  handle (talk+hold+wrap-up)
====  ======  =========  ====  ==================  =====  =========================
c1    09:00   in          8    answered, sat 5     A1     120+10+20 = 150
c2    09:05   in         30    answered, transfer  A2     200+0+10  = 210, sat 3
c3    09:10   in          3    short abandon       —
c4    09:20   in         45    abandoned, NO rec.  —
c5    09:30   in         60    left for callback   —
c6    10:00   out         —    callback of c5      A1     90+0+15   = 105
c7    10:15   in          —    IVR self-service    —
c8    10:20   in          —    hung up in IVR      —
c9    23:58   in         15    answered, sat 4     A2     300 (ends after midnight)
c10   00:30+1 in         20    answered            A1     60 (next day, night shift)
h1    14:00   in         10    hotline, answered   A2     100 (other line)
====  ======  =========  ====  ==================  =====  =========================
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.orm import Session

from backend.models.agents import Agent, AgentStateChange, Skill
from backend.models.calls import CallRecord, Direction, Disposition, Line, Recording
from backend.models.calls import RecordingStatus as RS
from backend.models.reporting import ReportQueueSetting
from reports import kpi
from reports.agent_report import build_agent_report
from reports.periods import Grain, GroupBy, ReportFilter
from reports.query import Source, call_totals, state_seconds
from reports.recording_report import build_recording_report
from reports.service_report import build_service_report
from reports.summaries import refresh_summaries

BJ = ZoneInfo("Asia/Shanghai")
SKILL = "rpt_bk"
DAY = date(2025, 3, 10)


def local(day: int, hour: int, minute: int, second: int = 0) -> datetime:
    return datetime(2025, 3, day, hour, minute, second, tzinfo=BJ).astimezone(UTC)


@pytest.fixture(scope="module")
def agents(session_factory) -> dict[str, int]:  # type: ignore[no-untyped-def]
    with session_factory() as s:
        s.add(Skill(code=SKILL, name="预约(报表测试)", line="114", sl_threshold_seconds=20))
        s.add(Skill(code="rpt_pol", name="政策(报表测试)", line="hotline"))
        a1 = Agent(number="r8001", name="甲一", interface="Local/r1@sim", team="rpt甲")
        a2 = Agent(number="r8002", name="乙二", interface="Local/r2@sim", team="rpt乙")
        s.add_all([a1, a2])
        s.flush()
        ids = {"A1": a1.id, "A2": a2.id}
        _add_calls(s, ids)
        _add_states(s, ids)
        s.commit()
        return ids


def _call(
    s: Session,
    call_id: str,
    start: datetime,
    *,
    agent: int | None = None,
    wait: float | None = None,
    answered: bool = False,
    disposition: Disposition,
    talk: float = 0,
    hold: float = 0,
    wrapup: float = 0,
    line: Line = Line.APPOINTMENT_114,
    skill: str = SKILL,
    direction: Direction = Direction.INBOUND,
    satisfaction: int | None = None,
    transferred: bool = False,
    parent: str | None = None,
    recorded: float | None = 30.0,
) -> None:
    queued = start + timedelta(seconds=10) if wait is not None else None
    answered_at = None
    if answered:
        answered_at = (queued + timedelta(seconds=wait or 0)) if queued else start
    rec_id = None
    if recorded is not None:
        rec = Recording(
            call_id=call_id,
            path=f"rpt/{call_id}.wav",
            status=RS.COMPLETE,
            started_at=start,
            duration_seconds=recorded,
            size_bytes=int(recorded * 16000),
            agent_id=agent,
            line=line.value,
        )
        s.add(rec)
        s.flush()
        rec_id = rec.id
    s.add(
        CallRecord(
            call_id=call_id,
            line=line,
            direction=direction,
            started_at=start,
            queued_at=queued,
            answered_at=answered_at,
            ended_at=start + timedelta(seconds=600),
            wait_seconds=wait or 0.0,
            talk_seconds=talk,
            hold_seconds=hold,
            wrapup_seconds=wrapup,
            agent_id=agent,
            skill=skill,
            disposition=disposition,
            satisfaction=satisfaction,
            transferred=transferred,
            parent_call_id=parent,
            recording_id=rec_id,
            intent="booking" if skill == SKILL else "policy",
        )
    )


ANSWERED, OUT = Disposition.ANSWERED, Direction.OUTBOUND
# call id, (day, hour, minute) Beijing time, disposition, agent, the rest of the record
CALLS: list[tuple[str, tuple[int, int, int], Disposition, str | None, dict[str, Any]]] = [
    (
        "rpt-c1",
        (10, 9, 0),
        ANSWERED,
        "A1",
        dict(wait=8, talk=120, hold=10, wrapup=20, satisfaction=5, recorded=150),
    ),
    (
        "rpt-c2",
        (10, 9, 5),
        Disposition.TRANSFERRED,
        "A2",
        dict(wait=30, talk=200, wrapup=10, satisfaction=3, transferred=True),
    ),
    ("rpt-c3", (10, 9, 10), Disposition.SHORT_ABANDON, None, dict(wait=3, recorded=5)),
    ("rpt-c4", (10, 9, 20), Disposition.ABANDONED_QUEUE, None, dict(wait=45, recorded=None)),
    ("rpt-c5", (10, 9, 30), Disposition.CALLBACK, None, dict(wait=60)),
    (
        "rpt-c6",
        (10, 10, 0),
        ANSWERED,
        "A1",
        dict(talk=90, wrapup=15, direction=OUT, parent="rpt-c5"),
    ),
    ("rpt-c7", (10, 10, 15), Disposition.SELF_SERVICE, None, {}),
    ("rpt-c8", (10, 10, 20), Disposition.ABANDONED_IVR, None, {}),
    ("rpt-c9", (10, 23, 58), ANSWERED, "A2", dict(wait=15, talk=300, satisfaction=4)),
    ("rpt-c10", (11, 0, 30), ANSWERED, "A1", dict(wait=20, talk=60)),
    (
        "rpt-h1",
        (10, 14, 0),
        ANSWERED,
        "A2",
        dict(wait=10, talk=100, line=Line.HOTLINE, skill="rpt_pol"),
    ),
]


def _add_calls(s: Session, agent_ids: dict[str, int]) -> None:
    for call_id, when, disposition, agent, rest in CALLS:
        agent_id = agent_ids[agent] if agent else None
        _call(
            s,
            call_id,
            local(*when),
            agent=agent_id,
            disposition=disposition,
            answered=agent is not None,
            **rest,
        )


def _add_states(s: Session, a: dict[str, int]) -> None:
    rows = [  # A1: 08:00–12:00 and 13:00–17:00 staffed, a one-hour lunch break between
        (a["A1"], local(10, 8, 0), "ready", ""),
        (a["A1"], local(10, 9, 0, 10), "busy", ""),
        (a["A1"], local(10, 9, 2, 40), "ready", ""),
        (a["A1"], local(10, 12, 0), "not_ready", "lunch"),
        (a["A1"], local(10, 13, 0), "ready", ""),
        (a["A1"], local(10, 17, 0), "logged_out", ""),
        # A2 works the night: ready from 23:00 the day before until 01:00.
        (a["A2"], local(9, 23, 0), "ready", ""),
        (a["A2"], local(10, 1, 0), "logged_out", ""),
    ]
    for agent_id, at, state, reason in rows:
        s.add(AgentStateChange(agent_id=agent_id, at=at, state=state, reason=reason))


def day_filter(**kw: object) -> ReportFilter:
    return ReportFilter(first=DAY, last=DAY, skill=SKILL, **kw)  # type: ignore[arg-type]


def check_day_totals(t: kpi.CallTotals) -> None:
    assert t.inbound == 8  # c1–c5, c7, c8, c9: not the outbound callback, not the next day
    assert t.offered == 6  # c1–c5, c9
    assert (t.answered, t.answered_within_t) == (3, 2)  # c1 (8 s) and c9 (15 s) within 20 s
    assert (t.abandoned, t.short_abandoned, t.abandoned_within_t) == (2, 1, 1)
    assert t.handled == 4  # c1, c2, c9 and the callback c6
    assert (t.callback_made, t.callback_connected, t.ivr_abandoned) == (1, 1, 1)
    assert (t.recorded, t.missing_recording) == (8, 1)  # c4 has no recording
    assert t.recording_seconds == pytest.approx(150 + 30 * 6 + 5)
    sl = kpi.SlFormula
    expected = {  # KPI: (value computed from the totals, value worked out by hand)
        "SL default": (kpi.service_level(t), 2 / (6 - 1)),
        "SL answered": (kpi.service_level(t, sl.ANSWERED), 2 / 3),
        "SL offered": (kpi.service_level(t, sl.OFFERED), 2 / 6),
        "SL2": (kpi.service_level(t, sl.ABANDONS_WITHIN_T_COUNT), (2 + 1) / 6),
        "ASA": (kpi.asa(t), (8 + 30 + 15) / 3),
        "average wait": (kpi.average_wait(t), (8 + 30 + 3 + 45 + 60 + 15) / 6),
        "median wait": (kpi.wait_percentile(t, 0.5), 15),  # waits 3, 8, 15 | 30, 45, 60
        "p90 wait": (kpi.wait_percentile(t, 0.9), 60),
        "AHT": (kpi.aht(t), (150 + 210 + 105 + 300) / 4),
        "abandonment": (kpi.abandonment_rate(t), (2 - 1) / (6 - 1)),
        "short abandons": (kpi.short_abandon_rate(t), 1 / 6),
        "transfers": (kpi.transfer_rate(t), 1 / 3),
        "callbacks": (kpi.callback_rate(t), 1 / 6),
        "IVR self-service": (kpi.ivr_self_service_rate(t), 1 / 8),
        "satisfied": (kpi.satisfaction_rate(t), 2 / 3),
        "mean score": (kpi.average_satisfaction(t), (5 + 3 + 4) / 3),
    }
    for name, (computed, by_hand) in expected.items():
        assert computed == pytest.approx(by_hand), name


@pytest.mark.parametrize("source", [Source.RAW, Source.AUTO])
def test_day_kpis_from_raw_records_and_from_summaries(
    db: Session, agents: dict[str, int], source: Source
) -> None:
    if source is Source.AUTO:
        refresh_summaries(db, local(10, 0, 0), now=local(12, 0, 0))
    totals = call_totals(db, day_filter(), GroupBy.TOTAL, source=source)
    check_day_totals(totals[0])


def test_call_spanning_midnight_counts_on_the_day_it_started(
    db: Session, agents: dict[str, int]
) -> None:
    f = ReportFilter(first=DAY, last=DAY + timedelta(days=1), skill=SKILL, grain=Grain.DAY)
    by_day = call_totals(db, f, GroupBy.PERIOD)
    assert {k.date(): v.inbound for k, v in by_day.items()} == {DAY: 8, date(2025, 3, 11): 1}
    night = call_totals(db, f, GroupBy.NIGHT)
    assert night[True].inbound == 2  # c9 at 23:58 and c10 at 00:30
    assert night[True].answered_within_t == 2  # c10 waited exactly T = 20 s: within
    by_hour = call_totals(db, f, GroupBy.HOUR_OF_DAY)
    assert {h: v.inbound for h, v in by_hour.items() if v.inbound} == {9: 5, 10: 2, 23: 1, 0: 1}


def test_line_filter_keeps_the_hotline_apart(db: Session, agents: dict[str, int]) -> None:
    f = ReportFilter(first=DAY, last=DAY, line="hotline", skill="rpt_pol")
    t = call_totals(db, f, GroupBy.TOTAL)[0]
    assert (t.inbound, t.answered, kpi.asa(t)) == (1, 1, 10.0)


def test_agent_and_team_scopes(db: Session, agents: dict[str, int]) -> None:
    by_agent = call_totals(db, day_filter(), GroupBy.AGENT)
    a1, a2 = by_agent[agents["A1"]], by_agent[agents["A2"]]
    assert (a1.handled, a1.handle_seconds) == (2, 150 + 105)  # c1 and the callback c6
    assert (a2.handled, a2.handle_seconds, a2.transferred) == (2, 210 + 300, 1)
    team = call_totals(db, day_filter(team="rpt乙"), GroupBy.TOTAL)[0]
    assert team.handled == 2
    assert kpi.satisfaction_rate(team) == pytest.approx(1 / 2)  # c2 scored 3, c9 scored 4


@pytest.mark.parametrize("source", [Source.RAW, Source.AUTO])
def test_occupancy_excludes_the_lunch_break(
    db: Session, agents: dict[str, int], source: Source
) -> None:
    f = ReportFilter(first=DAY, last=DAY, agent_id=agents["A1"])
    states = state_seconds(db, f, source=source)
    staffed = sum(v for (_, state, _r), v in states.items() if state != "not_ready")
    assert staffed == pytest.approx(8 * 3600)
    assert states[(agents["A1"], "not_ready", "lunch")] == pytest.approx(3600)
    assert states[(agents["A1"], "busy", "")] == pytest.approx(150)
    handle = call_totals(db, day_filter(agent_id=agents["A1"]), GroupBy.TOTAL)[0].handle_seconds
    assert kpi.occupancy(handle, staffed) == pytest.approx(255 / 28800)


def test_refresh_is_incremental_and_reports_read_the_raw_tail(
    db: Session, agents: dict[str, int]
) -> None:
    refresh_summaries(db, local(10, 0, 0), now=local(12, 0, 0))
    _call(
        db,
        "rpt-late",
        local(11, 0, 45),
        wait=2,
        disposition=Disposition.SHORT_ABANDON,
        skill="rpt_late",
    )
    db.commit()
    f = ReportFilter(first=date(2025, 3, 11), last=date(2025, 3, 11), skill="rpt_late")
    # Before the next refresh the closed hour is stale in the summary...
    assert call_totals(db, f, GroupBy.TOTAL) == {}
    # ...and a refresh from a later "since" still starts no later than the mark it left.
    refresh_summaries(db, local(11, 0, 0), now=local(12, 0, 0))
    assert call_totals(db, f, GroupBy.TOTAL)[0].short_abandoned == 1
    assert call_totals(db, f, GroupBy.TOTAL, source=Source.RAW)[0].short_abandoned == 1


def test_agent_page_ranks_by_calls_handled_with_occupancy(
    db: Session, agents: dict[str, int]
) -> None:
    doc = build_agent_report(db, ReportFilter(first=DAY, last=DAY, team="rpt甲"))
    (row,) = doc.table("坐席绩效").rows
    rank, number, _name, team, handled, aht = row[:6]
    assert (rank, number, team, handled, aht) == (1, "r8001", "rpt甲", 2, "127.5")  # (150+105)/2
    # staffed 8 h; ready 8 h − 150 s busy = 7.96 h; lunch 1 h; occupancy 255 s / 28,800 s
    assert row[11:15] == ["8.0", "8.0", "1.0", "0.9%"]


def test_recording_page_lists_the_call_without_a_recording(
    db: Session, agents: dict[str, int]
) -> None:
    doc = build_recording_report(db, ReportFilter(first=DAY, last=DAY, line="114"))
    (line_row,) = doc.table("录音按线路").rows
    assert line_row[:4] == ["114预约挂号", 9, 8, 1]  # c1–c9 started that day on 114
    missing = doc.table("缺少录音的通话").rows
    assert [r[0] for r in missing] == ["rpt-c4"]
    assert missing[0][1] == "2025-03-10 09:20:00"  # shown in Beijing time


def test_service_page_lists_abandoned_callers_to_call_back(
    db: Session, agents: dict[str, int]
) -> None:
    doc = build_service_report(db, day_filter(line="114"))
    rows = doc.table("放弃来电清单（可回拨）").rows
    # c5 asked for a callback (and got it: c6), c4 gave up after 45 s; c3's 3 s is a short
    # abandon and stays off the list.
    assert [(r[0], r[4], r[5], r[6]) for r in rows] == [
        ("2025-03-10 09:30:00", 60.0, "选择回拨", "是"),
        ("2025-03-10 09:20:00", 45.0, "排队放弃", "否"),
    ]
    assert doc.footnotes[0] == "服务水平 = T秒内接听数 ÷（进入队列数 − 短时放弃数）"


def test_a_queue_can_use_its_own_formula_threshold_and_short_abandon_limit(
    db: Session, agents: dict[str, int]
) -> None:
    db.add(
        ReportQueueSetting(
            line="114",
            skill=SKILL,
            sl_threshold_seconds=10,
            short_abandon_seconds=2,
            sl_formula="answered",
        )
    )
    db.commit()
    try:
        doc = build_service_report(db, day_filter(line="114"), source=Source.RAW)
        total = doc.table("总体指标").rows[0]
        # T = 10 s: only c1 (8 s) is answered within it; c3 waited 3 s ≥ 2 s: a real abandon.
        assert (total[4], total[5], total[10]) == (1, "33.3%", 0)  # 1 of 3 answered
        assert doc.footnotes[0] == "服务水平 = T秒内接听数 ÷ 接听数"
        assert any("等待不足2秒" in note for note in doc.footnotes)
    finally:
        db.query(ReportQueueSetting).filter_by(line="114", skill=SKILL).delete()
        db.commit()


def test_service_page_breaks_down_by_line_and_skill_and_agents_by_team(
    db: Session, agents: dict[str, int]
) -> None:
    f = ReportFilter(first=DAY, last=DAY)
    service = build_service_report(db, f)
    by_skill = {r[0]: r[1:4] for r in service.table("按技能组").rows}
    assert by_skill[SKILL] == [8, 6, 3] and by_skill["rpt_pol"] == [1, 1, 1]
    teams = {r[0]: r[1:] for r in build_agent_report(db, f).table("班组汇总").rows}
    # 乙: c2 (210 s) and c9 (300 s) on 114 plus h1 (100 s) on the hotline; no state history
    assert teams["rpt乙"] == [1, 3, "203.3", "50.0%", "16.9%", 0]  # 610 s of 1 h staffed


@pytest.mark.parametrize("source", [Source.RAW, Source.AUTO])
def test_a_state_running_over_midnight_counts_from_midnight(
    db: Session, agents: dict[str, int], source: Source
) -> None:
    if source is Source.AUTO:
        refresh_summaries(db, local(9, 0, 0), now=local(12, 0, 0))
    states = state_seconds(
        db, ReportFilter(first=DAY, last=DAY, agent_id=agents["A2"]), source=source
    )
    assert states == {(agents["A2"], "ready", ""): 3600.0}  # 00:00–01:00, not from 23:00
