"""`callcenter reports refresh --since DATE`: rebuild the report summaries from a date, after
an import (rows written with a start before the refresh mark are otherwise never summarised),
and `callcenter demo-history`: the demo's call history (also loaded by `make demo`)."""

from __future__ import annotations

import argparse
from datetime import UTC, date, datetime, time

from backend.db import make_engine, make_session_factory
from backend.errors import ConfigError
from backend.localtime import zone
from backend.settings import Settings
from reports.summaries import refresh_summaries

DEMO_HISTORY_DAYS = 60


def add_report_parsers(sub: argparse._SubParsersAction) -> None:
    reports = sub.add_parser("reports", help="report summaries")
    actions = reports.add_subparsers(dest="action", required=True)
    refresh = actions.add_parser(
        "refresh", help="rebuild the summaries from a date (after importing call records)"
    )
    refresh.add_argument(
        "--since", type=date.fromisoformat, required=True, help="first local day, YYYY-MM-DD"
    )
    history = sub.add_parser("demo-history", help="load the demo's call history (idempotent)")
    history.add_argument("--days", type=int, default=DEMO_HISTORY_DAYS)


def cmd_reports(args: argparse.Namespace, settings: Settings) -> int:
    since = datetime.combine(args.since, time.min, tzinfo=zone(settings.timezone))
    if since > datetime.now(UTC):
        raise ConfigError("--since", f"{args.since} is in the future")
    engine = make_engine(settings, pool_size=1, max_overflow=0)
    try:
        with make_session_factory(engine)() as session:
            result = refresh_summaries(session, since, tz_name=settings.timezone)
    finally:
        engine.dispose()
    if result is None:
        print("nothing to refresh: no call records or agent states yet")
    else:
        print(f"summaries rebuilt from {result.since:%Y-%m-%d %H:%M} to {result.until:%H:%M} UTC")
    return 0


def load_demo_history(settings: Settings, days: int = DEMO_HISTORY_DAYS) -> str:
    """The last ``days`` days of both lines, then the summaries rebuilt over them."""
    from backend.demo import refuse_in_production
    from ivr.demo_history.writer import WORKERS, history_days, write_history

    refuse_in_production(settings)
    if not 1 <= days <= 400:
        raise ConfigError("--days", "between 1 and 400")
    engine = make_engine(settings, pool_size=WORKERS + 1, max_overflow=0)
    try:
        today = datetime.now(zone(settings.timezone)).date()
        factory = make_session_factory(engine)
        with factory() as session:
            wanted = history_days(session, today, days)
        result = write_history(engine, settings, wanted)
        with factory() as session:  # it commits itself
            first = datetime.combine(result.first, time.min, tzinfo=zone(settings.timezone))
            refresh_summaries(session, first, tz_name=settings.timezone)
    finally:
        engine.dispose()
    return f"demo history: {result.calls} calls from {result.first} to {result.last}"


def cmd_demo_history(args: argparse.Namespace, settings: Settings) -> int:
    print(load_demo_history(settings, args.days))
    return 0


REPORT_HANDLERS = {"reports": cmd_reports, "demo-history": cmd_demo_history}
