"""The FastAGI wire protocol, parsed without sockets.

Asterisk opens with the environment, one ``agi_<name>: <value>`` line each, ended by an empty
line::

    agi_network: yes
    agi_network_script: 114
    agi_uniqueid: 1764077000.12
    agi_callerid: 13800138000

Each command gets one reply line (``520`` usage errors may span several lines)::

    200 result=49 endpos=8192          (STREAM FILE: the caller pressed "1", ASCII 49)
    200 result=123 (timeout)           (GET DATA: digits "123", then the timeout)
    200 result=-1                      (the channel hung up)
    511 Command Not Permitted on a dead channel or intercept routine
    520-Invalid command syntax.  Proper usage follows:
    ...
    520 End of proper usage.

When the caller hangs up, Asterisk also sends a bare ``HANGUP`` line on FastAGI.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_REPLY = re.compile(
    r"^(?P<code>\d{3}) result=(?P<result>\S*)(?: \((?P<data>[^)]*)\))?(?P<rest>.*)$"
)


@dataclass(frozen=True)
class AgiReply:
    code: int
    result: str
    data: str
    raw: str
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def result_int(self) -> int:
        try:
            return int(self.result)
        except ValueError:
            return 0

    @property
    def digit(self) -> str | None:
        """The key pressed, for commands that report it as an ASCII code (0 = none)."""
        code = self.result_int
        return chr(code) if code > 0 else None


@dataclass(frozen=True)
class HangupNotice:
    """The bare ``HANGUP`` line."""


def parse_environment(lines: list[str]) -> dict[str, str]:
    env: dict[str, str] = {}
    for line in lines:
        key, sep, value = line.partition(":")
        if sep and key.startswith("agi_"):
            env[key.removeprefix("agi_")] = value.strip()
    return env


def parse_reply_line(line: str) -> AgiReply:
    match = _REPLY.match(line)
    if match:
        extra = dict(part.split("=", 1) for part in match.group("rest").split() if "=" in part)
        return AgiReply(
            int(match.group("code")),
            match.group("result"),
            match.group("data") or "",
            line,
            extra,
        )
    code = int(line[:3]) if line[:3].isdigit() else 0
    return AgiReply(code, "", line[4:].strip(), line)


@dataclass
class ReplyReader:
    """Feed lines, take replies. Collects multi-line ``520-`` usage blocks into one reply."""

    _usage: list[str] = field(default_factory=list)

    def feed_line(self, line: str) -> AgiReply | HangupNotice | None:
        line = line.rstrip("\r\n")
        if line == "HANGUP":
            return HangupNotice()
        if line.startswith("520-"):
            self._usage.append(line[4:])
            return None
        if self._usage:
            if line.startswith("520 "):
                text = "\n".join(self._usage)
                self._usage.clear()
                return AgiReply(520, "", text, line)
            self._usage.append(line)
            return None
        if not line:
            return None
        return parse_reply_line(line)


def quote(argument: str) -> str:
    """Quote one AGI command argument (spaces and quotes must not split it)."""
    return '"' + argument.replace("\\", "\\\\").replace('"', '\\"') + '"'
