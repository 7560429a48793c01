"""Prompts as Asterisk sounds: espeak-ng → 8 kHz mono 16-bit WAV, cached by content hash.

A file recorded by a person, ``<sounds>/cc/recorded/<flow>/<prompt>.wav``, wins over TTS.
Rendering blocks (speech synthesis, sox), so async callers get it through a worker thread.

Why the espeak-ng command and not pyttsx3: pyttsx3 2.99's espeak driver runs espeak-ng in its
asynchronous (callback) mode but ends its loop as soon as synthesis starts, so ``runAndWait``
can return before the WAV is written, and settings race with synthesis. Seen here: files
missing, saved under the previous call's name, and a 100 wpm prompt rendered at 200 wpm
(about 1 in 20 even with one fresh process per prompt and ``espeak_Synchronize``). The
espeak-ng command is the same engine and voice, synchronous and deterministic.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import subprocess
import tempfile
import threading
import wave
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from backend.errors import CallCenterError
from backend.flows.prompts import production_flows
from backend.flows.schema import Flow, PromptText
from backend.settings import Settings

SOUND_FOLDER = "cc"
RECORDED_FOLDER = "recorded"


class TtsError(CallCenterError):
    code = "tts-failed"


@dataclass(frozen=True)
class Delivery:
    """How a prompt is spoken: words per minute and a gain factor applied by sox."""

    rate: int
    gain: float

    @property
    def sox_effects(self) -> list[str]:
        return [] if self.gain == 1.0 else ["vol", f"{self.gain:g}"]


# espeak-ng's Mandarin is slow at its default 175 wpm; 190 still sounds unhurried.
NORMAL = Delivery(rate=190, gain=1.0)
# Slower and louder for elderly callers; espeak-ng peaks near 0.75 full scale, so 1.3 stays
# clear of clipping.
ELDERLY = Delivery(rate=140, gain=1.3)


def prompt_hash(text: str, voice: str, delivery: Delivery) -> str:
    key = json.dumps([text, voice, delivery.rate, delivery.gain], ensure_ascii=False)
    return hashlib.sha256(key.encode()).hexdigest()[:20]


class TtsRenderer:
    """Implements ``ivr.flows.ports.PromptRenderer`` with the espeak-ng command."""

    def __init__(
        self,
        settings: Settings,
        *,
        normal: Delivery = NORMAL,
        elderly: Delivery = ELDERLY,
    ) -> None:
        self.voice = settings.tts_voice
        self.folder = settings.effective_sounds_dir / SOUND_FOLDER
        # Asterisk resolves relative sound names under its own astdatadir, not our sounds
        # folder, so names carry the folder as Asterisk sees it.
        self.asterisk_folder = (
            f"{settings.effective_asterisk_sounds_dir.rstrip('/')}/{SOUND_FOLDER}"
        )
        self.normal, self.elderly = normal, elderly
        self._lock = threading.Lock()  # one render at a time: two cores, shared with calls
        self._known: dict[tuple[str | None, str, str, bool], str] = {}

    # -- the PromptRenderer port -----------------------------------------------------------

    async def sound(self, prompt: PromptText, *, elderly: bool) -> str:
        key = (prompt.id, prompt.text, prompt.voice or self.voice, elderly)
        known = self._known.get(key)
        if known is not None:
            return known
        name = await asyncio.to_thread(self.render, prompt, elderly=elderly)
        self._known[key] = name
        return name

    # -- blocking rendering ----------------------------------------------------------------

    def recorded_file(self, prompt_id: str, *, elderly: bool = False) -> Path | None:
        base = self.folder / RECORDED_FOLDER
        names = (
            [f"{prompt_id}-elderly.wav", f"{prompt_id}.wav"] if elderly else [f"{prompt_id}.wav"]
        )
        for name in names:
            path = base / name
            if path.is_file():
                return path
        return None

    def render(self, prompt: PromptText, *, elderly: bool = False) -> str:
        """The Asterisk sound name for the prompt, rendering it if it is not cached yet."""
        if prompt.id is not None:
            recorded = self.recorded_file(prompt.id, elderly=elderly)
            if recorded is not None:
                relative = recorded.relative_to(self.folder).with_suffix("")
                return f"{self.asterisk_folder}/{relative.as_posix()}"
        voice = prompt.voice or self.voice
        delivery = self.elderly if elderly else self.normal
        name = f"prompt-{prompt_hash(prompt.text, voice, delivery)}"
        target = self.folder / f"{name}.wav"
        self.folder.mkdir(parents=True, exist_ok=True)
        with self._lock:
            if target.is_file():
                return f"{self.asterisk_folder}/{name}"
            with tempfile.TemporaryDirectory(dir=self.folder) as work:
                raw = Path(work) / "raw.wav"
                self._synthesize(prompt.text, voice, delivery.rate, raw)
                converted = Path(work) / "out.wav"
                self._convert(raw, converted, delivery)
                # Atomic: Asterisk never plays a half-written prompt.
                os.replace(converted, target)
        return f"{self.asterisk_folder}/{name}"

    def host_file(self, sound: str) -> Path:
        """The WAV file behind a sound name this renderer returned."""
        relative = sound.removeprefix(self.asterisk_folder + "/")
        return self.folder / f"{relative}.wav"

    def is_recorded(self, sound: str) -> bool:
        return sound.startswith(f"{self.asterisk_folder}/{RECORDED_FOLDER}/")

    def _synthesize(self, text: str, voice: str, rate: int, out: Path) -> None:
        # "--" keeps a text starting with "-" from being read as an option.
        _run(["espeak-ng", "-v", voice, "-s", str(rate), "-w", str(out), "--", text])
        if not out.is_file() or out.stat().st_size <= 44:
            raise TtsError(f"TTS produced no audio for voice {voice!r}")

    @staticmethod
    def _convert(raw: Path, out: Path, delivery: Delivery) -> None:
        _run(
            ["sox", str(raw), "-r", "8000", "-c", "1", "-b", "16", str(out), *delivery.sox_effects]
        )


def _run(command: list[str]) -> None:
    try:
        subprocess.run(command, check=True, capture_output=True, timeout=60, text=True)
    except FileNotFoundError:
        raise TtsError(f"{command[0]} is not installed") from None
    except subprocess.CalledProcessError as exc:
        reason = (exc.stderr or "").strip().splitlines()[-1:]
        raise TtsError(f"{command[0]} failed: {' '.join(reason)}") from None
    except subprocess.TimeoutExpired:
        raise TtsError(f"{command[0]} timed out") from None


def flow_prompts(flow: Flow) -> Iterable[PromptText]:
    for prompt_id, text in flow.prompts.items():
        yield PromptText(f"{flow.name}/{prompt_id}", text, flow.voice)


@dataclass(frozen=True)
class BuildReport:
    rendered: int  # sounds that exist now (TTS or recorded), both deliveries
    recorded: int  # of which a recorded file overrides TTS
    sounds: tuple[str, ...]


def build_all_prompts(
    flows: Iterable[Flow], settings: Settings, *, renderer: TtsRenderer | None = None
) -> BuildReport:
    """Render every prompt of every flow, normal and elderly (``callcenter prompts build``)."""
    renderer = renderer or TtsRenderer(settings)
    sounds: list[str] = []
    recorded = 0
    for flow in flows:
        for prompt in flow_prompts(flow):
            for elderly in (False, True):
                name = renderer.render(prompt, elderly=elderly)
                recorded += renderer.is_recorded(name)
                sounds.append(name)
    return BuildReport(rendered=len(sounds), recorded=recorded, sounds=tuple(sounds))


def build_prompts(settings: Settings) -> int:
    return build_all_prompts(production_flows(settings).values(), settings).rendered


def prompt_seconds(
    settings: Settings, line: str, prompt_id: str, *, elderly: bool = False
) -> float:
    """How long a flow's prompt plays (renders it if needed): callers time their keys by it."""
    flow = production_flows(settings)[line]
    renderer = TtsRenderer(settings)
    sound = renderer.render(
        PromptText(f"{flow.name}/{prompt_id}", flow.prompts[prompt_id], flow.voice)
    )
    with wave.open(str(renderer.host_file(sound))) as audio:
        return audio.getnframes() / audio.getframerate()
