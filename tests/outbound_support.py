"""Helpers for the tests of callback tasks (tests/integration, tests/acceptance)."""

from __future__ import annotations

import time
from collections.abc import Collection
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from backend.models.workorders import CallbackTask
from ivr.outbound.callback_tasks import PendingTask, SqlCallbackTasks

NIGHT = datetime(2026, 11, 28, 13, 30, tzinfo=UTC)  # Saturday 21:30 in Beijing
MORNING = datetime(2026, 11, 30, 2, 0, tzinfo=UTC)  # Monday 10:00 in Beijing, a working day
EVENING = datetime(2026, 11, 30, 10, 30, tzinfo=UTC)  # Monday 18:30: the hotline has closed


class MovableClock:
    """A line's clock for a test: moved from out of hours into opening hours and back."""

    def __init__(self, now: datetime) -> None:
        self.at = now

    def now(self) -> datetime:
        return self.at

    def monotonic(self) -> float:
        return time.monotonic()


class TheseOrdersTasks(SqlCallbackTasks):
    """The real task source, narrowed to one test's work orders: other tests' messages share
    the session's database and would be called back first."""

    def __init__(
        self, tasks: SqlCallbackTasks, orders: set[int], factory: sessionmaker[Session]
    ) -> None:
        self.__dict__.update(tasks.__dict__)
        self._orders = orders
        self._factory = factory

    def _pending(self) -> list[PendingTask]:
        with self._factory() as db:
            ours = set(
                db.scalars(select(CallbackTask.id).where(CallbackTask.order_id.in_(self._orders)))
            )
        return [t for t in super()._pending() if t.task_id in ours]


class TheseCallsTasks(SqlCallbackTasks):
    """The real task source, narrowed to the tasks booked from one test's calls (windows);
    ``calls`` may grow as the test places them."""

    def __init__(
        self, tasks: SqlCallbackTasks, calls: Collection[str], factory: sessionmaker[Session]
    ) -> None:
        self.__dict__.update(tasks.__dict__)
        self._calls = calls
        self._factory = factory

    def _pending(self) -> list[PendingTask]:
        return [t for t in super()._pending() if t.call_id in self._calls]
