"""Every metric the services export, defined once (docs/metrics.md lists them).

The desk and the worker run several processes: they set PROMETHEUS_MULTIPROC_DIR before this
module is first imported (``exposition.prepare_multiprocess``), and prometheus_client then
keeps each process's values in files that the scrape adds up. A gauge's ``multiprocess_mode``
says how its processes' values combine.
"""

from __future__ import annotations

from collections.abc import Iterable

from prometheus_client import Counter, Gauge, Histogram

# Answer wait, in seconds: these plus each skill's service-level threshold (answer_wait_buckets).
WAIT_BUCKETS = (5.0, 10.0, 15.0, 20.0, 30.0, 45.0, 60.0, 90.0, 120.0, 180.0, 300.0, 600.0)
FAST_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)

# The controller: what left its queues, and the AGI conversation.
CALLS_OFFERED = Counter("cc_calls_offered", "Calls that left a queue", ["line", "skill"])
CALLS_ANSWERED = Counter("cc_calls_answered", "Calls an agent answered", ["line", "skill"])
CALLS_ABANDONED = Counter(
    "cc_calls_abandoned", "Calls the caller ended while queued", ["line", "skill"]
)
AGI_COMMAND_SECONDS = Histogram(
    "cc_agi_command_seconds", "An AGI command's round trip to Asterisk", buckets=FAST_BUCKETS
)
AGI_SESSIONS = Counter("cc_agi_sessions", "AGI conversations the controller served", ["line"])

# The ACD's live view, refreshed by the controller every few seconds.
QUEUE_WAITING = Gauge("cc_queue_waiting", "Calls waiting", ["skill"], multiprocess_mode="max")
QUEUE_OLDEST_WAIT = Gauge(
    "cc_queue_oldest_wait_seconds", "The longest wait now", ["skill"], multiprocess_mode="max"
)
AGENTS = Gauge("cc_agents", "Agents by state", ["state"], multiprocess_mode="max")
AGENTS_READY = Gauge(
    "cc_agents_ready", "Agents ready for a skill", ["skill"], multiprocess_mode="max"
)
DISK_FREE_BYTES = Gauge("cc_disk_free_bytes", "Free space", ["volume"], multiprocess_mode="min")

# The desk: bookings by phone agents and online.
BOOKING_SECONDS = Histogram(
    "cc_booking_seconds", "A booking request's time in the desk", ["channel"],
    buckets=FAST_BUCKETS,
)  # fmt: skip
BOOKING_ERRORS = Counter("cc_booking_errors", "Bookings refused or failed", ["channel", "code"])

# The worker.
TASK_FAILURES = Counter("cc_task_failures", "Celery tasks that failed", ["task"])
RECORDINGS_MISSING = Gauge(
    "cc_recordings_missing", "Recordings the last sweep found missing", multiprocess_mode="max"
)
BACKUP_LAST_SUCCESS = Gauge(
    "cc_backup_last_success_timestamp_seconds", "When the newest backup was taken",
    multiprocess_mode="max",
)  # fmt: skip
CALENDAR_YEAR_MISSING = Gauge(
    "cc_calendar_next_year_missing", "1 when next year's holidays are not entered",
    multiprocess_mode="max",
)  # fmt: skip

_answer_wait: Histogram | None = None


def answer_wait(thresholds: Iterable[float] = ()) -> Histogram:
    """The answer-wait histogram, with a bucket at each skill's service-level threshold (so
    the share answered within it is exact); made once per process, by its first caller."""
    global _answer_wait
    if _answer_wait is None:
        buckets = sorted(set(WAIT_BUCKETS) | {float(t) for t in thresholds if t > 0})
        _answer_wait = Histogram(
            "cc_answer_wait_seconds", "Queue wait of answered calls", ["line", "skill"],
            buckets=buckets,
        )  # fmt: skip
    return _answer_wait


RECORDINGS_TODAY = Gauge(
    "cc_recordings_today", "Recordings indexed complete since midnight (local time)", ["line"],
    multiprocess_mode="max",
)  # fmt: skip
