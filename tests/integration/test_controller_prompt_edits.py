"""A prompt text an administrator edits in the desk is what the next caller hears."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from backend.flows.prompt_texts import overrides_path, save_override
from backend.settings import Settings
from ivr.main import build_controller
from tests.controller_support import DialplanFallbackQueue


def test_edited_prompt_reaches_the_next_call_without_a_restart(
    settings: Settings, session_factory: sessionmaker[Session], tmp_path: Path
) -> None:
    local = settings.model_copy(update={"state_dir": tmp_path})
    controller = build_controller(local, session_factory, DialplanFallbackQueue())
    original = controller.engines["114"].flow.prompts["welcome"]
    assert "114" in original

    save_override(overrides_path(local), "114/welcome", "您好，这里是北京114，春节期间照常服务。")
    controller.refresh()  # what every call does first
    assert (
        controller.engines["114"].flow.prompts["welcome"]
        == "您好，这里是北京114，春节期间照常服务。"
    )
    assert controller.engines["hotline"].flow.prompts["welcome"] != ""

    save_override(overrides_path(local), "114/welcome", None)  # back to the default
    controller.refresh()
    assert controller.engines["114"].flow.prompts["welcome"] == original
