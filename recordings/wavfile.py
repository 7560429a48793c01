"""WAV files as Asterisk's MixMonitor leaves them.

Asterisk writes a RIFF header with zero sizes when it opens a recording and fills in the sizes
only when it closes the file. So a header whose sizes do not match the file means either
"still being written" or, if the writer is gone (a crash), "broken but holding good audio",
which ``repair`` fixes in place by writing the sizes the file really has.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path

RIFF_HEADER = struct.Struct("<4sI4s")
CHUNK_HEADER = struct.Struct("<4sI")
HEAD_BYTES = 4096


class NotAWavFile(ValueError):
    pass


@dataclass(frozen=True)
class WavLayout:
    file_size: int
    riff_size: int  # as written in the header
    data_offset: int  # where the audio samples start
    data_size: int  # as written in the header
    byte_rate: int
    channels: int
    sample_rate: int
    bits_per_sample: int

    @property
    def complete(self) -> bool:
        """The header's sizes agree with the file: Asterisk has closed it."""
        return (
            self.riff_size == self.file_size - 8
            and self.data_size == self.file_size - self.data_offset
        )

    @property
    def audio_bytes(self) -> int:
        return self.file_size - self.data_offset

    @property
    def duration_seconds(self) -> float:
        """From the bytes on disk, so it is right even when the header is not."""
        return self.audio_bytes / self.byte_rate if self.byte_rate else 0.0


def read_layout(path: Path) -> WavLayout:
    with open(path, "rb") as wav:
        head = wav.read(HEAD_BYTES)
        file_size = wav.seek(0, 2)
    return parse_layout(head, file_size, path)


def parse_layout(head: bytes, file_size: int, path: Path) -> WavLayout:
    """The layout from the file's first ``HEAD_BYTES`` (read from disk, or decrypted)."""
    if len(head) < RIFF_HEADER.size:
        raise NotAWavFile(f"{path}: too short for a WAV header")
    riff, riff_size, wave_tag = RIFF_HEADER.unpack_from(head)
    if riff != b"RIFF" or wave_tag != b"WAVE":
        raise NotAWavFile(f"{path}: not a RIFF/WAVE file")
    offset = RIFF_HEADER.size
    fmt: tuple[int, int, int, int] | None = None
    while offset + CHUNK_HEADER.size <= len(head):
        chunk_id, chunk_size = CHUNK_HEADER.unpack_from(head, offset)
        body = offset + CHUNK_HEADER.size
        if chunk_id == b"fmt ":
            _, channels, rate, byte_rate, _, bits = struct.unpack_from("<HHIIHH", head, body)
            fmt = (channels, rate, byte_rate, bits)
        elif chunk_id == b"data":
            if fmt is None:
                raise NotAWavFile(f"{path}: data chunk before fmt chunk")
            channels, rate, byte_rate, bits = fmt
            return WavLayout(
                file_size, riff_size, body, chunk_size, byte_rate, channels, rate, bits
            )
        offset = body + chunk_size + (chunk_size & 1)
    raise NotAWavFile(f"{path}: no data chunk in the first 4 KiB")


def repair(path: Path) -> bool:
    """Write the real sizes into a header a crash left wrong. Returns True if it changed."""
    layout = read_layout(path)
    if layout.complete:
        return False
    with open(path, "r+b") as wav:
        wav.seek(4)
        wav.write(struct.pack("<I", layout.file_size - 8))
        wav.seek(layout.data_offset - 4)
        wav.write(struct.pack("<I", layout.audio_bytes))
    return True
