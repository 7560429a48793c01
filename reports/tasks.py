"""Celery tasks of the reports: refresh the summaries (every few minutes), generate the
periodic editions once a day into ``report_archives``, kept for download, and e-mail them to
``CC_REPORT_MAIL_TO`` (``reports.mailing``, retried every minute until sent or failed).

The worker's composition root calls ``register_report_tasks(app, resources)``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

from celery import Celery
from celery.schedules import crontab
from sqlalchemy.orm import Session

from backend.booking.rules import BookingRules
from backend.localtime import zone
from backend.mail import send_message
from backend.worker_resources import WorkerResources
from reports.archive import archive, is_archived
from reports.booking_sheet import build_booking_sheet
from reports.confirmation_sheet import build_confirmation_sheet
from reports.document import ReportDocument
from reports.halfyear_114 import build_halfyear_114
from reports.mailing import queue_mailings, send_due_mailings
from reports.periods import Edition, Grain, ReportFilter
from reports.render_files import render_pdf, render_xlsx
from reports.schedule import PeriodicJob, due_jobs
from reports.service_report import build_service_report
from reports.summaries import refresh_summaries
from reports.workorder_report import build_workorder_report

REFRESH = "reports.refresh_summaries"
GENERATE = "reports.generate_periodic"
SEND_MAIL = "reports.send_mail"
SEND_MAIL_SECONDS = 60.0
REFRESH_SECONDS = 300.0
# Calls are bucketed by their start; two hours reaches back past any call still going on.
LOOK_BACK = timedelta(hours=2)


def build_document(session: Session, job: PeriodicJob, rules: BookingRules) -> ReportDocument:
    tz_name = rules.timezone
    if job.kind == "halfyear_114":
        half = 1 if job.first.month == 1 else 2
        return build_halfyear_114(session, job.first.year, half, tz_name=tz_name)
    if job.kind == "confirmation_sheet":
        return build_confirmation_sheet(session, rules, job.first.year, job.first.month, tz_name)
    if job.kind == "booking_sheet":
        return build_booking_sheet(session, job.first.year, tz_name)
    if job.kind == "service_monthly":
        f = ReportFilter(first=job.first, last=job.last, grain=Grain.DAY, tz_name=tz_name)
        return build_service_report(session, f)
    edition = Edition(job.kind.removeprefix("workorders_"))
    return build_workorder_report(session, edition, job.first, tz_name)


RENDER: dict[str, Callable[[ReportDocument], bytes]] = {"pdf": render_pdf, "xlsx": render_xlsx}


# A day the worker or beat was down is made up for on the next run, up to this far back.
CATCH_UP_DAYS = 7


def generate_due_reports(
    session: Session, today: date, rules: BookingRules, recipients: list[str] | None = None
) -> list[str]:
    """Store every edition due ``today`` or on the days before it (``CATCH_UP_DAYS``) that
    is not stored yet, each queued for e-mail to ``recipients``; returns the new files' names.
    Run twice (or by two workers at once), the second run stores nothing."""
    made: list[str] = []
    for back in range(CATCH_UP_DAYS, -1, -1):
        for job in due_jobs(today - timedelta(days=back)):
            made += _generate(session, job, rules, recipients or [])
    session.commit()
    return made


def _generate(
    session: Session, job: PeriodicJob, rules: BookingRules, recipients: list[str]
) -> list[str]:
    tz = zone(rules.timezone)
    start = datetime.combine(job.first, datetime.min.time(), tzinfo=tz)
    end = datetime.combine(job.last + timedelta(days=1), datetime.min.time(), tzinfo=tz)
    doc: ReportDocument | None = None
    made: list[str] = []
    for fmt, render in RENDER.items():
        if is_archived(session, job.kind, start, fmt):
            continue
        doc = doc or build_document(session, job, rules)
        filename = f"{doc.title}_{job.first.isoformat()}_{job.last.isoformat()}.{fmt}"
        archive_id = archive(session, job.kind, (start, end), fmt, filename, render(doc))
        if archive_id is not None:
            queue_mailings(session, archive_id, recipients)
            made.append(filename)
    return made


def register_report_tasks(app: Celery, resources: WorkerResources) -> None:
    settings = resources.settings
    tz_name = settings.timezone

    @app.task(name=REFRESH, shared=False)
    def refresh_task() -> None:
        with resources.session_factory() as session:
            refresh_summaries(session, datetime.now(UTC) - LOOK_BACK, tz_name=tz_name)

    @app.task(name=GENERATE, shared=False)
    def generate_task() -> list[str]:
        today = datetime.fromtimestamp(resources.now(), zone(tz_name)).date()
        with resources.session_factory() as session:
            refresh_summaries(session, datetime.now(UTC) - LOOK_BACK, tz_name=tz_name)
            made = generate_due_reports(
                session, today, settings.booking, settings.report_recipients
            )
        send_task.delay()
        return made

    @app.task(name=SEND_MAIL, shared=False)
    def send_task() -> dict[str, int]:
        if not settings.smtp_host:
            return {}
        now = datetime.fromtimestamp(resources.now(), UTC)
        result = send_due_mailings(resources.session_factory, settings, now, send_message)
        return dataclasses.asdict(result)

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
    # Retries of failed mailings come due here (the generating run sends the new ones).
    app.conf.beat_schedule["reports-send-mail"] = {
        "task": SEND_MAIL,
        "schedule": SEND_MAIL_SECONDS,
        "options": {"expires": SEND_MAIL_SECONDS},
    }
