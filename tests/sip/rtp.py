"""RTP packets (RFC 3550) carrying PCMA audio and RFC 4733 telephone events (DTMF).

Pure functions, no sockets: ``audio_and_keys`` lays out the packets a phone sends in one call
(the tone, interrupted by the keys at their offsets), ``parse`` reads a received packet.

    >>> packets = audio_and_keys(b"\\xd5" * 16000, keys=[KeyPress("1", at=0.5)])
    >>> [p.payload_type for p in packets[24:27]]
    [8, 101, 101]
"""

from __future__ import annotations

import random
import struct
from collections.abc import Sequence
from dataclasses import dataclass

from tests.sip.g711 import ALAW_SILENCE

PCMA = 8
TELEPHONE_EVENT = 101  # the dynamic payload type our SDP offers for telephone-event/8000
RATE = 8000
FRAME = 160  # samples (and bytes of PCMA) in 20 ms
FRAME_SECONDS = FRAME / RATE
EVENT_CODES = {**{str(d): d for d in range(10)}, "*": 10, "#": 11, "A": 12, "B": 13, "C": 14}
EVENT_CODES["D"] = 15
KEY_SECONDS = 0.2  # how long each key is held: Asterisk's own SendDTMF default is 100 ms
END_REPEATS = 3  # RFC 4733 2.5.1.4: the end packet is sent three times


@dataclass(frozen=True)
class KeyPress:
    """A key pressed ``at`` seconds after the audio starts."""

    key: str
    at: float

    def __post_init__(self) -> None:
        if self.key not in EVENT_CODES:
            raise ValueError(f"no RFC 4733 event for key {self.key!r}")
        if self.at < 0:
            raise ValueError("a key cannot be pressed before the audio starts")


@dataclass(frozen=True)
class RtpPacket:
    payload_type: int
    sequence: int
    timestamp: int
    ssrc: int
    payload: bytes
    marker: bool = False

    def encode(self) -> bytes:
        first = 0x80  # version 2, no padding, no extension, no CSRC
        second = (0x80 if self.marker else 0) | self.payload_type
        header = struct.pack("!BBHII", first, second, self.sequence, self.timestamp, self.ssrc)
        return header + self.payload


def parse(data: bytes) -> RtpPacket | None:
    """The packet in ``data``, or None if it is not RTP version 2."""
    if len(data) < 12 or data[0] >> 6 != 2:
        return None
    first, second, sequence, timestamp, ssrc = struct.unpack("!BBHII", data[:12])
    start = 12 + 4 * (first & 0x0F)
    if first & 0x10:  # header extension: 4-byte header whose length is in 32-bit words
        if len(data) < start + 4:
            return None
        start += 4 + 4 * struct.unpack("!H", data[start + 2 : start + 4])[0]
    end = len(data) - (data[-1] if first & 0x20 else 0)
    return RtpPacket(second & 0x7F, sequence, timestamp, ssrc, data[start:end], bool(second & 0x80))


def event_payload(key: str, *, duration: int, end: bool) -> bytes:
    volume = 10  # -10 dBm0, a typical keypad level
    return struct.pack("!BBH", EVENT_CODES[key], (0x80 if end else 0) | volume, duration)


def audio_and_keys(
    alaw: bytes, *, keys: Sequence[KeyPress] = (), ssrc: int | None = None
) -> list[RtpPacket]:
    """The packets of one 20 ms-paced stream: ``alaw`` audio, keys replacing it where pressed.

    While a key is held no audio is sent (as phones do), and the audio that resumes carries
    on from where the key left it, so the stream keeps one SSRC and gap-free sequence
    numbers: Asterisk sees one continuous call. Packet ``i`` is due at ``i * 20 ms``.
    """
    ssrc = random.getrandbits(32) if ssrc is None else ssrc
    frames = [
        alaw[i : i + FRAME].ljust(FRAME, bytes([ALAW_SILENCE])) for i in range(0, len(alaw), FRAME)
    ]
    pending = sorted(keys, key=lambda k: k.at)
    packets: list[RtpPacket] = []
    seq = random.getrandbits(16)
    slot = 0  # 20 ms slots since the start
    frame_index = 0

    def add(payload_type: int, timestamp: int, payload: bytes, marker: bool = False) -> None:
        nonlocal seq
        packets.append(
            RtpPacket(payload_type, seq & 0xFFFF, timestamp & 0xFFFFFFFF, ssrc, payload, marker)
        )
        seq += 1

    base = random.getrandbits(32)
    while frame_index < len(frames) or pending:
        if pending and pending[0].at <= slot * FRAME_SECONDS:
            key = pending.pop(0).key
            start = base + slot * FRAME
            held = max(1, round(KEY_SECONDS / FRAME_SECONDS))
            for n in range(1, held + 1):
                add(
                    TELEPHONE_EVENT,
                    start,
                    event_payload(key, duration=n * FRAME, end=False),
                    n == 1,
                )
            for _ in range(END_REPEATS):
                add(TELEPHONE_EVENT, start, event_payload(key, duration=held * FRAME, end=True))
            slot += held + END_REPEATS
            continue
        frame = frames[frame_index] if frame_index < len(frames) else bytes([ALAW_SILENCE]) * FRAME
        add(PCMA, base + slot * FRAME, frame)
        frame_index += 1
        slot += 1
    return packets
