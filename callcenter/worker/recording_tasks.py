"""Celery tasks of the recordings: complete and repair the index, apply retention."""

from __future__ import annotations

from datetime import UTC, datetime

from celery import Celery
from celery.schedules import crontab
from sqlalchemy.orm import Session, sessionmaker

from backend.localtime import zone
from backend.metrics.definitions import RECORDINGS_MISSING, RECORDINGS_TODAY
from backend.personal_data import PersonalDataCipher
from backend.settings import Settings
from backend.worker_resources import WorkerResources
from ivr.resync.cards import CardSettler
from recordings.daily_count import complete_today
from recordings.index import RecordingIndex
from recordings.keys import master_key
from recordings.messages import seal_left_messages

SWEEP = "recordings.sweep"
RETENTION = "recordings.apply_retention"
CATEGORIES = ("call", "callback", "voicemail")


def register_recording_tasks(app: Celery, resources: WorkerResources) -> None:
    def index() -> RecordingIndex:
        return RecordingIndex(resources.session_factory, resources.settings)

    @app.task(name=SWEEP, ignore_result=False, shared=False)
    def sweep_task() -> dict[str, int]:
        return sweep_recordings(resources.session_factory, resources.settings)

    @app.task(name=RETENTION, ignore_result=False, shared=False)
    def retention_task() -> dict[str, int]:
        days = resources.settings.recording_retention_days
        report = index().apply_retention(dict.fromkeys(CATEGORIES, days), actor="retention")
        return {"deleted": report.deleted, "freed_bytes": report.freed_bytes}

    app.conf.beat_schedule["recordings-sweep"] = {
        "task": SWEEP,
        "schedule": 60.0,
        "options": {"expires": 60.0},
    }
    # At night (Beijing time), when the lines are quiet.
    app.conf.beat_schedule["recordings-retention"] = {
        "task": RETENTION,
        "schedule": crontab(hour=3, minute=30),
    }


def sweep_recordings(session_factory: sessionmaker[Session], settings: Settings) -> dict[str, int]:
    """The sweep: first the call cards Asterisk left (records and recordings of calls no
    controller recorded, ivr/resync/cards.py), then every recording still open completed,
    repaired or found missing, and voice messages sealed."""
    index = RecordingIndex(session_factory, settings)
    cards = CardSettler(session_factory, index, PersonalDataCipher.of(settings)).settle()
    report = index.sweep()
    RECORDINGS_MISSING.set(report.missing)
    with session_factory() as session:
        today = complete_today(session, datetime.now(UTC), zone(settings.timezone))
    for line, count in today.items():
        RECORDINGS_TODAY.labels(line).set(count)
    messages = seal_left_messages(settings.effective_recordings_dir, master_key(settings))
    return {
        "cards_settled": cards.settled,
        "records_from_cards": len(cards.created),
        "completed": report.completed,
        "repaired": report.repaired,
        "missing": report.missing,
        "messages_sealed": messages,
    }
