"""Map recognised speech to a menu option: the menu's phrases are the grammar and the table."""

from __future__ import annotations

from backend.flows.schema import MenuNode
from ivr.flows.ports import Recognition


def _plain(text: str) -> str:
    # Recognisers separate words with spaces ("预约 挂号"); phrases may be written either way.
    return "".join(text.split())


def grammar(menu: MenuNode, decoys: tuple[str, ...] = ()) -> list[str]:
    """The phrases of every option in menu order, then the decoys, without duplicates."""
    seen: dict[str, None] = {}
    for option in menu.options.values():
        for phrase in option.phrases:
            seen.setdefault(phrase, None)
    for phrase in decoys:
        seen.setdefault(phrase, None)
    return list(seen)


def option_key_for(
    recognition: Recognition | None, menu: MenuNode, min_confidence: float
) -> str | None:
    """The key of the option whose phrase was said, or None (nothing, unsure, or no match)."""
    if recognition is None or recognition.confidence < min_confidence:
        return None
    said = _plain(recognition.text)
    if not said:
        return None
    for key, option in menu.options.items():
        if any(_plain(phrase) == said for phrase in option.phrases):
            return key
    return None
