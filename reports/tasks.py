"""Celery tasks of the reports: refresh the summaries (every few minutes) and generate the
periodic editions once a day into ``report_archives``, kept for download.

The worker's composition root calls ``register_report_tasks(app, resources)``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

from celery import Celery
from celery.schedules import crontab
from sqlalchemy.orm import Session

from backend.localtime import zone
from backend.worker_resources import WorkerResources
from reports.archive import archive, is_archived
from reports.booking_sheet import build_booking_sheet
from reports.document import ReportDocument
from reports.halfyear_114 import build_halfyear_114
from reports.periods import Edition, Grain, ReportFilter
from reports.render_files import render_pdf, render_xlsx
from reports.schedule import PeriodicJob, due_jobs
from reports.service_report import build_service_report
from reports.summaries import refresh_summaries
from reports.workorder_report import build_workorder_report

REFRESH = "reports.refresh_summaries"
GENERATE = "reports.generate_periodic"
REFRESH_SECONDS = 300.0
# Calls are bucketed by their start; two hours reaches back past any call still going on.
LOOK_BACK = timedelta(hours=2)


def build_document(session: Session, job: PeriodicJob, tz_name: str) -> ReportDocument:
    if job.kind == "halfyear_114":
        half = 1 if job.first.month == 1 else 2
        return build_halfyear_114(session, job.first.year, half, tz_name=tz_name)
    if job.kind == "booking_sheet":
        return build_booking_sheet(session, job.first.year, tz_name)
    if job.kind == "service_monthly":
        f = ReportFilter(first=job.first, last=job.last, grain=Grain.DAY, tz_name=tz_name)
        return build_service_report(session, f)
    edition = Edition(job.kind.removeprefix("workorders_"))
    return build_workorder_report(session, edition, job.first, tz_name)


RENDER: dict[str, Callable[[ReportDocument], bytes]] = {"pdf": render_pdf, "xlsx": render_xlsx}


def generate_due_reports(session: Session, today: date, tz_name: str) -> list[str]:
    """Generate every job due ``today`` that is not archived yet; returns the file names."""
    tz = zone(tz_name)
    made: list[str] = []
    for job in due_jobs(today):
        start = datetime.combine(job.first, datetime.min.time(), tzinfo=tz)
        end = datetime.combine(job.last + timedelta(days=1), datetime.min.time(), tzinfo=tz)
        doc: ReportDocument | None = None
        for fmt, render in RENDER.items():
            if is_archived(session, job.kind, start, fmt):
                continue
            doc = doc or build_document(session, job, tz_name)
            filename = f"{doc.title}_{job.first.isoformat()}_{job.last.isoformat()}.{fmt}"
            archive(session, job.kind, (start, end), fmt, filename, render(doc))
            made.append(filename)
    session.commit()
    return made


def register_report_tasks(app: Celery, resources: WorkerResources) -> None:
    tz_name = resources.settings.timezone

    @app.task(name=REFRESH, shared=False)
    def refresh_task() -> None:
        with resources.session_factory() as session:
            refresh_summaries(session, datetime.now(UTC) - LOOK_BACK, tz_name=tz_name)

    @app.task(name=GENERATE, shared=False)
    def generate_task() -> list[str]:
        today = datetime.now(zone(tz_name)).date()
        with resources.session_factory() as session:
            refresh_summaries(session, datetime.now(UTC) - LOOK_BACK, tz_name=tz_name)
            return generate_due_reports(session, today, tz_name)

    app.conf.beat_schedule["reports-refresh-summaries"] = {
        "task": REFRESH,
        "schedule": REFRESH_SECONDS,
        "options": {"expires": REFRESH_SECONDS},
    }
    # 01:30 Beijing time: yesterday's calls are all in, the night's quiet hours.
    app.conf.beat_schedule["reports-generate-periodic"] = {
        "task": GENERATE,
        "schedule": crontab(hour=1, minute=30),
    }
