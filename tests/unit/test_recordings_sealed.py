"""Sealed recordings: no audio left on disk, exact bytes back (whole or a range), a crash
while sealing loses nothing, and an edited, cut or swapped file is refused."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from backend.personal_data import PersonalDataCipher
from backend.settings import DEV_DATA_KEY
from recordings import sealed
from recordings.sealed import RecordingTampered, SealedReader, is_sealed, leftovers, seal
from tests.recording_support import write_tone

MASTER = PersonalDataCipher(DEV_DATA_KEY)
CHUNK = 1000  # small chunks, so short files have many


def speech_like(path: Path, seconds: float = 1.5) -> bytes:
    return write_tone(path, seconds)


def test_sealed_file_holds_no_wav_header_or_audio_and_reads_back_exactly(tmp_path: Path) -> None:
    path = tmp_path / "call.wav"
    original = speech_like(path)
    result = seal(path, MASTER, CHUNK)

    on_disk = path.read_bytes()  # the attacker reads the file directly
    assert b"RIFF" not in on_disk and b"WAVE" not in on_disk and b"fmt " not in on_disk
    audio = original[44:]
    samples = [audio[i : i + 32] for i in range(0, len(audio) - 32, 997)]
    assert not any(sample in on_disk for sample in samples)
    assert is_sealed(path) and leftovers(path) == []

    reader = SealedReader(path, MASTER)
    assert reader.size == len(original) == result.plain_size
    assert reader.read_all() == original
    assert reader.digest() == result


def test_any_range_needs_only_its_chunks_and_gives_the_original_bytes(tmp_path: Path) -> None:
    path = tmp_path / "call.wav"
    original = speech_like(path)
    seal(path, MASTER, CHUNK)
    reader = SealedReader(path, MASTER)
    pick = random.Random(7)
    cases: list[tuple[int, int | None]] = [(0, 0), (999, 1000), (1000, 1999), (5, 10**9)]
    cases.append((len(original) - 1, None))
    for _ in range(40):
        low, high = sorted(pick.sample(range(len(original)), 2))
        cases.append((low, high))
    for start, end in cases:
        stop = len(original) if end is None else end + 1
        assert b"".join(reader.read_range(start, end)) == original[start:stop]


def test_sealing_again_does_nothing(tmp_path: Path) -> None:
    path = tmp_path / "call.wav"
    original = speech_like(path)
    first = seal(path, MASTER, CHUNK)
    sealed_bytes = path.read_bytes()
    assert seal(path, MASTER, CHUNK) == first
    assert path.read_bytes() == sealed_bytes
    assert SealedReader(path, MASTER).read_all() == original


class Crash(BaseException):
    """The process dies at this point (nothing after it runs)."""


def test_a_crash_before_the_rename_leaves_the_recording_and_sealing_again_finishes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "call.wav"
    original = speech_like(path)

    def crash(*_: object) -> None:
        raise Crash()

    monkeypatch.setattr(sealed.os, "replace", crash)
    with pytest.raises(Crash):
        seal(path, MASTER, CHUNK)
    monkeypatch.undo()
    assert path.read_bytes() == original  # nothing lost
    (half,) = leftovers(path)
    assert b"RIFF" not in half.read_bytes()  # the leftover is ciphertext only

    seal(path, MASTER, CHUNK)
    assert SealedReader(path, MASTER).read_all() == original


def test_an_empty_recording_seals_and_reads_back_empty(tmp_path: Path) -> None:
    path = tmp_path / "empty.wav"
    path.write_bytes(b"")
    seal(path, MASTER, CHUNK)
    assert SealedReader(path, MASTER).read_all() == b""


def sealed_file(tmp_path: Path) -> tuple[Path, bytes]:
    path = tmp_path / "call.wav"
    original = speech_like(path)
    seal(path, MASTER, CHUNK)
    return path, original


def header_length(path: Path) -> int:
    return len(SealedReader(path, MASTER).header.encode())


def test_an_edited_chunk_is_refused_where_it_is_read(tmp_path: Path) -> None:
    path, original = sealed_file(tmp_path)
    data = bytearray(path.read_bytes())
    data[header_length(path) + 2 * (CHUNK + 16) + 5] ^= 0x01  # a bit in the third chunk
    path.write_bytes(bytes(data))
    reader = SealedReader(path, MASTER)
    assert b"".join(reader.read_range(0, 999)) == original[:1000]  # first chunk untouched
    with pytest.raises(RecordingTampered, match="第 3 段内容被改动"):
        reader.read_all()


def test_swapped_chunks_a_changed_header_and_a_cut_file_are_refused(tmp_path: Path) -> None:
    path, _ = sealed_file(tmp_path)
    good = path.read_bytes()
    start = header_length(path)
    size = CHUNK + 16
    first, second = good[start : start + size], good[start + size : start + 2 * size]
    path.write_bytes(good[:start] + second + first + good[start + 2 * size :])
    with pytest.raises(RecordingTampered):
        SealedReader(path, MASTER).read_all()

    edited = bytearray(good)
    edited[12] ^= 0x01  # the plaintext size in the header
    path.write_bytes(bytes(edited))
    with pytest.raises(RecordingTampered, match="文件长度不符"):
        SealedReader(path, MASTER)

    path.write_bytes(good[:-size])  # the last chunk cut off
    with pytest.raises(RecordingTampered):
        SealedReader(path, MASTER)


def test_another_master_key_cannot_open_it(tmp_path: Path) -> None:
    path, _ = sealed_file(tmp_path)
    stranger = PersonalDataCipher(Fernet.generate_key().decode())
    with pytest.raises(RecordingTampered, match="数据密钥无法用主密钥"):
        SealedReader(path, stranger)


def test_a_plaintext_file_is_not_read_as_sealed(tmp_path: Path) -> None:
    path = tmp_path / "call.wav"
    speech_like(path)
    assert not is_sealed(path)
    with pytest.raises(RecordingTampered, match="不是加密录音"):
        SealedReader(path, MASTER)
