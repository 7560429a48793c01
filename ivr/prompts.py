"""`callcenter prompts build`: render every prompt of the production flows."""

from __future__ import annotations

import wave

from backend.settings import Settings
from ivr.flows.loader import load_flows
from ivr.flows.ports import PromptText
from ivr.speech.tts import TtsRenderer, build_all_prompts

PRODUCTION_FLOWS = ("114", "hotline")


def build_prompts(settings: Settings) -> int:
    flows = load_flows(names=PRODUCTION_FLOWS)
    return build_all_prompts(flows.values(), settings).rendered


def prompt_seconds(
    settings: Settings, line: str, prompt_id: str, *, elderly: bool = False
) -> float:
    """How long a flow's prompt plays (renders it if needed): callers time their keys by it."""
    flow = load_flows(names=PRODUCTION_FLOWS)[line]
    renderer = TtsRenderer(settings)
    sound = renderer.render(
        PromptText(f"{flow.name}/{prompt_id}", flow.prompts[prompt_id], flow.voice)
    )
    with wave.open(str(renderer.host_file(sound))) as audio:
        return audio.getnframes() / audio.getframerate()
