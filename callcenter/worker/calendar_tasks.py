"""Celery task of the holiday calendar: the daily check that next year has been entered."""

from __future__ import annotations

from datetime import datetime

import redis
from celery import Celery
from celery.schedules import crontab

from backend.alerts import SystemAlerts
from backend.db import transaction
from backend.holiday_calendar.reminder import check_calendar_years
from backend.localtime import zone
from backend.metrics.definitions import CALENDAR_YEAR_MISSING
from backend.worker_resources import WorkerResources

CHECK_YEARS = "calendar.check_years"


def register_calendar_tasks(app: Celery, resources: WorkerResources) -> None:
    @app.task(name=CHECK_YEARS, ignore_result=False, shared=False)
    def check_years_task() -> int | None:
        settings = resources.settings
        today = datetime.fromtimestamp(resources.now(), zone(settings.timezone)).date()
        alerts = SystemAlerts(
            redis.Redis.from_url(settings.redis_url, decode_responses=True),
            settings.desk_redis_prefix,
        )
        with transaction(resources.session_factory) as session:
            missing = check_calendar_years(session, alerts, today)
        CALENDAR_YEAR_MISSING.set(1 if missing else 0)
        return missing.year if missing else None

    # Each morning before the lines open, so the alert is up when supervisors arrive.
    app.conf.beat_schedule["calendar-check-years"] = {
        "task": CHECK_YEARS,
        "schedule": crontab(hour=7, minute=5),
    }
