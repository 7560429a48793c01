"""The worker's /metrics: Celery task failures, and at start the newest backup's time (the
recordings sweep, the backup and the calendar check set their own gauges as they run)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from celery.signals import task_failure

from backend.backup.archive import STAMP, list_backups
from backend.metrics.definitions import BACKUP_LAST_SUCCESS, TASK_FAILURES
from backend.metrics.exposition import start_metrics_server
from backend.settings import Settings


def _count_failure(sender: Any = None, **_: Any) -> None:
    TASK_FAILURES.labels(getattr(sender, "name", "unknown")).inc()


def install_task_metrics() -> None:
    task_failure.connect(_count_failure, weak=False, dispatch_uid="cc-task-failures")


def serve_worker_metrics(settings: Settings) -> None:
    install_task_metrics()
    backups = list_backups(settings.effective_backup_dir)
    if backups:
        taken = datetime.strptime(backups[-1].name, STAMP).replace(tzinfo=UTC)
        BACKUP_LAST_SUCCESS.set(taken.timestamp())
    if settings.worker_metrics_port:
        start_metrics_server(settings.metrics_host, settings.worker_metrics_port)
