"""WAV headers: complete, still being written, and repaired after a crash."""

from __future__ import annotations

import struct
import wave
from pathlib import Path

import pytest

from recordings.wavfile import NotAWavFile, read_layout, repair


def write_wav(path: Path, seconds: float, rate: int = 8000) -> None:
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(rate)
        wav.writeframes(b"\x01\x00" * int(seconds * rate))


def zero_sizes(path: Path) -> None:
    """What Asterisk leaves when it dies before closing the file."""
    layout = read_layout(path)
    with open(path, "r+b") as f:
        f.seek(4)
        f.write(struct.pack("<I", 0))
        f.seek(layout.data_offset - 4)
        f.write(struct.pack("<I", 0))


def test_closed_file_is_complete_with_its_duration(tmp_path: Path) -> None:
    path = tmp_path / "a.wav"
    write_wav(path, 2.5)
    layout = read_layout(path)
    assert layout.complete
    assert layout.duration_seconds == pytest.approx(2.5)


def test_file_with_zero_sizes_is_not_complete_and_is_repaired(tmp_path: Path) -> None:
    path = tmp_path / "b.wav"
    write_wav(path, 3.0)
    zero_sizes(path)
    assert not read_layout(path).complete
    assert repair(path) is True
    assert read_layout(path).complete
    with wave.open(str(path)) as wav:  # a standard reader now plays all of it
        assert wav.getnframes() == 24000
    assert repair(path) is False


def test_non_wav_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "c.wav"
    path.write_bytes(b"ID3" + b"\x00" * 100)
    with pytest.raises(NotAWavFile):
        read_layout(path)
