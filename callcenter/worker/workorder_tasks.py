"""Celery tasks of the work orders: the overdue check run by beat."""

from __future__ import annotations

from datetime import UTC, datetime

from celery import Celery

from backend.db import transaction
from backend.worker_resources import WorkerResources
from backend.workorders.desk_notifier import DeskNotifier
from backend.workorders.overdue import mark_overdue

MARK_OVERDUE = "workorders.mark_overdue"
# Deadlines are set in hours at the shortest (urgent orders), so once a minute is prompt.
OVERDUE_CHECK_SECONDS = 60.0


def register_workorder_tasks(app: Celery, resources: WorkerResources) -> None:
    # shared=False: a shared task would be copied into every Celery app built later in the
    # process, closing over the first app's resources.
    @app.task(name=MARK_OVERDUE, ignore_result=False, shared=False)
    def mark_overdue_task() -> list[int]:
        with transaction(resources.session_factory) as session:
            return mark_overdue(session, datetime.now(UTC), DeskNotifier(session))

    app.conf.beat_schedule["workorders-mark-overdue"] = {
        "task": MARK_OVERDUE,
        "schedule": OVERDUE_CHECK_SECONDS,
        "options": {"expires": OVERDUE_CHECK_SECONDS},
    }
