"""The line an agent's own calls present: his strongest skill's line."""

from __future__ import annotations

from collections.abc import Iterable

from backend.lines import LINE_CODES


def line_of(skills: Iterable[tuple[str, int]]) -> str:
    """An agent's line, from his skills' (line, level): the strongest skill's; ties and
    agents without skills go to the registry's first line (114)."""
    first = LINE_CODES[0]
    ranked = sorted(skills, key=lambda s: (s[1], s[0] == first), reverse=True)
    return ranked[0][0] if ranked else first
