"""Aggregate queries behind every report: summaries for closed periods, raw rows after.

Each query returns ``{group key: totals}``. The key is a local period start (naive Beijing
time), an hour of day, an ISO weekday, a night flag, an agent id, a line, a skill, or 0.
"""

from __future__ import annotations

import enum
from collections import defaultdict
from collections.abc import Hashable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from reports.kpi import NIGHT_END_HOUR, NIGHT_START_HOUR, CallTotals
from reports.measures import LINE_VALUE, call_rows, raw_measure_selects, summary_measure_selects
from reports.periods import Grain, GroupBy, ReportFilter
from reports.summaries import refresh_mark, state_intervals_sql


class Source(enum.StrEnum):
    AUTO = "auto"  # summaries up to the refresh mark, raw records after it
    RAW = "raw"  # a full scan of the raw records (the benchmark's baseline)


def _group_expr(group_by: GroupBy, ts: str, agent: str, line: str, skill: str) -> str:
    local = f"({ts} AT TIME ZONE :tz)"
    hour = f"extract(hour FROM {local})::int"
    return {
        GroupBy.PERIOD: f"date_trunc(:grain, {local})",
        # Beijing is a whole number of hours from UTC: UTC half hours are local half hours.
        GroupBy.HALF_HOUR: f"(date_bin('30 minutes', {ts}, TIMESTAMPTZ '2000-01-01') AT TIME ZONE :tz)",
        GroupBy.HOUR_OF_DAY: hour,
        GroupBy.DAY_OF_WEEK: f"extract(isodow FROM {local})::int",
        GroupBy.NIGHT: f"({hour} >= {NIGHT_START_HOUR} OR {hour} < {NIGHT_END_HOUR})",
        GroupBy.AGENT: agent,
        GroupBy.LINE: line,
        GroupBy.SKILL: skill,
        GroupBy.TOTAL: "0",
    }[group_by]


def _scope(f: ReportFilter, agent: str, line: str, skill: str) -> tuple[list[str], dict[str, Any]]:
    where: list[str] = []
    params: dict[str, Any] = {"tz": f.tz_name, "grain": f.grain.value}
    if f.line is not None:
        where.append(f"{line} = :line")
        params["line"] = f.line
    if f.skill is not None:
        where.append(f"{skill} = :skill")
        params["skill"] = f.skill
    if f.agent_id is not None:
        where.append(f"{agent} = :agent_id")
        params["agent_id"] = f.agent_id
    if f.team is not None:
        where.append(f"{agent} IN (SELECT id FROM agents WHERE team = :team)")
        params["team"] = f.team
    return where, params


def raw_scope(f: ReportFilter) -> tuple[list[str], dict[str, Any]]:
    """The filter's scope over the raw call records ``c`` (what the raw-scan path reads)."""
    return _scope(f, "c.agent_id", LINE_VALUE, "c.skill")


def _split(
    session: Session, f: ReportFilter, source: Source
) -> tuple[tuple[datetime, datetime] | None, tuple[datetime, datetime] | None]:
    """The summary part and the raw part of the filter's UTC range."""
    start, end = f.utc_range()
    mark = refresh_mark(session) if source is Source.AUTO else None
    if mark is None or mark <= start:
        return None, (start, end)
    if mark >= end:
        return (start, end), None
    return (start, mark), (mark, end)


def call_totals(
    session: Session,
    f: ReportFilter,
    group_by: GroupBy = GroupBy.PERIOD,
    *,
    source: Source = Source.AUTO,
) -> dict[Hashable, CallTotals]:
    agent_scoped = f.agent_scoped or group_by is GroupBy.AGENT
    if agent_scoped and not _daily_enough(f, group_by):
        source = Source.RAW  # per-agent summaries are daily: hours come from the raw calls
    summary_part, raw_part = _split(session, f, source)
    result: dict[Hashable, CallTotals] = defaultdict(CallTotals)
    if summary_part is not None:
        table = "report_agent_call_stats" if agent_scoped else "report_call_stats"
        key = _group_expr(group_by, "s.bucket_start", "s.agent_id", "s.line", "s.skill")
        where, params = _scope(f, "s.agent_id", "s.line", "s.skill")
        where.append("s.bucket_start >= :start AND s.bucket_start < :end")
        params.update(start=summary_part[0], end=summary_part[1])
        sql = (
            f"SELECT {key} AS k, {', '.join(summary_measure_selects('s'))} FROM {table} s "
            f"WHERE {' AND '.join(where)} GROUP BY 1"
        )
        _accumulate(result, session.execute(text(sql), params).mappings())
    if raw_part is not None:
        key = _group_expr(group_by, "x.started_at", "x.agent_id", "x.line", "x.skill")
        where, params = raw_scope(f)
        where.append("c.started_at >= :start AND c.started_at < :end")
        if agent_scoped:
            where.append("c.agent_id IS NOT NULL")
        params.update(start=raw_part[0], end=raw_part[1])
        sql = (
            f"SELECT {key} AS k, {', '.join(raw_measure_selects())} "
            f"FROM {call_rows(' AND '.join(where))} GROUP BY 1"
        )
        _accumulate(result, session.execute(text(sql), params).mappings())
    return dict(result)


def _daily_enough(f: ReportFilter, group_by: GroupBy) -> bool:
    if group_by in (GroupBy.HOUR_OF_DAY, GroupBy.NIGHT, GroupBy.HALF_HOUR):
        return False
    return not (group_by is GroupBy.PERIOD and f.grain is Grain.HOUR)


def _accumulate(result: dict[Hashable, CallTotals], rows: Any) -> None:
    for row in rows:
        result[row["k"]] = result[row["k"]] + CallTotals.from_mapping(row)


def state_seconds(
    session: Session, f: ReportFilter, *, source: Source = Source.AUTO
) -> dict[tuple[int, str, str], float]:
    """Seconds per (agent, state, reason) over the filter's range and agent scope."""
    summary_part, raw_part = _split(session, f, source)
    result: dict[tuple[int, str, str], float] = defaultdict(float)
    agent_where = []
    params: dict[str, Any] = {}
    if f.agent_id is not None:
        agent_where.append("agent_id = :agent_id")
        params["agent_id"] = f.agent_id
    if f.team is not None:
        agent_where.append("agent_id IN (SELECT id FROM agents WHERE team = :team)")
        params["team"] = f.team
    extra = "".join(f" AND {w}" for w in agent_where)
    if summary_part is not None:
        rows = session.execute(
            text(
                "SELECT agent_id, state, reason, sum(seconds) FROM report_agent_state_stats "
                f"WHERE bucket_start >= :start AND bucket_start < :end{extra} GROUP BY 1, 2, 3"
            ),
            {**params, "start": summary_part[0], "end": summary_part[1]},
        )
        for agent_id, state, reason, seconds in rows:
            result[(agent_id, state, reason)] += float(seconds)
    if raw_part is not None:
        rows = session.execute(
            text(
                state_intervals_sql(extra)
                + """ SELECT agent_id, state, reason, sum(extract(epoch FROM e - s))
                FROM intervals WHERE e > s AND state <> 'logged_out' GROUP BY 1, 2, 3"""
            ),
            {**params, "since": raw_part[0], "stop": _open_end(raw_part[1])},
        )
        for agent_id, state, reason, seconds in rows:
            result[(agent_id, state, reason)] += float(seconds)
    return dict(result)


def _open_end(end: datetime) -> datetime:
    """An open interval at the end of the range runs until now, not into the future."""
    return min(end, datetime.now(UTC))


def intent_mix(session: Session, f: ReportFilter) -> dict[str, int]:
    """Inbound calls per intent. Read from the hourly intent summary plus the raw tail."""
    summary_part, raw_part = _split(session, f, Source.AUTO)
    result: dict[str, int] = defaultdict(int)
    line_where = " AND line = :line" if f.line else ""
    if summary_part is not None:
        for intent, calls in session.execute(
            text(
                "SELECT intent, sum(calls) FROM report_intent_stats WHERE bucket_start >= :start "
                f"AND bucket_start < :end{line_where} GROUP BY 1"
            ),
            {"start": summary_part[0], "end": summary_part[1], "line": f.line},
        ):
            result[intent] += int(calls)
    if raw_part is not None:
        raw_line = f" AND {LINE_VALUE} = :line" if f.line else ""
        for intent, calls in session.execute(
            text(
                "SELECT c.intent, count(*) FROM call_records c WHERE c.direction = 'INBOUND' "
                f"AND c.started_at >= :start AND c.started_at < :end{raw_line} GROUP BY 1"
            ),
            {"start": raw_part[0], "end": raw_part[1], "line": f.line},
        ):
            result[intent] += int(calls)
    return dict(result)
