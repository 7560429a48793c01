"""Incremental refresh of the summary tables from the raw call records and agent states.

``refresh_summaries(session, since)`` rebuilds every bucket from ``since`` (or from the last
refresh mark, whichever is earlier, so no gap is ever left) up to the last whole hour, then
moves the mark. Buckets before the mark are "closed": reports read them from the summaries
and read the raw records only after the mark. Calls are bucketed by their start, so a call
still in progress is picked up again by the next refresh as long as ``since`` reaches back
past its start (the beat task passes a two-hour look-back).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import CursorResult, TextClause, text
from sqlalchemy.orm import Session

from backend.models.reporting import MEASURES
from reports.measures import CALL_FROM, LINE_VALUE, raw_measure_selects
from reports.periods import floor_hour

MARK = "calls"
# Agent states that are not staffed time are kept out of the summary: nobody reports them.
UNSTAFFED_STATES = ("logged_out",)
SUMMARY_TABLES = (
    "report_call_stats",
    "report_agent_call_stats",
    "report_agent_state_stats",
    "report_intent_stats",
)


@dataclass(frozen=True)
class RefreshResult:
    since: datetime
    until: datetime
    call_rows: int
    agent_rows: int
    state_rows: int


def refresh_mark(session: Session) -> datetime | None:
    mark = session.execute(
        text("SELECT refreshed_through FROM report_refresh_marks WHERE name = :name"),
        {"name": MARK},
    ).scalar_one_or_none()
    return mark


def _earliest_record(session: Session) -> datetime | None:
    first_call = session.execute(text("SELECT min(started_at) FROM call_records")).scalar()
    first_state = session.execute(text("SELECT min(at) FROM agent_state_changes")).scalar()
    found = [at for at in (first_call, first_state) if at is not None]
    return min(found) if found else None


def refresh_summaries(
    session: Session, since: datetime | None = None, *, now: datetime | None = None
) -> RefreshResult | None:
    """Recompute the summaries for [since, last whole hour) and commit. ``None``: nothing to do."""
    until = floor_hour(now or datetime.now(UTC))
    mark = refresh_mark(session)
    start = since if since is not None else (mark or _earliest_record(session))
    if start is None:
        return None
    start = floor_hour(start)
    if mark is not None:
        start = min(start, mark)
    if start >= until:
        return None
    params = {"since": start, "until": until}
    for table in SUMMARY_TABLES:
        session.execute(
            text(f"DELETE FROM {table} WHERE bucket_start >= :since AND bucket_start < :until"),
            params,
        )
    columns = ", ".join(MEASURES)
    selects = ",\n  ".join(raw_measure_selects())
    in_range = "c.started_at >= :since AND c.started_at < :until"
    call_rows = _insert(
        session,
        text(
            f"""INSERT INTO report_call_stats (bucket_start, line, skill, {columns})
            SELECT date_bin('15 minutes', c.started_at, TIMESTAMPTZ '2000-01-01 00:00+00'),
              {LINE_VALUE}, c.skill,
              {selects}
            FROM {CALL_FROM} WHERE {in_range} GROUP BY 1, 2, 3"""
        ),
        params,
    )
    agent_rows = _insert(
        session,
        text(
            f"""INSERT INTO report_agent_call_stats (bucket_start, agent_id, line, skill, {columns})
            SELECT date_trunc('hour', c.started_at, 'UTC'), c.agent_id, {LINE_VALUE}, c.skill,
              {selects}
            FROM {CALL_FROM} WHERE {in_range} AND c.agent_id IS NOT NULL GROUP BY 1, 2, 3, 4"""
        ),
        params,
    )
    session.execute(
        text(
            f"""INSERT INTO report_intent_stats (bucket_start, line, intent, calls)
            SELECT date_trunc('hour', c.started_at, 'UTC'), {LINE_VALUE}, c.intent, count(*)
            FROM call_records c WHERE {in_range} AND c.direction = 'INBOUND' GROUP BY 1, 2, 3"""
        ),
        params,
    )
    state_rows = _refresh_agent_states(session, params)
    session.execute(
        text(
            """INSERT INTO report_refresh_marks (name, refreshed_through, refreshed_at)
            VALUES (:name, :until, now())
            ON CONFLICT (name) DO UPDATE SET refreshed_through = GREATEST(
              report_refresh_marks.refreshed_through, EXCLUDED.refreshed_through),
              refreshed_at = EXCLUDED.refreshed_at"""
        ),
        {"name": MARK, "until": until},
    )
    session.commit()
    return RefreshResult(start, until, call_rows, agent_rows, state_rows)


def _refresh_agent_states(session: Session, params: dict[str, datetime]) -> int:
    """Split each state interval (it ends where the agent's next row starts) into hours."""
    excluded = ", ".join(f"'{state}'" for state in UNSTAFFED_STATES)
    return _insert(
        session,
        text(
            f"""WITH rows AS (
              SELECT agent_id, at, state, reason, id FROM agent_state_changes
              WHERE at >= :since AND at < :until
              UNION ALL
              SELECT * FROM (
                SELECT DISTINCT ON (agent_id) agent_id, at, state, reason, id
                FROM agent_state_changes WHERE at < :since ORDER BY agent_id, at DESC, id DESC
              ) before_since
            ), intervals AS (
              SELECT agent_id, state, reason, GREATEST(at, :since) AS s,
                LEAST(COALESCE(LEAD(at) OVER (PARTITION BY agent_id ORDER BY at, id), :until),
                      :until) AS e
              FROM rows
            )
            INSERT INTO report_agent_state_stats (bucket_start, agent_id, state, reason, seconds)
            SELECT h, agent_id, state, reason,
              sum(extract(epoch FROM LEAST(e, h + interval '1 hour') - GREATEST(s, h)))
            FROM intervals,
              generate_series(date_trunc('hour', s, 'UTC'), e - interval '1 microsecond',
                              interval '1 hour') AS h
            WHERE e > s AND state NOT IN ({excluded})
            GROUP BY 1, 2, 3, 4"""
        ),
        params,
    )


def _insert(session: Session, statement: TextClause, params: dict[str, Any]) -> int:
    result = cast(CursorResult[Any], session.execute(statement, params))
    return result.rowcount
