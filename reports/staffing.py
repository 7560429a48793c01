"""Staffing: per half hour of one day, the agents Erlang C and Erlang A say meet the
service-level target for the offered load, beside the agents actually staffed."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from reports import erlang, kpi
from reports.definitions import queue_definition
from reports.document import Cell, Chart, ReportDocument, Section, Table, pct, secs
from reports.kpi import CallTotals
from reports.periods import LINE_LABELS, GroupBy, ReportFilter
from reports.query import call_totals
from reports.summaries import state_intervals_sql

HALF_HOUR = 1800
DEFAULT_TARGETS = {"114": 0.90, "hotline": 0.80}  # 114's contract asks for > 90 %


def staffed_agents(session: Session, f: ReportFilter) -> dict[datetime, float]:
    """Average agents logged in and not on a break, per local half hour, for the line."""
    start, end = f.utc_range()
    excluded_reasons = ", ".join(f"'{r}'" for r in sorted(kpi.WORK_REASONS))
    agent_where = (
        " AND agent_id IN (SELECT ak.agent_id FROM agent_skills ak "
        "JOIN skills s ON s.code = ak.skill_code WHERE s.line = :line)"
    )
    params: dict[str, Any] = {"since": start, "stop": end, "line": f.line, "tz": f.tz_name}
    rows = session.execute(
        text(
            state_intervals_sql(agent_where)
            + f""" SELECT h AT TIME ZONE :tz,
              sum(extract(epoch FROM LEAST(e, h + interval '30 minutes') - GREATEST(s, h)))
            FROM intervals, generate_series(
              date_bin('30 minutes', s, TIMESTAMPTZ '2000-01-01'), e - interval '1 microsecond',
              interval '30 minutes') AS h
            WHERE e > s AND state <> 'logged_out'
              AND NOT (state = 'not_ready' AND reason NOT IN ({excluded_reasons}))
            GROUP BY 1"""
        ),
        params,
    )
    return {at: float(seconds) / HALF_HOUR for at, seconds in rows}


def build_staffing(
    session: Session,
    day: date,
    line: str,
    *,
    target_level: float | None = None,
    target_seconds: int = kpi.DEFAULT_SL_THRESHOLD_SECONDS,
) -> ReportDocument:
    level = target_level if target_level is not None else DEFAULT_TARGETS.get(line, 0.8)
    f = ReportFilter(first=day, last=day, line=line)
    definition = queue_definition(session, f)
    by_half = call_totals(session, f, GroupBy.HALF_HOUR)
    whole = sum(by_half.values(), CallTotals())
    day_aht = kpi.aht(whole) or 180.0
    patience = kpi.patience_estimate(whole.wait_offered_seconds, whole.abandoned)
    staffed = staffed_agents(session, f)
    rows: list[list[Cell]] = []
    needed_series: list[float] = []
    staffed_series: list[float] = []
    labels: list[str] = []
    for i in range(48):
        at = datetime.combine(day, datetime.min.time()) + timedelta(minutes=30 * i)
        t = by_half.get(at, CallTotals())
        aht = kpi.aht(t) or day_aht
        load = erlang.offered_load(t.offered, HALF_HOUR, aht)
        need_c = erlang.agents_needed_c(load, aht, target_seconds, level)
        need_a: int | str = "—"
        if patience and t.offered:
            need_a = erlang.agents_needed_a(
                t.offered / HALF_HOUR, aht, patience, target_seconds, level
            )
        actual = staffed.get(at, 0.0)
        labels.append(f"{at:%H:%M}")
        needed_series.append(float(need_c))
        staffed_series.append(actual)
        rows.append(
            [
                f"{at:%H:%M}",
                t.offered,
                secs(aht if t.handled else None),
                round(load, 2),
                need_c,
                need_a,
                round(actual, 1),
                pct(kpi.service_level(t, definition.formula)),
            ]
        )
    return ReportDocument(
        "排班测算（Erlang C / Erlang A）",
        f"{day.isoformat()}，{LINE_LABELS.get(line, line)}，目标：{target_seconds}秒内接听{level:.0%}",
        sections=[
            Section(
                "每半小时所需与实际在岗坐席",
                tables=[
                    Table(
                        "排班测算",
                        [
                            "时段",
                            "进入队列",
                            "平均处理时长(秒)",
                            "话务量(Erl)",
                            "Erlang C所需",
                            "Erlang A所需",
                            "实际在岗(平均)",
                            "实际服务水平",
                        ],
                        rows,
                    )
                ],
                charts=[
                    Chart(
                        "所需与实际坐席",
                        labels,
                        {"Erlang C所需": needed_series, "实际在岗": staffed_series},
                        kind="line",
                    )
                ],
            )
        ],
        footnotes=[
            *definition.footnotes([]),
            "话务量 = 半小时进入队列数 ÷ 1800秒 × 平均处理时长（该半小时无处理通话时用全天平均）。",
            "Erlang C 假设来电者不放弃；Erlang A 按放弃估计耐心（队列等待总时长 ÷ 放弃数）。",
            "实际在岗 = 签入且非示忙的坐席时长 ÷ 1800秒（具备该线路技能的坐席）。",
            "所需坐席未计缺勤与休息等折损（shrinkage）。",
            kpi.FOOTNOTES["time"],
        ],
    )
