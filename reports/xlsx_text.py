"""XLSX (XML 1.0) cannot hold control characters; citizens' free text (a work order's title or
category) may contain them, so every string bound for a workbook passes through here."""

from __future__ import annotations

import re
from typing import TypeVar

_XML_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
T = TypeVar("T")


def xlsx_safe(value: T) -> T:
    return _XML_ILLEGAL.sub("", value) if isinstance(value, str) else value  # type: ignore[return-value]
