"""Celery task of the audit trail: retention (export, then delete what is past it)."""

from __future__ import annotations

from celery import Celery
from celery.schedules import crontab

from backend.audit.retention import apply_audit_retention
from backend.worker_resources import WorkerResources

RETENTION = "audit.apply_retention"


def register_audit_tasks(app: Celery, resources: WorkerResources) -> None:
    @app.task(name=RETENTION, ignore_result=False, shared=False)
    def retention_task() -> dict[str, object]:
        outcome = apply_audit_retention(resources.session_factory, resources.settings)
        export = outcome.export
        return {"deleted": outcome.deleted, "export": str(export.path) if export else None}

    # Nightly, after the recordings' retention (03:30), while the lines are quiet.
    app.conf.beat_schedule["audit-retention"] = {
        "task": RETENTION,
        "schedule": crontab(hour=4, minute=10),
    }
