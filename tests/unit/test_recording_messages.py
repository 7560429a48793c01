"""Messages left by citizens are sealed; what a crashed controller left in clear, the sweep
seals once the file has settled."""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from backend.personal_data import PersonalDataCipher
from backend.settings import DEV_DATA_KEY
from recordings.messages import seal_left_messages, seal_message
from recordings.sealed import SealedReader, is_sealed
from tests.recording_support import write_tone

MASTER = PersonalDataCipher(DEV_DATA_KEY)


def left(root: Path, day: datetime, name: str, minutes_ago: float) -> tuple[Path, bytes]:
    path = root / "messages" / f"{day:%Y/%m/%d}" / name
    audio = write_tone(path, 0.5)
    at = time.time() - minutes_ago * 60
    os.utime(path, (at, at))
    return path, audio


def test_a_message_is_sealed_where_it_was_left(tmp_path: Path) -> None:
    path, audio = left(tmp_path, datetime.now(UTC), "m1.wav", 0)
    assert seal_message(tmp_path, str(path.relative_to(tmp_path)), MASTER)
    assert b"RIFF" not in path.read_bytes()
    assert SealedReader(path, MASTER).read_all() == audio
    assert not seal_message(tmp_path, "../outside.wav", MASTER)  # refused, logged, kept going


def test_the_sweep_seals_settled_plaintext_messages_of_the_last_two_days(tmp_path: Path) -> None:
    now = datetime.now(UTC)
    crashed, audio = left(tmp_path, now, "crashed.wav", 10)
    yesterday, _ = left(tmp_path, now - timedelta(days=1), "late.wav", 60 * 20)
    still_recording, _ = left(tmp_path, now, "live.wav", 0)
    sealed_already, _ = left(tmp_path, now, "done.wav", 10)
    seal_message(tmp_path, str(sealed_already.relative_to(tmp_path)), MASTER)
    os.utime(sealed_already, (time.time() - 600, time.time() - 600))
    before = sealed_already.read_bytes()

    assert seal_left_messages(tmp_path, MASTER, now) == 2
    assert is_sealed(crashed) and is_sealed(yesterday)
    assert SealedReader(crashed, MASTER).read_all() == audio
    assert not is_sealed(still_recording)  # RECORD FILE may still be writing it
    assert sealed_already.read_bytes() == before
    assert seal_left_messages(tmp_path, MASTER, now) == 0
