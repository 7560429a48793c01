"""Is a directory a vosk Mandarin model the lines can use? (`callcenter asr install PATH`)

Checked in the order a person can fix things: the path, the model's files (a small model's
lookahead graph or a big model's HCLG), that vosk loads it, that its vocabulary is Mandarin,
and which of the flows' spoken phrases it can hear (a phrase with a character outside the
vocabulary can never be recognised: its callers use keys).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from backend.errors import CallCenterError
from ivr.speech.asr import in_vocabulary, load_model

MODELS_URL = "https://alphacephei.com/vosk/models"
# Files every vosk model has, and the two kinds of decoding graph.
COMMON_FILES = ("am/final.mdl", "conf/mfcc.conf")
SMALL_GRAPH = ("graph/HCLr.fst", "graph/Gr.fst")  # vosk-model-small-cn: lookahead
BIG_GRAPH = ("graph/HCLG.fst",)  # vosk-model-cn: static graph
# Everyday words of the hotlines' callers; a Mandarin vocabulary has (nearly) all of them.
MANDARIN_PROBES = ("你好", "人工", "预约", "挂号", "报销", "投诉", "政策")
MANDARIN_MIN = 5


class ModelRejected(CallCenterError):
    """The directory is not a usable vosk Mandarin model; the message says why."""

    code = "asr-model-rejected"


@dataclass(frozen=True)
class ModelReport:
    path: Path
    kind: str  # "small" (lookahead graph) or "big" (HCLG)
    mandarin_words: int  # of MANDARIN_PROBES
    unheard: tuple[str, ...]  # the flows' phrases the vocabulary cannot spell


def check_model(path: Path, phrases: Iterable[str]) -> ModelReport:
    path = path.expanduser().resolve()
    kind = _structure(path)
    try:
        model = load_model(path)
    except Exception as exc:  # vosk raises a bare Exception("Failed to create a model")
        raise ModelRejected(f"vosk could not load the model in {path}: {exc}") from None
    found = sum(1 for probe in MANDARIN_PROBES if in_vocabulary(model, probe) is not None)
    if found < MANDARIN_MIN:
        raise ModelRejected(
            f"{path} is not a Mandarin model: only {found} of {len(MANDARIN_PROBES)} everyday "
            f"words ({'、'.join(MANDARIN_PROBES)}) are in its vocabulary; install "
            f"vosk-model-small-cn or vosk-model-cn from {MODELS_URL}"
        )
    unheard = tuple(dict.fromkeys(p for p in phrases if not _hearable(model, p)))
    return ModelReport(path, kind, found, unheard)


def _structure(path: Path) -> str:
    if not path.exists():
        raise ModelRejected(f"{path} does not exist; unpack a model from {MODELS_URL} first")
    if not path.is_dir():
        raise ModelRejected(f"{path} is a file; give the unpacked model's directory")
    missing = [name for name in COMMON_FILES if not (path / name).is_file()]
    if missing:
        raise ModelRejected(
            f"{path} is not a vosk model directory (no {', '.join(missing)}); give the folder "
            "that holds am/, conf/ and graph/"
        )
    if all((path / name).is_file() for name in SMALL_GRAPH):
        return "small"
    if all((path / name).is_file() for name in BIG_GRAPH):
        return "big"
    raise ModelRejected(
        f"{path}/graph has neither HCLr.fst + Gr.fst (a small model) nor HCLG.fst (a big one)"
    )


def _hearable(model: Any, phrase: str) -> bool:
    return all(in_vocabulary(model, word) is not None for word in phrase.split())
