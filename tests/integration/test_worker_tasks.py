"""The recording and booking jobs are registered with beat and run through Celery."""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker

from backend.settings import Settings
from callcenter.worker import create_celery
from callcenter.worker.booking_tasks import RELEASE_DUE_SLOTS
from callcenter.worker.recording_tasks import RETENTION, SWEEP


def test_beat_schedules_the_recording_and_booking_jobs(settings: Settings) -> None:
    schedule = create_celery(settings).conf.beat_schedule
    assert schedule["recordings-sweep"]["task"] == SWEEP
    assert schedule["recordings-sweep"]["schedule"] == 60.0
    assert schedule["recordings-retention"]["task"] == RETENTION
    assert schedule["booking-release-due-slots"]["task"] == RELEASE_DUE_SLOTS
    tasks = {entry["task"] for entry in schedule.values()}
    assert {"reports.refresh_summaries", "reports.generate_periodic"} <= tasks


def test_the_jobs_run_through_celery_on_the_real_database(
    settings: Settings, session_factory: sessionmaker[Session]
) -> None:
    app = create_celery(settings, session_factory=session_factory)
    sweep = app.tasks[SWEEP].apply().get()
    assert set(sweep) == {
        "cards_settled",
        "records_from_cards",
        "completed",
        "repaired",
        "missing",
        "messages_sealed",
    }
    retention = app.tasks[RETENTION].apply().get()
    assert retention["deleted"] >= 0 and retention["freed_bytes"] >= 0
    released = app.tasks[RELEASE_DUE_SLOTS].apply().get()
    assert isinstance(released, int) and released >= 0
