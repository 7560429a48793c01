"""Celery tasks of the booking backend: cancelled slots going back on sale."""

from __future__ import annotations

from celery import Celery

from backend.booking.context import BookingContext
from backend.booking.service import BookingService
from backend.worker_resources import WorkerResources

RELEASE_DUE_SLOTS = "booking.release_due_slots"


def register_booking_tasks(app: Celery, resources: WorkerResources) -> None:
    @app.task(name=RELEASE_DUE_SLOTS, ignore_result=False, shared=False)
    def release_due_slots_task() -> int:
        ctx = BookingContext.from_settings(
            resources.settings, session_factory=resources.session_factory
        )
        return BookingService(resources.session_factory, ctx).release_due_slots()

    # Cancelled slots are re-released at a random moment within a window of an hour or more;
    # checking every 30 s keeps that moment unpredictable to the second.
    app.conf.beat_schedule["booking-release-due-slots"] = {
        "task": RELEASE_DUE_SLOTS,
        "schedule": 30.0,
        "options": {"expires": 30.0},
    }
