"""The queue's outcomes as Prometheus counters and the answer-wait histogram (a
``QueueObserver`` beside the call record and the queue_log)."""

from __future__ import annotations

from collections.abc import Iterable

from backend.metrics.definitions import (
    CALLS_ABANDONED,
    CALLS_ANSWERED,
    CALLS_OFFERED,
    answer_wait,
)
from ivr.acd.queue import QueueObserver, QueueReport


class QueueMetrics:
    def __init__(self, sl_thresholds: Iterable[float] = ()) -> None:
        self._wait = answer_wait(sl_thresholds)

    async def queue_left(self, report: QueueReport) -> None:
        labels = (report.line, report.skill)
        CALLS_OFFERED.labels(*labels).inc()
        if report.status == "answered":
            CALLS_ANSWERED.labels(*labels).inc()
            self._wait.labels(*labels).observe(report.wait_seconds)
        elif report.status == "abandoned":
            CALLS_ABANDONED.labels(*labels).inc()


class QueueObservers:
    """Several observers as one: the call record, then these figures."""

    def __init__(self, *observers: QueueObserver) -> None:
        self._observers = observers

    async def queue_left(self, report: QueueReport) -> None:
        for observer in self._observers:
            await observer.queue_left(report)
