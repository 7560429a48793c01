"""`callcenter prompts build`: render every prompt of the production flows."""

from __future__ import annotations

from backend.settings import Settings
from ivr.flows.loader import load_flows
from ivr.speech.tts import build_all_prompts

PRODUCTION_FLOWS = ("114", "hotline")


def build_prompts(settings: Settings) -> int:
    flows = load_flows(names=PRODUCTION_FLOWS)
    return build_all_prompts(flows.values(), settings).rendered
