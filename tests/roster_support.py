"""Call history for roster tests, recorded as the controller records a caller leaving the
queue (``SqlQueueRecorder``), and the summaries rebuilt over it as after a late import."""

from __future__ import annotations

import asyncio
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session, sessionmaker

from ivr.acd.queue import QueueReport
from ivr.acd.records import SqlQueueRecorder
from reports.summaries import refresh_summaries

BJ = ZoneInfo("Asia/Shanghai")


def record_busy_half_hours(
    factory: sessionmaker[Session],
    line: str,
    skill: str,
    agent_id: int,
    days: list[date],
    *,
    at: time = time(10),
    calls: int = 60,
) -> None:
    """``calls`` answered calls (180 s talk) in the half hour from ``at`` on each of ``days``."""
    recorder = SqlQueueRecorder(factory)

    async def record() -> None:
        for day in days:
            start = datetime.combine(day, at, tzinfo=BJ).timestamp()
            for nth in range(calls):
                queued = start + nth * 1800 / calls
                await recorder.queue_left(
                    QueueReport(
                        call_id=f"rb-{uuid.uuid4().hex[:12]}", line=line,
                        caller_number="13900000000", skill=skill, priority=0, queued_at=queued,
                        left_at=queued + 200, status="answered", agent_id=agent_id,
                        answered_at=queued + 5, talk_seconds=180,
                    )
                )  # fmt: skip

    # A sync Playwright test holds its thread's event loop: record in another thread.
    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, record()).result()
    with factory() as session:
        # Calls recorded in the past: another test may have moved the summaries' mark beyond
        # them, so they are summarised from their first day.
        refresh_summaries(session, datetime.combine(min(days), time.min, tzinfo=BJ))
