"""Personal data kept out of log lines (MLPS: no phone number, ID number or name in a log).

``install()`` replaces the logging module's record factory, so every record a process makes
is masked when it is made, whichever handler, formatter or library (uvicorn, Celery, asyncio)
writes it later: the message with its arguments, the traceback text and the stack. Each
process installs it in its logging set-up (``callcenter`` before any command runs, each
uvicorn worker of the desk when it builds the app).

What is masked: mainland mobile numbers (with or without +86/0086), landline numbers with
their area code, ID numbers (18 characters, or the old 15 digits) and Han characters, a name
being the one piece of a citizen's data a pattern cannot tell from other text (log messages
are written in English, so Chinese text in a log line is data, not the message). The access
log keeps a request's path and leaves out its query string, where search terms travel.
"""

from __future__ import annotations

import logging
import re
from typing import Any

_ID_NUMBER = r"\d{17}[\dXx]|\d{15}"
_MOBILE = r"(?:\+?86|0086)?1[3-9]\d{9}"
_LANDLINE = r"0\d{2,3}-?\d{7,8}"
# Digits, not part of a longer run of digits or letters (hex ids, call ids stay readable).
_NUMBER = re.compile(rf"(?<![0-9A-Za-z])(?:{_ID_NUMBER}|{_MOBILE}|{_LANDLINE})(?![0-9A-Za-z])")
_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
# A Han character percent-encoded as UTF-8 (E3-E9 lead byte), as it appears in a URL.
_HAN_ENCODED = re.compile(r"(?:%E[3-9A-F](?:%[89AB][0-9A-F]){2})+", re.IGNORECASE)
# uvicorn's access log record: (client, method, path with query, HTTP version, status).
_ACCESS_LOGGER = "uvicorn.access"
_ACCESS_ARGS = 5


def mask(text: str) -> str:
    """``text`` with every phone number, ID number and Han character replaced by ``*``."""
    text = _NUMBER.sub(_stars, text)
    text = _HAN.sub(_stars, text)
    return _HAN_ENCODED.sub("*", text)


def _stars(match: re.Match[str]) -> str:
    return "*" * len(match.group())


def without_query(path: str) -> str:
    """A request target as the access log keeps it: the path, the query left out."""
    head, sep, _ = path.partition("?")
    return mask(head) + ("?…" if sep else "")


_traceback_formatter = logging.Formatter()


def scrub(record: logging.LogRecord) -> None:
    """Mask ``record`` in place (its message is formatted here, once)."""
    args = record.args
    if record.name == _ACCESS_LOGGER and isinstance(args, tuple) and len(args) == _ACCESS_ARGS:
        # uvicorn's formatter unpacks these five: keep the shape, drop the query.
        client, method, path, version, status = args
        record.args = (client, method, without_query(str(path)), version, status)
        return
    try:
        message = record.getMessage()
    except Exception:
        return
    record.msg, record.args = mask(message), None
    if record.exc_info and record.exc_info[0] is not None:
        record.exc_text = mask(_traceback_formatter.formatException(record.exc_info))
    if record.stack_info:
        record.stack_info = mask(record.stack_info)


class _MaskingFactory:
    def __init__(self, previous: Any) -> None:
        self.previous = previous

    def __call__(self, *args: Any, **kwargs: Any) -> logging.LogRecord:
        record: logging.LogRecord = self.previous(*args, **kwargs)
        scrub(record)
        return record


def install() -> None:
    """Mask every log record this process makes from now on (idempotent)."""
    current = logging.getLogRecordFactory()
    if not isinstance(current, _MaskingFactory):
        logging.setLogRecordFactory(_MaskingFactory(current))
