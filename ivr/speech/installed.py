"""Which speech model the lines use: CC_ASR_MODEL_PATH when it is set, otherwise the model
`callcenter asr install` recorded under the state directory (so installing one needs no
change to the service's environment)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from backend.settings import Settings

RECORD_NAME = "asr-model-path"


def record_file(settings: Settings) -> Path:
    return settings.state_dir / RECORD_NAME


def installed_model(settings: Settings) -> Path | None:
    """The model the controller loads, or None: menus take keys only."""
    if settings.asr_model_path is not None:
        return settings.asr_model_path
    record = record_file(settings)
    if not record.is_file():
        return None
    text = record.read_text(encoding="utf-8").strip()
    return Path(text) if text else None


def record_model(settings: Settings, path: Path) -> Path:
    """Record ``path`` as the installed model (atomically: a controller starting meanwhile
    reads the old record or the new one, never half of it)."""
    record = record_file(settings)
    record.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(
        "w", encoding="utf-8", dir=record.parent, delete=False, prefix=".asr-"
    ) as handle:
        handle.write(f"{path}\n")
    os.replace(handle.name, record)
    return record
