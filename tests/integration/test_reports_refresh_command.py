"""`callcenter reports refresh --since DATE`: calls imported with a start before the refresh
mark are not in the reports until a refresh reaches back to them; the command does that."""

from __future__ import annotations

import argparse
import asyncio
import uuid
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.orm import Session, sessionmaker

from backend.errors import ConfigError
from backend.settings import Settings
from callcenter.cli.report_commands import cmd_reports
from ivr.acd.queue import QueueReport
from ivr.acd.records import SqlQueueRecorder
from reports.kpi import CallTotals
from reports.periods import GroupBy, ReportFilter
from reports.query import Source, call_totals
from reports.summaries import refresh_summaries

BJ = ZoneInfo("Asia/Shanghai")


def offered(factory: sessionmaker[Session], f: ReportFilter, source: Source) -> int:
    with factory() as db:
        return call_totals(db, f, GroupBy.TOTAL, source=source).get(0, CallTotals()).offered


def test_a_refresh_since_a_date_brings_an_import_into_the_reports(
    settings: Settings, session_factory: sessionmaker[Session]
) -> None:
    recorder = SqlQueueRecorder(session_factory)

    def record(day: date, skill: str, calls: int) -> None:
        start = datetime.combine(day, time(11), tzinfo=BJ).timestamp()
        for nth in range(calls):
            asyncio.run(recorder.queue_left(QueueReport(
                call_id=f"rf-{uuid.uuid4().hex[:12]}", line="114", caller_number="13900000000",
                skill=skill, priority=0, queued_at=start + nth * 60,
                left_at=start + nth * 60 + 30, status="abandoned",
            )))  # fmt: skip

    today = datetime.now(BJ).date()
    record(today - timedelta(days=20), f"rf{uuid.uuid4().hex[:6]}", 1)  # the centre's history
    with session_factory() as db:
        refresh_summaries(db)  # summarised up to the last whole hour: the mark is there
    day, skill = today - timedelta(days=10), f"rf{uuid.uuid4().hex[:6]}"
    record(day, skill, 3)  # imported late: recorded now, started ten days ago
    f = ReportFilter(first=day, last=day, skill=skill)
    assert offered(session_factory, f, Source.RAW) == 3
    assert offered(session_factory, f, Source.AUTO) == 0  # the summaries do not have them yet

    assert cmd_reports(argparse.Namespace(since=day), settings) == 0
    assert offered(session_factory, f, Source.AUTO) == 3

    with pytest.raises(ConfigError, match="in the future"):
        cmd_reports(argparse.Namespace(since=date.today() + timedelta(days=2)), settings)
