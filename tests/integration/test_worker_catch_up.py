"""Celery down, then back: the periodic jobs that missed runs (overdue marks, slot
re-release, recording sweeps) run as soon as a worker starts, and the missed runs are logged.
A real worker on the Redis broker; the clock is frozen so that "ten minutes down" is exact."""

from __future__ import annotations

import asyncio
import logging
import time

import pytest
import redis
from celery.contrib.testing.worker import start_worker
from sqlalchemy.orm import Session, sessionmaker

from backend.settings import Settings
from callcenter.worker import create_celery
from callcenter.worker.catch_up import catch_up_periods, missed_jobs
from tests.workorder_support import overdue, stale_order


class FrozenClock:
    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


def test_missed_runs_are_counted_in_periods_and_a_job_never_run_is_left_to_beat() -> None:
    periods = {"sweep": 60.0, "release": 30.0, "new": 60.0}
    missed = missed_jobs(periods, {"sweep": 1000.0, "release": 1000.0}, now=1610.0)
    assert [(job.task, job.missed) for job in missed] == [("release", 20), ("sweep", 10)]
    assert missed_jobs(periods, {"sweep": 1000.0, "release": 1000.0}, now=1029.0) == []


async def test_a_worker_back_after_ten_minutes_runs_the_missed_jobs_at_once(
    settings: Settings,
    session_factory: sessionmaker[Session],
    redis_client: redis.Redis,
    redis_namespace: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    clock = FrozenClock()
    app = create_celery(
        settings,
        session_factory=session_factory,
        key_prefix=f"{redis_namespace}-catchup",
        now=clock,
    )
    jobs = catch_up_periods(app)
    assert set(jobs) == {
        "workorders.mark_overdue",
        "booking.release_due_slots",
        "recordings.sweep",
        "backup.create",
    }
    # The jobs run as beat sends them; then Celery goes down for ten minutes, in which a
    # work order passes its deadline.
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
        for task in jobs:
            app.tasks[task].delay().get(timeout=30)
    order_id = stale_order(session_factory, settings)
    clock.now += 600

    caplog.set_level(logging.WARNING, logger="callcenter.worker.catch_up")
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
        for _ in range(150):  # nothing is sent by hand: the worker's start catches up
            if overdue(session_factory, order_id):
                break
            await asyncio.sleep(0.2)
    assert overdue(session_factory, order_id)
    logged = [r.getMessage() for r in caplog.records if r.name == "callcenter.worker.catch_up"]
    for task, period in jobs.items():
        if period > 600:  # the daily backup missed nothing in ten minutes: not run again
            assert not any(task in line for line in logged), logged
            continue
        assert any(f"{task} missed {int(600 // period)} runs" in line for line in logged), logged
