"""Composition root of the Celery worker and beat: one app, every task registered here.

Each feature contributes a ``register_<feature>_tasks(app, resources)`` function; add its call
to ``register_tasks`` below — tasks are never registered by importing a module. Declare
tasks with ``@app.task(name=..., shared=False)``: Celery's default (shared) copies a task into
every app built later in the process, with the first app's collaborators.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import redis
from celery import Celery
from sqlalchemy.orm import Session, sessionmaker

from backend.settings import Settings
from backend.worker_resources import WorkerResources
from callcenter.worker.audit_tasks import register_audit_tasks
from callcenter.worker.backup_tasks import register_backup_tasks
from callcenter.worker.booking_tasks import register_booking_tasks
from callcenter.worker.calendar_tasks import register_calendar_tasks
from callcenter.worker.catch_up import LastRuns, install_catch_up
from callcenter.worker.recording_tasks import register_recording_tasks
from callcenter.worker.sms_tasks import register_sms_tasks
from callcenter.worker.workorder_tasks import register_workorder_tasks
from reports.tasks import register_report_tasks


def register_tasks(app: Celery, resources: WorkerResources) -> None:
    register_workorder_tasks(app, resources)
    register_recording_tasks(app, resources)
    register_booking_tasks(app, resources)
    register_report_tasks(app, resources)
    register_audit_tasks(app, resources)
    register_sms_tasks(app, resources)
    register_calendar_tasks(app, resources)
    register_backup_tasks(app, resources)


def create_celery(
    settings: Settings,
    *,
    session_factory: sessionmaker[Session] | None = None,
    key_prefix: str = "",
    now: Callable[[], float] = time.time,
) -> Celery:
    """The Celery app on the Redis broker; ``key_prefix`` keeps every Redis key of it apart
    (tests run beside each other on one Redis); ``now`` is the clock the missed runs of the
    periodic jobs are counted by (``catch_up``)."""
    app = Celery(
        "callcenter", broker=settings.redis_url, backend=settings.redis_url, set_as_current=False
    )
    transport = {"global_keyprefix": key_prefix} if key_prefix else {}
    app.conf.update(
        task_serializer="json",
        result_serializer="json",
        accept_content=["json"],
        timezone=settings.timezone,
        enable_utc=True,
        task_ignore_result=True,
        result_expires=3600,
        task_default_queue=f"{key_prefix}callcenter" if key_prefix else "callcenter",
        broker_transport_options=transport,
        result_backend_transport_options=transport,
        broker_connection_retry_on_startup=True,
        worker_hijack_root_logger=False,
        beat_schedule={},
    )
    register_tasks(app, WorkerResources(settings, session_factory, now=now))
    runs = LastRuns(
        redis.Redis.from_url(settings.redis_url, decode_responses=True),
        f"{key_prefix}{settings.desk_redis_prefix}",
    )
    install_catch_up(app, runs, now)
    return app
