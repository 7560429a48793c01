"""Periodic jobs that catch up after Celery was down.

While no worker runs, beat's messages for the frequent jobs expire unread (each is sent with
``expires`` = its period, so a returning worker does not run a backlog of identical jobs).
What must not wait for the next beat tick — work orders marked overdue, cancelled slots put
back on sale, recordings completed — is caught up here instead: every successful run of
those jobs stores its time (a Redis hash, ``<prefix>:periodic:last_run``), and when a worker
starts, a job whose last run is older than its period is sent at once, with a log line
saying how many runs it missed. A job with no recorded run (a new centre) is left to beat.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

import redis
from celery import Celery, bootsteps
from celery.signals import task_success

log = logging.getLogger("callcenter.worker.catch_up")

# The beat entries that catch up (by their beat_schedule names; each has a period in seconds).
CATCH_UP_ENTRIES = (
    "workorders-mark-overdue",
    "booking-release-due-slots",
    "recordings-sweep",
    "backup",
)


@dataclass(frozen=True)
class MissedJob:
    task: str
    period: float
    last_run: float
    missed: int  # scheduled times that passed since the last run


def missed_jobs(
    periods: dict[str, float], last_runs: dict[str, float], now: float
) -> list[MissedJob]:
    """The jobs (task name -> period) whose last run is older than their period."""
    missed = []
    for task, period in sorted(periods.items()):
        last = last_runs.get(task)
        if last is not None and now - last > period:
            missed.append(MissedJob(task, period, last, int((now - last) // period)))
    return missed


class LastRuns:
    """When each periodic job last succeeded (epoch seconds), kept in Redis."""

    def __init__(self, client: redis.Redis, prefix: str) -> None:
        self._redis = client
        self._key = f"{prefix}:periodic:last_run"

    def record(self, task: str, at: float) -> None:
        self._redis.hset(self._key, task, repr(at))

    def all(self) -> dict[str, float]:
        return {str(k): float(v) for k, v in self._redis.hgetall(self._key).items()}


def catch_up_periods(app: Celery) -> dict[str, float]:
    """Task name -> period of the beat entries that catch up."""
    schedule = app.conf.beat_schedule
    return {
        schedule[name]["task"]: float(schedule[name]["schedule"])
        for name in CATCH_UP_ENTRIES
        if name in schedule
    }


def run_missed(app: Celery, runs: LastRuns, now: float) -> list[MissedJob]:
    """Send every job that missed runs, logging each; what was sent."""
    missed = missed_jobs(catch_up_periods(app), runs.all(), now)
    for job in missed:
        log.warning(
            "periodic job %s missed %d runs (last run %.0f s ago, every %.0f s): running it now",
            job.task,
            job.missed,
            now - job.last_run,
            job.period,
        )
        app.tasks[job.task].apply_async()
    return missed


def install_catch_up(app: Celery, runs: LastRuns, now: Callable[[], float] = time.time) -> None:
    """Record the catch-up jobs' successful runs (Celery's signals are process-wide: the
    handler checks its app), and run the missed ones whenever a worker's consumer starts:
    at the worker's start and again after it lost and regained the broker."""
    periodic = set(catch_up_periods(app))

    def recorded(sender: Any = None, **_: Any) -> None:
        name = getattr(sender, "name", None)
        if name in periodic and getattr(sender, "app", None) is app:
            try:
                runs.record(name, now())
            except redis.RedisError as exc:  # the job ran; only its bookkeeping is lost
                log.warning("last run of %s not recorded: %s", name, exc)

    class CatchUp(bootsteps.StartStopStep):
        requires: ClassVar = {"celery.worker.consumer.tasks:Tasks"}

        def start(self, parent: Any) -> None:
            try:
                run_missed(app, runs, now())
            except redis.RedisError as exc:
                log.error("missed periodic jobs not checked: %s", exc)

    task_success.connect(recorded, weak=False)
    app.steps["consumer"].add(CatchUp)
