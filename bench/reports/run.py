"""Bench: a one-year report page read from the summary tables vs a full scan of raw calls.

Generates about 11 million call records (one year of the 114 line and the hotline) in a
scratch database with ``INSERT ... SELECT generate_series`` (no Python loops), builds the
summaries with ``refresh_summaries``, then times the same report page both ways in the same
run and prints the ratio. Usage:

    .venv/bin/python bench/reports/run.py [--calls 11000000] [--keep]
"""

from __future__ import annotations

import argparse
import time
from datetime import UTC, date, datetime

from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

from backend.migrate import migrated_database
from reports.agent_report import build_agent_report
from reports.periods import Grain, ReportFilter
from reports.query import Source
from reports.render_html import render_html
from reports.service_report import build_service_report
from reports.summaries import SUMMARY_TABLES, refresh_summaries

ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
YEAR = 2025
AGENTS_114, AGENTS_HOTLINE = 150, 14
HOTLINE_SHARE = 0.005  # ~200 hotline cases a day against ~30,000 calls on 114

# One call per generated row. Start times follow a day shape (90 % between 08:00 and 22:00
# Beijing time); outcomes: 5 % IVR self-service, 2 % hang-ups in the IVR, 9 % abandons in the
# queue, 2 % callbacks requested, the rest answered by an agent of the line.
CALLS_SQL = """
INSERT INTO call_records (call_id, line, direction, caller_number, did, started_at, ivr_seconds,
  queued_at, answered_at, ended_at, wait_seconds, talk_seconds, hold_seconds, wrapup_seconds,
  agent_id, skill, priority, disposition, intent, elderly, transferred, satisfaction,
  parent_call_id, recording_id, wrapup_code, wrapup_notes)
SELECT 'b' || i, line, 'INBOUND', '', '', started, 12, CASE WHEN queued THEN started + interval '12 s' END,
  CASE WHEN outcome = 'ANSWERED' THEN started + make_interval(secs => 12 + wait) END,
  started + make_interval(secs => 12 + wait + talk + 5), CASE WHEN queued THEN wait ELSE 0 END,
  talk, hold, wrapup, agent, skill, 0, outcome, intent, false, transferred, satisfaction, NULL, NULL, '', ''
FROM (
  SELECT i, line, started, queued, outcome, skill, intent,
    CASE WHEN queued THEN round((random() * random() * 90)::numeric, 1)::float ELSE 0 END AS wait,
    CASE WHEN outcome = 'ANSWERED' THEN 60 + random() * 240 ELSE 0 END AS talk,
    CASE WHEN outcome = 'ANSWERED' AND random() < 0.1 THEN random() * 60 ELSE 0 END AS hold,
    CASE WHEN outcome = 'ANSWERED' THEN 10 + random() * 20 ELSE 0 END AS wrapup,
    CASE WHEN outcome = 'ANSWERED' THEN agent END AS agent,
    outcome = 'ANSWERED' AND random() < 0.03 AS transferred,
    CASE WHEN outcome = 'ANSWERED' AND random() < 0.3 THEN 1 + floor(random() * 5)::int END AS satisfaction
  FROM (
    SELECT i, line, started, skill, intent, agent,
      CASE WHEN r < 0.05 THEN 'SELF_SERVICE' WHEN r < 0.07 THEN 'ABANDONED_IVR'
           WHEN r < 0.16 THEN 'ABANDONED_QUEUE' WHEN r < 0.18 THEN 'CALLBACK' ELSE 'ANSWERED' END AS outcome,
      r >= 0.07 AS queued
    FROM (
      SELECT i, random() AS r,
        CASE WHEN hot THEN 'HOTLINE' ELSE 'APPOINTMENT_114' END AS line,
        CASE WHEN hot THEN 'policy' WHEN i % 10 < 8 THEN 'booking' ELSE 'query' END AS skill,
        CASE WHEN hot THEN 'policy' WHEN i % 10 < 8 THEN 'booking' ELSE 'report_query' END AS intent,
        CASE WHEN hot THEN :a114 + 1 + floor(random() * :ahot)::int
             ELSE 1 + floor(random() * :a114)::int END AS agent,
        :year_start + make_interval(days => (i % :days)::int)
          + make_interval(secs => CASE WHEN random() < 0.9 THEN 28800 + random() * 50400
                                       ELSE random() * 86400 END) AS started
      FROM (SELECT i, random() < :hot_share AS hot FROM generate_series(CAST(:lo AS bigint), CAST(:hi AS bigint)) AS i) g
    ) a
  ) b
) c
"""

STATES_SQL = """
INSERT INTO agent_state_changes (agent_id, at, state, reason, call_id, actor)
SELECT a, :year_start + make_interval(days => d, secs => s), st, rs, '', 'bench'
FROM generate_series(1, :agents) AS a, generate_series(0, :days - 1) AS d,
  (VALUES (0, 'ready', ''), (14400, 'not_ready', 'lunch'), (18000, 'ready', ''),
          (32400, 'logged_out', '')) AS v(s, st, rs)
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=11_000_000, help="call records to generate")
    parser.add_argument("--db", default="cc_bench_reports", help="scratch database name")
    parser.add_argument("--keep", action="store_true", help="keep the scratch database")
    args = parser.parse_args()

    with migrated_database(ADMIN_URL, args.db, keep=args.keep) as url:
        engine = create_engine(url)
        try:
            with Session(engine) as session:
                generate(session, args.calls)
                t0 = time.perf_counter()
                refresh_summaries(session, None, now=datetime(YEAR + 1, 1, 2, tzinfo=UTC))
                session.execute(text("ANALYZE"))
                print(f"summaries built in {time.perf_counter() - t0:.1f} s")
                measure(session)
        finally:
            engine.dispose()


def generate(session: Session, calls: int) -> None:
    t0 = time.perf_counter()
    session.execute(
        text(
            "INSERT INTO skills (code, name, line, wrapup_seconds, sl_threshold_seconds, "
            "overflow_after_seconds, max_wait_seconds) VALUES "
            "('booking', '预约挂号', '114', 15, 20, 60, 600), ('query', '报告查询', '114', 15, 20, 60, 600), "
            "('policy', '医保政策', 'hotline', 15, 20, 60, 600)"
        )
    )
    agents = AGENTS_114 + AGENTS_HOTLINE
    session.execute(
        text(
            "INSERT INTO agents (id, number, name, interface, team, auto_answer, active) "
            "SELECT a, 'b' || a, '坐席' || a, 'Local/' || a || '@sim', "
            "CASE WHEN a <= :a114 THEN '114班组' || (a % 10) ELSE '医保班组' END, false, true "
            "FROM generate_series(1, :agents) AS a"
        ),
        {"a114": AGENTS_114, "agents": agents},
    )
    # A scratch database: load without WAL, secondary indexes or foreign keys. They are not put
    # back: the one-year pages read every row either way (the baseline is a full scan).
    for table in ("call_records", "agent_state_changes", *SUMMARY_TABLES):
        session.execute(text(f"ALTER TABLE {table} SET UNLOGGED"))
    for constraint in ("fk_call_records_agent_id_agents", "uq_call_records_call_id"):
        session.execute(text(f"ALTER TABLE call_records DROP CONSTRAINT {constraint}"))
    session.execute(text("DROP INDEX ix_call_records_line_start, ix_call_records_agent_start"))
    session.commit()
    # Local midnight of 1 January (Beijing is UTC+8 all year).
    year_start = datetime(YEAR - 1, 12, 31, 16, tzinfo=UTC)
    days = (date(YEAR + 1, 1, 1) - date(YEAR, 1, 1)).days
    chunk = 1_000_000
    for lo in range(1, calls + 1, chunk):
        hi = min(calls, lo + chunk - 1)
        session.execute(
            text(CALLS_SQL),
            {
                "lo": lo,
                "hi": hi,
                "a114": AGENTS_114,
                "ahot": AGENTS_HOTLINE,
                "year_start": year_start,
                "days": days,
                "hot_share": HOTLINE_SHARE,
            },
        )
        session.commit()
    session.execute(text(STATES_SQL), {"year_start": year_start, "agents": agents, "days": days})
    session.commit()
    session.execute(text("ANALYZE"))
    print(f"generated {calls:,} call records in {time.perf_counter() - t0:.1f} s")


def timed_page(session: Session, build: object, f: ReportFilter, source: Source) -> float:
    t0 = time.perf_counter()
    doc = build(session, f, source=source)  # type: ignore[operator]
    render_html(doc)
    return time.perf_counter() - t0


def measure(session: Session) -> None:
    year = ReportFilter(first=date(YEAR, 1, 1), last=date(YEAR, 12, 31), grain=Grain.MONTH)
    for name, build in (("service page", build_service_report), ("agent page", build_agent_report)):
        summary = timed_page(session, build, year, Source.AUTO)
        raw = timed_page(session, build, year, Source.RAW)
        print(
            f"{name}, one year, both lines: summaries {summary:.2f} s, "
            f"full scan {raw:.2f} s, ratio full scan / summaries = {raw / summary:.0f}x"
        )


if __name__ == "__main__":
    main()
