"""G.711 A-law (PCMA), the codec of the carrier trunk, decoded to 16-bit linear samples.

Encoding is left to sox (``sox tone.wav -t al tone.alaw``); decoding is needed on the fly, for
the RTP a caller receives, so it lives here as a 256-entry table (ITU-T G.711, as in the
reference ``alaw2linear``).

    >>> alaw_to_linear(bytes([0xD5, 0x55]))
    [8, -8]
"""

from __future__ import annotations


def _decode(code: int) -> int:
    code ^= 0x55  # even bits are inverted on the wire
    magnitude = (code & 0x0F) << 4
    segment = (code & 0x70) >> 4
    if segment == 0:
        magnitude += 8
    else:
        magnitude = (magnitude + 0x108) << (segment - 1)
    return magnitude if code & 0x80 else -magnitude


ALAW_TO_LINEAR: tuple[int, ...] = tuple(_decode(code) for code in range(256))
# A-law's code for digital silence (the smallest positive level).
ALAW_SILENCE = 0xD5


def alaw_to_linear(payload: bytes) -> list[int]:
    """16-bit samples of an A-law payload (one byte per sample)."""
    return [ALAW_TO_LINEAR[byte] for byte in payload]
