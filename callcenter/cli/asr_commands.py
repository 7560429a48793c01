"""`callcenter asr install PATH`: check a vosk Mandarin model and make it the lines' speech
model (recorded under the state directory; the controller loads it at its next start)."""

from __future__ import annotations

import argparse
from pathlib import Path

from backend.flows.loader import load_line_flows
from backend.flows.schema import MenuNode, SpeechNode
from backend.settings import Settings
from ivr.flows.intents import grammar
from ivr.speech.installed import record_model
from ivr.speech.model_check import check_model


def add_asr_parser(sub: argparse._SubParsersAction) -> None:
    asr = sub.add_parser("asr", help="the IVR's speech recognition model")
    actions = asr.add_subparsers(dest="action", required=True)
    install = actions.add_parser(
        "install", help="check a vosk Mandarin model directory and use it on the lines"
    )
    install.add_argument("path", type=Path, help="e.g. /opt/vosk/vosk-model-small-cn-0.22")


def spoken_phrases() -> list[str]:
    """Every phrase the lines' speech nodes listen for (menu options and decoys)."""
    phrases: list[str] = []
    for flow in load_line_flows().values():
        for node in flow.nodes.values():
            if isinstance(node, SpeechNode):
                menu = flow.nodes[node.menu]
                assert isinstance(menu, MenuNode)
                phrases.extend(grammar(menu, node.decoys))
    return phrases


def cmd_asr(args: argparse.Namespace, settings: Settings) -> int:
    report = check_model(args.path, spoken_phrases())
    record = record_model(settings, report.path)
    print(f"{report.path}: vosk {report.kind} model, Mandarin ({report.mandarin_words} of 7 "
          f"everyday words known); recorded in {record}")  # fmt: skip
    if report.unheard:
        print(f"not in its vocabulary, said by keys only: {'、'.join(report.unheard)}")
    if settings.asr_model_path is not None and settings.asr_model_path != report.path:
        print(f"note: CC_ASR_MODEL_PATH={settings.asr_model_path} is set and takes precedence")
    print("restart the controller (callcenter down && callcenter up) to load it")
    return 0


ASR_HANDLERS = {"asr": cmd_asr}
