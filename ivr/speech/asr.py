"""Intent capture with vosk in grammar mode over the phrases of the current menu.

FastAGI cannot stream audio, so the engine records the utterance with RECORD FILE (silence
detection ends it) and this module decodes the WAV in a worker thread. Free-form decoding of
short telephone utterances is unreliable; a grammar of the menu's phrases is not.
"""

from __future__ import annotations

import asyncio
import functools
import json
import re
import wave
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from backend.errors import ConfigError
from backend.settings import Settings
from ivr.flows.ports import CallInfo, Recognition

SAMPLE_RATE = 8000
UNKNOWN = "[unk]"
CHUNK_FRAMES = 4000


class AudioFormatError(ValueError):
    """The utterance is not 8 kHz mono 16-bit PCM."""


@functools.cache
def load_model(path: Path) -> Any:
    """The vosk model at ``path``, loaded once per process (hundreds of MB, seconds to load)."""
    import vosk  # imported late: the controller may run without ASR

    vosk.SetLogLevel(-1)
    if not (path / "am").is_dir() and not (path / "conf").is_dir():
        raise ConfigError("asr_model_path", f"{path} is not a vosk model directory")
    return vosk.Model(str(path))


# The longest word tried when a phrase is split into the model's words.
LONGEST_WORD = 6


def in_vocabulary(model: Any, phrase: str) -> str | None:
    """``phrase`` as words of the model's vocabulary, space-separated, or None if some part
    of it is not in the vocabulary.

    A grammar's phrases are split on spaces and a word the model does not know is dropped
    with a warning: Chinese is written without spaces, so "预约挂号" would be one unknown
    word to a model whose vocabulary has "预约" and "挂号". Each part is matched longest
    word first, as a Chinese word segmenter would.
    """
    words: list[str] = []
    for part in phrase.split():
        if model.vosk_model_find_word(part) >= 0:
            words.append(part)
            continue
        start = 0
        while start < len(part):
            for end in range(min(len(part), start + LONGEST_WORD), start, -1):
                if model.vosk_model_find_word(part[start:end]) >= 0:
                    words.append(part[start:end])
                    start = end
                    break
            else:
                return None
    return " ".join(words) or None


def grammar_phrases(model: Any, phrases: Sequence[str]) -> list[str]:
    """The phrases the model can hear, in its own words (others could never be matched)."""
    spelled = (in_vocabulary(model, phrase) for phrase in phrases)
    return list(dict.fromkeys(p for p in spelled if p))


def decode(model: Any, wav_path: Path, phrases: Sequence[str]) -> Recognition | None:
    """Blocking: the best phrase heard in the WAV and its mean word confidence, or None."""
    import vosk

    grammar = json.dumps([*grammar_phrases(model, phrases), UNKNOWN], ensure_ascii=False)
    recognizer = vosk.KaldiRecognizer(model, SAMPLE_RATE, grammar)
    recognizer.SetWords(True)
    with wave.open(str(wav_path), "rb") as audio:
        if (audio.getframerate(), audio.getnchannels(), audio.getsampwidth()) != (8000, 1, 2):
            raise AudioFormatError(
                f"{wav_path.name}: {audio.getframerate()} Hz, {audio.getnchannels()} channel(s), "
                f"{8 * audio.getsampwidth()} bit; expected 8000 Hz mono 16 bit"
            )
        while chunk := audio.readframes(CHUNK_FRAMES):
            recognizer.AcceptWaveform(chunk)
    result = json.loads(recognizer.FinalResult())
    words = [w for w in result.get("result", []) if w.get("word") != UNKNOWN]
    text = " ".join(w["word"] for w in words).strip()
    if not text:
        return None
    confidence = sum(float(w.get("conf", 0.0)) for w in words) / len(words)
    return Recognition(text=text, confidence=round(confidence, 3))


_SAFE = re.compile(r"[^A-Za-z0-9_.-]")


class VoskRecognizer:
    """Implements ``ivr.flows.ports.SpeechRecognizer`` for utterances Asterisk records."""

    def __init__(self, settings: Settings, model_path: Path | None = None) -> None:
        path = model_path or settings.asr_model_path
        if path is None:
            raise ConfigError("asr_model_path", "is not set; speech capture needs a vosk model")
        self.model_path = path
        self.settings = settings
        self.asterisk_dir = f"{settings.effective_asterisk_recordings_dir}/utterances"

    def load(self) -> None:
        """Load the model now (blocking, seconds), so that the first caller does not wait."""
        load_model(self.model_path)

    def utterance_path(self, call: CallInfo, node: str) -> str:
        name = _SAFE.sub("_", f"{call.unique_id}-{node}")
        path = f"{self.asterisk_dir}/{name}"
        # RECORD FILE does not create folders.
        self.host_file(path).parent.mkdir(parents=True, exist_ok=True)
        return path

    def host_file(self, utterance_path: str) -> Path:
        return self.settings.host_path(utterance_path + ".wav")

    async def recognize(self, utterance_path: str, phrases: Sequence[str]) -> Recognition | None:
        wav = self.host_file(utterance_path)
        if not wav.is_file():
            return None
        return await asyncio.to_thread(self._decode, wav, phrases)

    def _decode(self, wav: Path, phrases: Sequence[str]) -> Recognition | None:
        try:
            return decode(load_model(self.model_path), wav, phrases)
        finally:
            # A caller's voice is personal data: the utterance is not kept once decoded.
            wav.unlink(missing_ok=True)
