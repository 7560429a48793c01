"""Agents: state times, calls, handle times, bookings, satisfaction, occupancy and ranking."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Hashable
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.orm import Session

from reports import kpi
from reports.adherence_section import adherence_section
from reports.definitions import queue_definition
from reports.document import Cell, Chart, ReportDocument, Section, Table, hours, pct, secs
from reports.kpi import CallTotals
from reports.periods import GroupBy, ReportFilter
from reports.query import Source, call_totals, state_seconds
from reports.training_scores import training_section

COLUMNS = [
    "排名",
    "工号",
    "姓名",
    "班组",
    "处理量",
    "平均处理时长(秒)",
    "平均通话(秒)",
    "平均保持(秒)",
    "平均话后(秒)",
    "转接率",
    "满意率",
    "签入时长(时)",
    "示闲时长(时)",
    "示忙时长(时)",
    "占用率",
    "成功预约",
]


@dataclass(frozen=True)
class AgentTimes:
    staffed: float = 0.0
    ready: float = 0.0
    breaks: float = 0.0


def agent_times(states: dict[tuple[int, str, str], float]) -> dict[int, AgentTimes]:
    acc: dict[int, list[float]] = defaultdict(lambda: [0.0, 0.0, 0.0])
    for (agent_id, state, reason), seconds in states.items():
        if kpi.is_staffed(state, reason):
            acc[agent_id][0] += seconds
        else:
            acc[agent_id][2] += seconds
        if state == "ready":
            acc[agent_id][1] += seconds
    return {a: AgentTimes(*v) for a, v in acc.items()}


def bookings_by_agent(session: Session, f: ReportFilter) -> dict[int, int]:
    start, end = f.utc_range()
    rows = session.execute(
        text(
            "SELECT agent_id, count(*) FROM bookings WHERE booked_at >= :start "
            "AND booked_at < :end AND agent_id IS NOT NULL GROUP BY 1"
        ),
        {"start": start, "end": end},
    )
    return {int(agent_id): int(n) for agent_id, n in rows}


TEAM_COLUMNS = ["班组", "坐席数", "处理量", "平均处理时长(秒)", "满意率", "占用率", "成功预约"]


def _team_rows(
    agent_ids: list[int],
    names: dict[int, tuple[str, str, str]],
    calls: dict[Hashable, CallTotals],
    times: dict[int, AgentTimes],
    booked: dict[int, int],
) -> list[list[Cell]]:
    teams: dict[str, list[int]] = defaultdict(list)
    for agent_id in agent_ids:
        teams[names.get(agent_id, ("", "", ""))[2]].append(agent_id)
    rows: list[list[Cell]] = []
    for team, members in sorted(teams.items()):
        t = sum((calls.get(a, CallTotals()) for a in members), CallTotals())
        staffed = sum(times.get(a, AgentTimes()).staffed for a in members)
        rows.append(
            [
                team or "（未分班组）",
                len(members),
                t.handled,
                secs(kpi.aht(t)),
                pct(kpi.satisfaction_rate(t)),
                pct(kpi.occupancy(t.handle_seconds, staffed)),
                sum(booked.get(a, 0) for a in members),
            ]
        )
    return rows


def build_agent_report(
    session: Session, f: ReportFilter, *, source: Source = Source.AUTO
) -> ReportDocument:
    calls = call_totals(session, f, GroupBy.AGENT, source=source)
    times = agent_times(state_seconds(session, f, source=source))
    booked = bookings_by_agent(session, f)
    ids = sorted({int(k) for k in calls if isinstance(k, int)} | set(times))
    names = {
        row[0]: (row[1], row[2], row[3])
        for row in session.execute(
            text("SELECT id, number, name, team FROM agents WHERE id = ANY(:ids)"), {"ids": ids}
        )
    }
    if f.team is not None:
        ids = [i for i in ids if names.get(i, ("", "", ""))[2] == f.team]
    ranked = sorted(ids, key=lambda i: (-calls.get(i, CallTotals()).handled, i))
    rows: list[list[Cell]] = []
    for rank, agent_id in enumerate(ranked, start=1):
        t = calls.get(agent_id, CallTotals())
        at = times.get(agent_id, AgentTimes())
        number, name, team = names.get(agent_id, (str(agent_id), "", ""))
        rows.append(
            [
                rank,
                number,
                name,
                team,
                t.handled,
                secs(kpi.aht(t)),
                secs(kpi.average_talk(t)),
                secs(kpi.average_hold(t)),
                secs(kpi.average_wrapup(t)),
                pct(kpi.transfer_rate(t)),
                pct(kpi.satisfaction_rate(t)),
                hours(at.staffed),
                hours(at.ready),
                hours(at.breaks),
                pct(kpi.occupancy(t.handle_seconds, at.staffed)),
                booked.get(agent_id, 0),
            ]
        )
    team_rows = _team_rows(ranked, names, calls, times, booked)
    chart = Chart(
        "坐席处理量",
        [str(r[1]) for r in rows[:30]],
        {"处理量": [float(calls.get(i, CallTotals()).handled) for i in ranked[:30]]},
    )
    definition = queue_definition(session, f)
    # An agent's count of calls handled opens the calls (reports.call_list.CallKind.HANDLED).
    performance = Table(
        "坐席绩效", COLUMNS, rows, drill_columns={"处理量": "handled"},
        drill_rows={i: {"agent_id": str(agent_id)} for i, agent_id in enumerate(ranked)},
    )  # fmt: skip
    return ReportDocument(
        "坐席绩效报表",
        f.describe(),
        sections=[
            Section("坐席绩效与排名", tables=[performance], charts=[chart]),
            Section("按班组", tables=[Table("班组汇总", TEAM_COLUMNS, team_rows)]),
            adherence_section(session, f),
            training_section(session, f),
        ],
        footnotes=[
            *definition.footnotes(["time", "aht", "occupancy", "transfer", "satisfaction"]),
            "排名按处理量从高到低；成功预约 = 该坐席在区间内办理成功的预约数。",
        ],
    )
