"""IVR prompt texts edited by administrators: overrides of the flows' YAML texts, kept in
one JSON file under the state directory and rendered to sound at once on save.

The flows' files are package data (reviewed with the code); an override changes only the
words, never the flow. The controller applies :func:`load_overrides` when it loads its flows
(``apply_overrides``), and the sound is already in the cache when the first caller hears it.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from backend.errors import NotFound
from backend.flows.schema import Flow
from backend.settings import Settings

FILE_NAME = "prompt_texts.json"


@dataclass(frozen=True)
class PromptRow:
    id: str  # "<flow>/<prompt>"
    line: str
    default: str  # the text in the flow's YAML
    text: str  # what callers hear now

    @property
    def overridden(self) -> bool:
        return self.text != self.default


def overrides_path(settings: Settings) -> Path:
    return settings.state_dir / FILE_NAME


def load_overrides(path: Path) -> dict[str, str]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    return {str(k): str(v) for k, v in data.items()}


def save_override(path: Path, prompt_id: str, text: str | None) -> dict[str, str]:
    """Set (or with None, drop) one override; the file is replaced atomically."""
    data = load_overrides(path)
    if text is None:
        data.pop(prompt_id, None)
    else:
        data[prompt_id] = text
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(
        "w", encoding="utf-8", dir=path.parent, delete=False, suffix=".tmp"
    ) as tmp:
        json.dump(data, tmp, ensure_ascii=False, indent=1, sort_keys=True)
    os.replace(tmp.name, path)
    return data


def prompt_rows(flows: Iterable[Flow], overrides: Mapping[str, str]) -> list[PromptRow]:
    rows = []
    for flow in flows:
        for name, default in flow.prompts.items():
            key = f"{flow.name}/{name}"
            rows.append(PromptRow(key, flow.line, default, overrides.get(key, default)))
    return rows


def apply_overrides(flow: Flow, overrides: Mapping[str, str]) -> Flow:
    """The flow with its overridden texts (prompt ids unknown to the flow are ignored)."""
    prefix = f"{flow.name}/"
    texts = {name: overrides.get(prefix + name, default) for name, default in flow.prompts.items()}
    return flow.model_copy(update={"prompts": texts})


def find_row(rows: Iterable[PromptRow], prompt_id: str) -> PromptRow:
    for row in rows:
        if row.id == prompt_id:
            return row
    raise NotFound(f"没有提示音 {prompt_id}")
