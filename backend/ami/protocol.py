"""AMI wire format, parsed without sockets.

A message is ``Key: Value`` lines ended by an empty line, for example::

    Response: Success\r\n
    Message: Authentication accepted\r\n
    \r\n

The server greets with one line first: ``Asterisk Call Manager/9.0.0``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

EOL = b"\r\n"


@dataclass
class AmiParser:
    """Feed bytes, take complete messages as dicts (first value wins on repeated keys)."""

    greeting: str | None = None
    _buffer: bytes = field(default=b"", repr=False)

    def feed(self, data: bytes) -> list[dict[str, str]]:
        self._buffer += data
        if self.greeting is None:
            if EOL not in self._buffer:
                return []
            line, self._buffer = self._buffer.split(EOL, 1)
            self.greeting = line.decode("utf-8", "replace")
        messages = []
        while EOL + EOL in self._buffer:
            block, self._buffer = self._buffer.split(EOL + EOL, 1)
            messages.append(parse_block(block.decode("utf-8", "replace")))
        return messages


def parse_block(block: str) -> dict[str, str]:
    message: dict[str, str] = {}
    for line in block.split("\r\n"):
        key, sep, value = line.partition(":")
        if sep and key not in message:
            message[key.strip()] = value.strip()
    return message


def encode_action(action: str, **fields: str) -> bytes:
    lines = [f"Action: {action}"] + [f"{k}: {v}" for k, v in fields.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()
