"""The overdue check as beat runs it: registered, scheduled, executed by Celery on Redis."""

from __future__ import annotations

from celery.contrib.testing.worker import start_worker
from sqlalchemy.orm import Session, sessionmaker

from backend.settings import Settings
from callcenter.worker import create_celery
from callcenter.worker.workorder_tasks import MARK_OVERDUE
from tests.workorder_support import overdue, stale_order


def test_beat_runs_the_overdue_check_every_minute(settings: Settings) -> None:
    app = create_celery(settings)
    entry = app.conf.beat_schedule["workorders-mark-overdue"]
    assert entry["task"] == MARK_OVERDUE and entry["schedule"] == 60.0
    assert MARK_OVERDUE in app.tasks


def test_the_task_marks_an_overdue_order(
    settings: Settings, session_factory: sessionmaker[Session]
) -> None:
    order_id = stale_order(session_factory, settings)
    app = create_celery(settings, session_factory=session_factory)
    result = app.tasks[MARK_OVERDUE].apply()
    assert result.successful() and order_id in result.get()
    assert overdue(session_factory, order_id)


def test_a_worker_on_the_redis_broker_runs_the_check(
    settings: Settings, session_factory: sessionmaker[Session], redis_namespace: str
) -> None:
    order_id = stale_order(session_factory, settings)
    app = create_celery(settings, session_factory=session_factory, key_prefix=redis_namespace)
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
        marked = app.tasks[MARK_OVERDUE].delay().get(timeout=30)
    assert order_id in marked
    assert overdue(session_factory, order_id)
