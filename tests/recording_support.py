"""Recordings made as a call makes them: registered, written as Asterisk writes them, then
completed (and sealed) by the recordings index."""

from __future__ import annotations

import math
import struct
import wave
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from backend.settings import Settings
from recordings.index import RecordingIndex

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
