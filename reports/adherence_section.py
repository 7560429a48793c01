"""Schedule adherence in the agent report: per agent and per team over the report's period.

The period's shifts (published rosters) are measured against the agents' state history up to
now (``backend.adherence``); a shift running now counts only its part so far. Columns are
hours of scheduled time, of it signed in and ready, the two rates, lateness and absences.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.orm import Session

from backend.adherence.load import adherence
from backend.adherence.measure import LATE_GRACE, Totals
from reports.document import Cell, Section, Table, hours, pct
from reports.periods import ReportFilter

AGENT_TABLE, TEAM_TABLE = "排班遵从（坐席）", "排班遵从（班组）"
MEASURES = ["班次数", "排班(时)", "排班内签入(时)", "排班内就绪(时)", "签入率", "遵从率"]
AGENT_COLUMNS = ["工号", "姓名", "班组", *MEASURES, "迟到次数", "迟到(分)", "缺勤次数"]
TEAM_COLUMNS = ["班组", "坐席数", *MEASURES, "迟到次数", "缺勤次数"]


def _measures(t: Totals) -> list[Cell]:
    return [
        t.shifts, hours(t.scheduled), hours(t.signed_in), hours(t.ready),
        pct(t.sign_in_rate), pct(t.adherence),
    ]  # fmt: skip


def adherence_section(session: Session, f: ReportFilter, now: datetime | None = None) -> Section:
    start, end = f.utc_range()
    found = adherence(
        session, start, end, now or datetime.now(UTC), team=f.team, agent_id=f.agent_id
    )
    agent_rows: list[list[Cell]] = []
    for agent_id, t in sorted(found.by_agent.items(), key=lambda i: found.agents[i[0]].number):
        who = found.agents[agent_id]
        agent_rows.append(
            [who.number, who.name, who.team, *_measures(t), t.late,
             f"{t.late_seconds / 60:.1f}", t.absent]
        )  # fmt: skip
    team_rows: list[list[Cell]] = []
    for team, t in sorted(found.by_team.items()):
        members = {a for a in found.by_agent if found.agents[a].team == team}
        team_rows.append([team or "（未分班组）", len(members), *_measures(t), t.late, t.absent])
    return Section(
        "排班遵从",
        tables=[
            Table(AGENT_TABLE, AGENT_COLUMNS, agent_rows),
            Table(TEAM_TABLE, TEAM_COLUMNS, team_rows),
        ],
        notes=[
            "排班 = 已发布排班表中的班次（进行中的班次只计已过去的部分）；签入 = 非签出状态；"
            "就绪 = 签入且未示忙（空闲、振铃、通话、保持、话后）。",
            "遵从率 = 排班内就绪时长 ÷ 排班时长；签入率 = 排班内签入时长 ÷ 排班时长。",
            f"班次开始{int(LATE_GRACE.total_seconds() // 60)}分钟后才签入为迟到，"
            "班次内始终未签入为缺勤。",
        ],
    )
