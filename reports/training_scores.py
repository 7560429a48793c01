"""Agents' quiz scores for the agent report: attempts submitted in the report's period.

One row per agent who sat a quiz in the period (the team and agent filters apply): how many
attempts, how many passed, the average, best and latest score. An agent's attempts are
counted in whichever period they were submitted; a retake is an attempt like any other.
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.orm import Session

from reports.document import Cell, Section, Table
from reports.periods import ReportFilter

COLUMNS = [
    "工号",
    "姓名",
    "班组",
    "考试次数",
    "通过次数",
    "平均分",
    "最高分",
    "最近成绩",
    "最近考试",
]
TITLE = "培训考核成绩"

SCORES_SQL = text(
    """
    SELECT g.number, g.name, g.team, count(*) AS attempts,
           count(*) FILTER (WHERE t.passed) AS passed,
           avg(t.score) AS average, max(t.score) AS best,
           (array_agg(t.score ORDER BY t.submitted_at DESC, t.id DESC))[1] AS latest,
           (array_agg(q.title ORDER BY t.submitted_at DESC, t.id DESC))[1] AS latest_quiz
    FROM training_attempts t
    JOIN agents g ON g.id = t.agent_id
    JOIN training_quizzes q ON q.id = t.quiz_id
    WHERE t.submitted_at >= :start AND t.submitted_at < :end
      AND (CAST(:agent_id AS integer) IS NULL OR t.agent_id = :agent_id)
      AND (CAST(:team AS text) IS NULL OR g.team = :team)
    GROUP BY g.id, g.number, g.name, g.team
    ORDER BY g.team, g.number
    """
)


def score(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}"


def training_rows(session: Session, f: ReportFilter) -> list[list[Cell]]:
    start, end = f.utc_range()
    params = {"start": start, "end": end, "agent_id": f.agent_id, "team": f.team}
    return [
        [
            r.number,
            r.name,
            r.team,
            int(r.attempts),
            int(r.passed),
            score(r.average),
            score(r.best),
            score(r.latest),
            r.latest_quiz,
        ]
        for r in session.execute(SCORES_SQL, params)
    ]


def training_section(session: Session, f: ReportFilter) -> Section:
    return Section(
        "培训考核",
        tables=[Table(TITLE, COLUMNS, training_rows(session, f))],
        notes=["成绩为百分制，按交卷时间计入区间；多选题须选全且不多选才得分。"],
    )
