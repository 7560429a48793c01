"""Celery task of the backups: one every CC_BACKUP_INTERVAL_HOURS, the newest kept, a failure
raised on the wallboard until a later one succeeds."""

from __future__ import annotations

import logging

import redis
from celery import Celery

from backend.alerts import AlertLevel, SystemAlerts
from backend.audit import Actor
from backend.backup.service import take_backup
from backend.errors import CallCenterError
from backend.metrics.definitions import BACKUP_LAST_SUCCESS
from backend.worker_resources import WorkerResources

BACKUP = "backup.create"
ALERT = "backup"
log = logging.getLogger(__name__)


def register_backup_tasks(app: Celery, resources: WorkerResources) -> None:
    @app.task(name=BACKUP, ignore_result=False, shared=False)
    def backup_task() -> str:
        settings = resources.settings
        alerts = SystemAlerts(
            redis.Redis.from_url(settings.redis_url, decode_responses=True),
            settings.desk_redis_prefix,
        )
        try:
            taken = take_backup(settings, resources.session_factory, Actor("beat"))
        except (CallCenterError, OSError) as exc:
            message = getattr(exc, "message", str(exc))
            log.error("backup failed: %s", message)
            alerts.raise_alert(ALERT, AlertLevel.CRITICAL, f"备份失败：{message}")
            raise
        alerts.clear(ALERT)
        BACKUP_LAST_SUCCESS.set_to_current_time()
        log.info("backup written to %s, %d older removed", taken.path, len(taken.pruned))
        return str(taken.path)

    app.conf.beat_schedule["backup"] = {
        "task": BACKUP,
        "schedule": resources.settings.backup_interval_hours * 3600.0,
        # A worker down at backup time takes the missed one when it starts (catch_up.py),
        # not also beat's stale message.
        "options": {"expires": 3600.0},
    }
