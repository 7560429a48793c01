"""Tones to put on a line and to find again in a recording.

    wav = sine_wav(tmp / "f2.wav", 700, seconds=30)        # 8 kHz mono 16-bit, for baresip
    pcap = caller_pcap(tmp / "call.pcap", 700, seconds=30,   # PCMA RTP for SIPp, keys included
                       keys=[KeyPress("1", at=6.5)])
    assert holds_tone(recording, 700)        # 20 times the reference band's level or more

Frequencies are best chosen apart from each other and from the prompts' and music's main
energy; ``tone_band`` gives the ±40 Hz band used to look for one.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Sequence
from pathlib import Path

from tests.sip.pcap import write_pcap
from tests.sip.rtp import RATE, KeyPress, audio_and_keys

SOX = "sox"
# -6 dBFS: loud enough to stand out after A-law and mixing, far from clipping.
TONE_GAIN = 0.5


def sine_wav(path: Path, hz: float, *, seconds: float, rate: int = RATE) -> Path:
    """A mono 16-bit WAV of a sine tone at ``hz``."""
    _sox(
        "-n",
        "-r",
        str(rate),
        "-c",
        "1",
        "-b",
        "16",
        str(path),
        "synth",
        f"{seconds:g}",
        "sine",
        f"{hz:g}",
        "vol",
        f"{TONE_GAIN:g}",
    )
    return path


def alaw_bytes(wav: Path) -> bytes:
    """The WAV as raw A-law at 8 kHz mono (sox converts rate and channels as needed)."""
    result = subprocess.run(
        [SOX, str(wav), "-r", str(RATE), "-c", "1", "-t", "al", "-"],
        capture_output=True,
        check=True,
    )
    return result.stdout


def caller_pcap(path: Path, hz: float, *, seconds: float, keys: Sequence[KeyPress] = ()) -> Path:
    """PCMA RTP of a ``hz`` tone lasting ``seconds``, RFC 4733 ``keys`` at their offsets."""
    wav = sine_wav(path.with_suffix(".wav"), hz, seconds=seconds)
    return write_pcap(path, audio_and_keys(alaw_bytes(wav), keys=keys))


def tone_band(hz: float) -> tuple[float, float]:
    return hz - 40, hz + 40


def band_rms(wav: Path, low: float, high: float) -> float:
    """RMS amplitude (0..1) of ``wav`` band-passed to ``low``-``high`` Hz (sox sinc + stat)."""
    result = subprocess.run(
        [SOX, str(wav), "-n", "sinc", f"{low:g}-{high:g}", "stat"],
        capture_output=True,
        text=True,
        check=True,
    )
    match = re.search(r"RMS\s+amplitude:\s+([0-9.]+)", result.stderr)
    if match is None:
        raise RuntimeError(f"sox stat printed no RMS amplitude for {wav}: {result.stderr}")
    return float(match.group(1))


def tone_rms(wav: Path, hz: float) -> float:
    return band_rms(wav, *tone_band(hz))


# A band no tone of the tests is put in: what a recording holds there is its noise floor
# (speech of the prompts, music on hold), against which a tone is measured.
REFERENCE_BAND = (1900.0, 1980.0)


def tone_to_floor(wav: Path, hz: float) -> float:
    """How many times the ``hz`` tone's band is louder than the reference band."""
    return tone_rms(wav, hz) / max(band_rms(wav, *REFERENCE_BAND), 1e-6)


def holds_tone(wav: Path, hz: float, *, ratio: float = 20.0) -> bool:
    """The recording holds the tone: its band at least ``ratio`` times the reference band's.

    20 (26 dB) is far above what speech or music put in a 80 Hz band; a tone heard only for
    a part of a long recording full of prompts may need less (say why where you lower it).
    """
    return tone_to_floor(wav, hz) >= ratio


def _sox(*args: str) -> None:
    subprocess.run([SOX, *args], capture_output=True, check=True)
