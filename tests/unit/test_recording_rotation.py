"""A new master key: every recording's data key is re-wrapped under it, the audio chunks are
copied untouched, and the old key can then be dropped."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from backend.personal_data import PersonalDataCipher
from recordings.rotation import rewrap_all
from recordings.sealed import RecordingTampered, SealedReader, seal, wrapped_under
from tests.recording_support import write_tone

OLD, NEW = Fernet.generate_key().decode(), Fernet.generate_key().decode()


def chunks_of(path: Path, master: PersonalDataCipher) -> bytes:
    return path.read_bytes()[len(SealedReader(path, master).header.encode()) :]


def test_rotation_rewraps_every_recording_and_the_old_key_can_go(tmp_path: Path) -> None:
    old, both, new = (PersonalDataCipher(k) for k in (OLD, f"{NEW},{OLD}", NEW))
    calls = [tmp_path / "2026/12/01" / f"call-{i}.wav" for i in range(3)]
    audio = [write_tone(path, 0.5 + i) for i, path in enumerate(calls)]
    for path in calls:
        seal(path, old)
    message = tmp_path / "messages/2026/12/01/m.wav"
    message_audio = write_tone(message, 1.0)
    seal(message, both)  # left after every process had the new key: under it already
    untouched = message.read_bytes()
    audio_before = [chunks_of(path, old) for path in calls]

    report = rewrap_all(tmp_path, both)

    assert (report.rewrapped, report.refused) == (3, 0)
    assert message.read_bytes() == untouched
    for path, original, before in zip(calls, audio, audio_before, strict=True):
        assert wrapped_under(path) == new.current_key_id
        assert chunks_of(path, new) == before  # the audio was copied, not re-encrypted
        assert SealedReader(path, new).read_all() == original
    assert SealedReader(message, new).read_all() == message_audio
    assert rewrap_all(tmp_path, both).rewrapped == 0
    with pytest.raises(RecordingTampered, match="数据密钥无法用主密钥"):
        SealedReader(calls[0], old)  # the old key alone no longer opens it


def test_a_recording_under_a_key_no_longer_listed_is_counted_not_lost(tmp_path: Path) -> None:
    path = tmp_path / "call.wav"
    write_tone(path, 0.5)
    seal(path, PersonalDataCipher(OLD))
    before = path.read_bytes()
    report = rewrap_all(tmp_path, PersonalDataCipher(NEW))
    assert (report.rewrapped, report.refused) == (0, 1)
    assert path.read_bytes() == before
