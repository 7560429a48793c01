"""The Celery side of the reports: beat entries, and the tasks run against PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from celery import Celery
from sqlalchemy.orm import Session, sessionmaker

from backend.models.calls import CallRecord, Line
from backend.settings import Settings
from backend.worker_resources import WorkerResources
from reports.periods import floor_hour
from reports.summaries import refresh_mark
from reports.tasks import GENERATE, REFRESH, register_report_tasks


def test_beat_refreshes_the_summaries_up_to_the_last_whole_hour(
    settings: Settings, session_factory: sessionmaker[Session]
) -> None:
    app = Celery("reports-test", set_as_current=False)
    app.conf.beat_schedule = {}
    register_report_tasks(app, WorkerResources(settings, session_factory))
    schedule = app.conf.beat_schedule
    assert schedule["reports-refresh-summaries"]["task"] == REFRESH
    assert schedule["reports-generate-periodic"]["task"] == GENERATE

    with session_factory() as session:
        yesterday = datetime.now(UTC) - timedelta(days=1)
        session.add(CallRecord(call_id="rpt-task-1", line=Line.HOTLINE, started_at=yesterday))
        session.commit()
    app.tasks[REFRESH].run()
    with session_factory() as session:
        assert refresh_mark(session) == floor_hour(datetime.now(UTC))
