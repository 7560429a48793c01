"""Recordings made as a call makes them: registered, written as Asterisk writes them, then
completed (and sealed) by the recordings index."""

from __future__ import annotations

import asyncio
import math
import struct
import wave
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from backend.models.calls import CallRecord, Recording, RecordingStatus
from backend.settings import Settings
from recordings.index import RecordingIndex
from reports.periods import ReportFilter
from reports.recording_report import missing_recordings

ASTERISK_ROOT = "/var/spool/asterisk/recording"


def write_tone(path: Path, seconds: float, hz: float = 440.0) -> bytes:
    """A WAV of a tone (not a repeating byte: a leak of it is recognisable)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    frames = b"".join(
        struct.pack("<h", int(8000 * math.sin(2 * math.pi * hz * i / 8000)))
        for i in range(int(seconds * 8000))
    )
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(8000)
        wav.writeframes(frames)
    return path.read_bytes()


def recorded_call(
    factory: sessionmaker[Session],
    settings: Settings,
    root: Path,
    call_id: str,
    seconds: float = 5.0,
    day: str = "2026/11/25",
) -> tuple[int, bytes]:
    """The recording id and the WAV as recorded; the file below ``root`` is sealed."""
    index = RecordingIndex(
        factory,
        settings.model_copy(
            update={"asterisk_recordings_dir": ASTERISK_ROOT, "recordings_dir": root}
        ),
    )
    recording_id = index.register(call_id, f"{ASTERISK_ROOT}/{day}/{call_id}.wav", "114")
    original = write_tone(root / day / f"{call_id}.wav", seconds)
    assert index.finish(call_id, wait_seconds=0)
    return recording_id, original


async def recorded_once(
    factory: sessionmaker[Session], call_id: str, timeout: float = 30
) -> Recording:
    """The call's one closed record, with its one indexed recording linked and complete, and
    the call not among the recording report's "calls lacking a recording"; the recording."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        with factory() as db:
            record = db.scalars(select(CallRecord).where(CallRecord.call_id == call_id)).one()
            recordings = db.scalars(select(Recording).where(Recording.call_id == call_id)).all()
        done = [r for r in recordings if r.status is RecordingStatus.COMPLETE]
        if record.ended_at is not None and done:
            break
        assert loop.time() < deadline, f"{call_id}: {record.ended_at}, {recordings}"
        await asyncio.sleep(0.5)
    (recording,) = recordings
    assert record.recording_id == recording.id
    today = date.today()
    with factory() as db:
        window = ReportFilter(today - timedelta(days=1), today + timedelta(days=1))
        lacking = {row[0] for row in missing_recordings(db, window)}
    assert call_id not in lacking
    return recording
