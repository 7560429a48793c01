"""Netstrings (``12:{"a":"b"},``), the framing of baresip's ctrl_tcp JSON messages.

Pure: bytes in, messages out, so it is tested without a socket::

    >>> reader = NetstringReader()
    >>> reader.feed(b'7:{"a":1},3:{}')
    [{'a': 1}]
    >>> reader.feed(b',')
    [{}]
"""

from __future__ import annotations

import json
from typing import Any

MAX_LENGTH = 1_000_000


class NetstringError(ValueError):
    pass


def encode(message: dict[str, Any]) -> bytes:
    body = json.dumps(message, ensure_ascii=False).encode()
    return str(len(body)).encode() + b":" + body + b","


class NetstringReader:
    def __init__(self) -> None:
        self._buffer = b""

    def feed(self, data: bytes) -> list[dict[str, Any]]:
        """The complete messages ``data`` finishes; a partial one waits for more bytes."""
        self._buffer += data
        messages: list[dict[str, Any]] = []
        while True:
            colon = self._buffer.find(b":")
            if colon < 0:
                if len(self._buffer) > 7:
                    raise NetstringError(f"no length prefix in {self._buffer[:20]!r}")
                return messages
            prefix = self._buffer[:colon]
            if not prefix.isdigit() or int(prefix) > MAX_LENGTH:
                raise NetstringError(f"bad netstring length {prefix[:20]!r}")
            end = colon + 1 + int(prefix)
            if len(self._buffer) < end + 1:
                return messages
            if self._buffer[end : end + 1] != b",":
                raise NetstringError("netstring not closed by ','")
            messages.append(json.loads(self._buffer[colon + 1 : end]))
            self._buffer = self._buffer[end + 1 :]
