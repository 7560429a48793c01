"""Staffing: per half hour of one day, the agents Erlang C and Erlang A say meet the
service-level target for the offered load, beside the agents actually staffed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from backend.lines import LINE_LABELS, line_spec
from backend.localtime import DEFAULT_TIMEZONE
from reports import erlang, kpi
from reports.definitions import queue_definition
from reports.document import Cell, Chart, ReportDocument, Section, Table, pct, secs
from reports.kpi import CallTotals
from reports.periods import GroupBy, ReportFilter
from reports.query import call_totals
from reports.summaries import state_intervals_sql

HALF_HOUR = 1800


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


COLUMNS = [
    "时段",
    "进入队列",
    "平均处理时长(秒)",
    "话务量(Erl)",
    "Erlang C所需",
    "Erlang A所需",
    "实际在岗(平均)",
    "实际服务水平",
]
FOOTNOTES = [
    "话务量 = 半小时进入队列数 ÷ 1800秒 × 平均处理时长（该半小时无处理通话时用全天平均）。",
    "Erlang C 假设来电者不放弃；Erlang A 按放弃估计耐心（队列等待总时长 ÷ 放弃数）。",
    "实际在岗 = 签入且非示忙的坐席时长 ÷ 1800秒（具备该线路技能的坐席）。",
    "所需坐席未计缺勤与休息等折损（shrinkage）。",
    kpi.FOOTNOTES["time"],
]


@dataclass(frozen=True)
class Target:
    """The service level asked for: a share ``level`` answered within ``seconds``."""

    level: float
    seconds: int
    formula: kpi.SlFormula


@dataclass(frozen=True)
class DayFigures:
    """What every half hour falls back on: the day's handle time and callers' patience."""

    aht: float
    patience: float | None


def build_staffing(
    session: Session,
    day: date,
    line: str,
    *,
    target_level: float | None = None,
    target_seconds: int = kpi.DEFAULT_SL_THRESHOLD_SECONDS,
    tz_name: str = DEFAULT_TIMEZONE,
) -> ReportDocument:
    f = ReportFilter(first=day, last=day, line=line, tz_name=tz_name)
    level = target_level if target_level is not None else line_spec(line).service_level
    definition = queue_definition(session, f)
    target = Target(level, target_seconds, definition.formula)
    by_half = call_totals(session, f, GroupBy.HALF_HOUR)
    whole = sum(by_half.values(), CallTotals())
    figures = DayFigures(
        kpi.aht(whole) or 180.0, kpi.patience_estimate(whole.wait_offered_seconds, whole.abandoned)
    )
    staffed = staffed_agents(session, f)
    start = datetime.combine(day, datetime.min.time())
    halves = [start + timedelta(minutes=30 * i) for i in range(48)]
    plan = [
        _half_hour(at, by_half.get(at, CallTotals()), figures, target, staffed.get(at, 0.0))
        for at in halves
    ]
    chart = Chart(
        "所需与实际坐席",
        [f"{h.at:%H:%M}" for h in plan],
        {"Erlang C所需": [float(h.need_c) for h in plan], "实际在岗": [h.staffed for h in plan]},
        kind="line",
    )
    return ReportDocument(
        "排班测算（Erlang C / Erlang A）",
        f"{day.isoformat()}，{LINE_LABELS.get(line, line)}，目标：{target_seconds}秒内接听{level:.0%}",
        sections=[
            Section(
                "每半小时所需与实际在岗坐席",
                tables=[Table("排班测算", COLUMNS, [h.cells() for h in plan])],
                charts=[chart],
            )
        ],
        footnotes=[*definition.footnotes([]), *FOOTNOTES],
    )


@dataclass(frozen=True)
class HalfHour:
    """One row of the plan."""

    at: datetime
    calls: CallTotals
    aht: float
    load: float  # Erlangs
    need_c: int
    need_a: int | str  # "—" without abandons to estimate patience from
    staffed: float
    formula: kpi.SlFormula

    def cells(self) -> list[Cell]:
        t = self.calls
        return [
            f"{self.at:%H:%M}",
            t.offered,
            secs(self.aht if t.handled else None),
            round(self.load, 2),
            self.need_c,
            self.need_a,
            round(self.staffed, 1),
            pct(kpi.service_level(t, self.formula)),
        ]


def _half_hour(
    at: datetime, t: CallTotals, day: DayFigures, target: Target, staffed: float
) -> HalfHour:
    aht = kpi.aht(t) or day.aht
    load = erlang.offered_load(t.offered, HALF_HOUR, aht)
    need_c = erlang.agents_needed_c(load, aht, target.seconds, target.level)
    need_a: int | str = "—"
    if day.patience and t.offered:
        need_a = erlang.agents_needed_a(
            t.offered / HALF_HOUR, aht, day.patience, target.seconds, target.level
        )
    return HalfHour(at, t, aht, load, need_c, need_a, staffed, target.formula)
