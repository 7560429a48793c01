"""Incremental refresh of the summary tables from the raw call records and agent states.

``refresh_summaries(session, since)`` rebuilds every bucket from the Beijing midnight before
``since`` (or before the last refresh mark, whichever is earlier, so no gap is ever left) up
to the last whole hour, then moves the mark there. Buckets before the mark are "closed":
reports read them from the summaries and read the raw records only after the mark. Calls are
bucketed by their start, so a call still in progress is picked up again by the next refresh
as long as ``since`` reaches back past its start (the beat task passes a two-hour look-back).

One scan of the calls fills both call summaries (``GROUPING SETS``): per 15 minutes, line and
skill; and per Beijing day, agent, line and skill.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import text
from sqlalchemy.orm import Session

from backend.call_measures import MEASURE_NAMES
from backend.localtime import DEFAULT_TIMEZONE, zone
from reports.measures import call_rows, raw_measure_selects
from reports.periods import floor_hour

MARK = "calls"
SUMMARY_TABLES = (
    "report_call_stats",
    "report_agent_call_stats",
    "report_agent_state_stats",
    "report_intent_stats",
)
QUARTER = "date_bin('15 minutes', x.started_at, TIMESTAMPTZ '2000-01-01 00:00+00')"
LOCAL_DAY = "(date_trunc('day', x.started_at AT TIME ZONE :tz) AT TIME ZONE :tz)"


@dataclass(frozen=True)
class RefreshResult:
    since: datetime
    until: datetime


def refresh_mark(session: Session) -> datetime | None:
    mark: datetime | None = session.execute(
        text("SELECT refreshed_through FROM report_refresh_marks WHERE name = :name"),
        {"name": MARK},
    ).scalar_one_or_none()
    return mark


def _earliest_record(session: Session) -> datetime | None:
    first_call = session.execute(text("SELECT min(started_at) FROM call_records")).scalar()
    first_state = session.execute(text("SELECT min(at) FROM agent_state_changes")).scalar()
    found = [at for at in (first_call, first_state) if at is not None]
    return min(found) if found else None


def local_midnight(at: datetime, tz_name: str = DEFAULT_TIMEZONE) -> datetime:
    local = at.astimezone(zone(tz_name))
    return local.replace(hour=0, minute=0, second=0, microsecond=0).astimezone(UTC)


def refresh_summaries(
    session: Session,
    since: datetime | None = None,
    *,
    now: datetime | None = None,
    tz_name: str = DEFAULT_TIMEZONE,
) -> RefreshResult | None:
    """Recompute the summaries from ``since`` to the last whole hour and commit.

    The first refresh builds everything from the first record (whatever ``since`` says),
    because the mark it leaves promises that all before it is summarised. Later ones start
    at ``since`` or at the mark, whichever is earlier; ``since=None`` continues from the mark.
    Records written later with a start before the mark (an import, a late call record) are
    summarised by the next refresh whose ``since`` reaches back to them. Returns ``None``
    when there is nothing to refresh.
    """
    until = floor_hour(now or datetime.now(UTC))
    # One refresh at a time: two would delete and insert the same buckets.
    session.execute(text("SELECT pg_advisory_xact_lock(hashtext('reports.refresh_summaries'))"))
    mark = refresh_mark(session)
    if mark is None:
        start = _earliest_record(session)
    else:
        start = min(since, mark) if since is not None else mark
    if start is None:
        session.commit()  # releases the lock
        return None
    start = local_midnight(start, tz_name)  # agent buckets are whole Beijing days
    if start >= until:
        session.commit()  # releases the lock
        return None
    params: dict[str, object] = {"since": start, "until": until, "tz": tz_name}
    # A year's first build groups millions of rows; hashing both grouping sets in memory
    # is what keeps it to one pass.
    session.execute(text("SET LOCAL work_mem = '256MB'"))
    for table in SUMMARY_TABLES:
        session.execute(
            text(f"DELETE FROM {table} WHERE bucket_start >= :since AND bucket_start < :until"),
            params,
        )
    _refresh_calls(session, params)
    _refresh_agent_states(session, params)
    session.execute(
        text(
            """INSERT INTO report_refresh_marks (name, refreshed_through, refreshed_at)
            VALUES (:name, :until, now())
            ON CONFLICT (name) DO UPDATE SET refreshed_through = EXCLUDED.refreshed_through,
              refreshed_at = EXCLUDED.refreshed_at"""
        ),
        {"name": MARK, "until": until},
    )
    session.commit()
    return RefreshResult(start, until)


HOUR = "date_trunc('hour', x.started_at, 'UTC')"


def _refresh_calls(session: Session, params: dict[str, object]) -> None:
    columns = ", ".join(MEASURE_NAMES)
    selects = ",\n  ".join(raw_measure_selects())
    rows = call_rows("c.started_at >= :since AND c.started_at < :until")
    # GROUPING(quarter, day): 1 = per queue, 2 = per agent, 3 = per intent.
    session.execute(
        text(
            f"""WITH agg AS (
              SELECT {QUARTER} AS quarter, {LOCAL_DAY} AS day, {HOUR} AS hour, x.agent_id,
                x.line, x.skill, x.intent, GROUPING({QUARTER}, {LOCAL_DAY}) AS grouping_set,
                {selects}
              FROM {rows}
              GROUP BY GROUPING SETS (({QUARTER}, x.line, x.skill),
                                      ({LOCAL_DAY}, x.agent_id, x.line, x.skill),
                                      ({HOUR}, x.line, x.intent))
            ), per_queue AS (
              INSERT INTO report_call_stats (bucket_start, line, skill, {columns})
              SELECT quarter, line, skill, {columns} FROM agg WHERE grouping_set = 1
            ), per_intent AS (
              INSERT INTO report_intent_stats (bucket_start, line, intent, calls)
              SELECT hour, line, intent, inbound FROM agg WHERE grouping_set = 3 AND inbound > 0
            )
            INSERT INTO report_agent_call_stats (bucket_start, agent_id, line, skill, {columns})
            SELECT day, agent_id, line, skill, {columns} FROM agg
            WHERE grouping_set = 2 AND agent_id IS NOT NULL"""
        ),
        params,
    )


# Agent states that are not staffed time are kept out of the summary: nobody reports them.
UNSTAFFED_STATES = ("logged_out",)


def state_intervals_sql(agent_where: str = "") -> str:
    """Each state interval (it ends where the agent's next row starts) clipped to
    [:since, :stop), as ``intervals(agent_id, state, reason, s, e)``."""
    return f"""WITH rows AS (
      SELECT agent_id, at, state, reason, id FROM agent_state_changes
      WHERE at >= :since AND at < :stop{agent_where}
      UNION ALL
      -- Each agent's state at :since: one backward index probe per agent, however long
      -- the history grows.
      SELECT last.* FROM agents a CROSS JOIN LATERAL (
        SELECT agent_id, at, state, reason, id FROM agent_state_changes
        WHERE agent_id = a.id AND at < :since{agent_where}
        ORDER BY at DESC, id DESC LIMIT 1
      ) last
    ), intervals AS (
      SELECT agent_id, state, reason, GREATEST(at, :since) AS s,
        LEAST(COALESCE(LEAD(at) OVER (PARTITION BY agent_id ORDER BY at, id), :stop), :stop) AS e
      FROM rows
    )"""


def _refresh_agent_states(session: Session, params: dict[str, object]) -> None:
    excluded = ", ".join(f"'{state}'" for state in UNSTAFFED_STATES)
    session.execute(
        text(
            state_intervals_sql()
            + f"""
            INSERT INTO report_agent_state_stats (bucket_start, agent_id, state, reason, seconds)
            SELECT h, agent_id, state, reason,
              sum(extract(epoch FROM LEAST(e, h + interval '1 hour') - GREATEST(s, h)))
            FROM intervals,
              generate_series(date_trunc('hour', s, 'UTC'), e - interval '1 microsecond',
                              interval '1 hour') AS h
            WHERE e > s AND state NOT IN ({excluded})
            GROUP BY 1, 2, 3, 4"""
        ),
        {**params, "stop": params["until"]},
    )
