"""Celery tasks of the text messages: draining the outbox, queueing the evening's reminders.

The gateway is built once per worker process (an SMPP or CMPP gateway keeps its bind open
between drains, as the carriers expect) on first use, after the fork.
"""

from __future__ import annotations

from threading import Lock

import redis
from celery import Celery

from backend.booking.context import BookingContext
from backend.models.base import utcnow
from backend.notifications.reminders import queue_reminders
from backend.notifications.retention import purge_old_messages
from backend.notifications.sender import OutboxSender
from backend.sms.gateways import gateway_from_settings
from backend.worker_resources import WorkerResources

DRAIN_OUTBOX = "sms.drain_outbox"
QUEUE_REMINDERS = "sms.queue_reminders"
PURGE_OLD = "sms.purge_old_messages"


class _SenderOfProcess:
    def __init__(self, resources: WorkerResources) -> None:
        self._resources = resources
        self._sender: OutboxSender | None = None
        self._lock = Lock()

    def get(self) -> OutboxSender:
        with self._lock:
            if self._sender is None:
                settings = self._resources.settings
                client = redis.Redis.from_url(settings.redis_url)
                self._sender = OutboxSender(
                    self._resources.session_factory,
                    BookingContext.from_settings(
                        settings, session_factory=self._resources.session_factory
                    ),
                    gateway_from_settings(settings, client),
                    settings.sms_gateway,
                )
            return self._sender


def register_sms_tasks(app: Celery, resources: WorkerResources) -> None:
    sender = _SenderOfProcess(resources)

    @app.task(name=DRAIN_OUTBOX, ignore_result=False, shared=False)
    def drain_outbox_task() -> int:
        return sender.get().drain().sent

    @app.task(name=QUEUE_REMINDERS, ignore_result=False, shared=False)
    def queue_reminders_task() -> int:
        settings = resources.settings
        ctx = BookingContext.from_settings(settings, session_factory=resources.session_factory)
        return queue_reminders(
            resources.session_factory, ctx.clock(), settings.sms_reminder_time, ctx.rules.tz
        )

    @app.task(name=PURGE_OLD, ignore_result=False, shared=False)
    def purge_old_task() -> int:
        return purge_old_messages(resources.session_factory, utcnow())

    app.conf.beat_schedule["sms-purge-old-messages"] = {
        "task": PURGE_OLD,
        "schedule": 24 * 3600.0,
        "options": {"expires": 3600.0},
    }
    # A message waits at most a few seconds; one drain at a time is enough (rows are locked).
    app.conf.beat_schedule["sms-drain-outbox"] = {
        "task": DRAIN_OUTBOX,
        "schedule": 5.0,
        "options": {"expires": 5.0},
    }
    # The first run after CC_SMS_REMINDER_TIME queues the evening's reminders; later ones find
    # the day done and scan nothing.
    app.conf.beat_schedule["sms-queue-reminders"] = {
        "task": QUEUE_REMINDERS,
        "schedule": 300.0,
        "options": {"expires": 300.0},
    }
