"""Repeat callers and hot spots: the rules, pure; the counting is done in SQL by the service.

A repeat caller is the same phone number (compared by its keyed hash) reporting again within
``repeat_window``. A hot spot is a problem at one place — the same category and address, or,
without an address, the same category and title — reported by ``min_callers`` different
callers within ``hotspot_window``.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import timedelta

_NOISE = re.compile(r"[\s\W_]+", re.UNICODE)


@dataclass(frozen=True)
class DuplicateRules:
    repeat_window: timedelta = timedelta(days=30)
    hotspot_window: timedelta = timedelta(days=7)
    min_callers: int = 3


def normalize_place(text: str) -> str:
    """Full-width to half-width, lower case, no spaces or punctuation: "朝阳区 XX路1号"."""
    folded = unicodedata.normalize("NFKC", text).lower()
    return _NOISE.sub("", folded)


def hotspot_key(category: str, address: str, title: str) -> str:
    """The same problem at the same place gives the same key; empty without a category."""
    place = normalize_place(address) or normalize_place(title)
    if not place or not category.strip():
        return ""
    return f"{category.strip()}|{place}"[:200]


def is_hotspot(distinct_callers: int, rules: DuplicateRules) -> bool:
    return distinct_callers >= rules.min_callers


def normalize_phone(number: str) -> str:
    """Digits only, without a +86 / 0086 country prefix or a trunk 0 before a mobile number."""
    digits = "".join(ch for ch in number if ch.isdigit())
    for prefix in ("0086", "86"):
        if digits.startswith(prefix) and len(digits) - len(prefix) >= 11:
            digits = digits[len(prefix) :]
            break
    if len(digits) == 12 and digits.startswith("01"):
        digits = digits[1:]  # 013800138000 dialled with the trunk prefix
    return digits
