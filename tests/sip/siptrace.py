"""Read the SIP messages SIPp wrote with ``-trace_msg -message_file FILE``.

SIPp writes every message it sends or receives, each after a separator line::

    ----------------------------------------------- 2026-12-02 17:31:47.449512
    UDP message received [310] bytes :

    SIP/2.0 180 Ringing
    Via: SIP/2.0/UDP 127.0.0.30:15091;branch=z9hG4bK-22986-1-0
    ...

``read_trace`` turns the file into ``SipMessage``s; the caller and carrier build their
reports (answered, who hung up, the number and caller ID presented) from them, which holds
whatever the scenario's branches did.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

SEPARATOR = re.compile(r"^-{20,} (\S+ \S+)$", re.MULTILINE)
DIRECTION = re.compile(r"^\w+ message (sent|received)")
COMPACT = {
    "f": "from",
    "t": "to",
    "i": "call-id",
    "v": "via",
    "m": "contact",
    "l": "content-length",
    "c": "content-type",
}
SIP_URI_USER = re.compile(r"<?sips?:([^@;>]+)@")


@dataclass(frozen=True)
class SipMessage:
    direction: str  # "sent" or "received", from SIPp's side
    time: str
    start_line: str
    headers: tuple[tuple[str, str], ...]
    body: str

    @property
    def is_request(self) -> bool:
        return not self.start_line.startswith("SIP/2.0 ")

    @property
    def method(self) -> str:
        """The request's method, or the method a response answers (from CSeq)."""
        if self.is_request:
            return self.start_line.split(" ", 1)[0]
        return self.header("CSeq").split()[-1] if self.header("CSeq") else ""

    @property
    def status(self) -> int:
        return int(self.start_line.split()[1]) if not self.is_request else 0

    @property
    def request_uri(self) -> str:
        return self.start_line.split()[1] if self.is_request else ""

    @property
    def call_id(self) -> str:
        return self.header("Call-ID")

    def header(self, name: str) -> str:
        """The first value of header ``name`` (case-insensitive, compact forms too), or ''."""
        wanted = name.lower()
        for key, value in self.headers:
            if COMPACT.get(key.lower(), key.lower()) == wanted:
                return value
        return ""


def uri_user(value: str) -> str:
    """The user part of the SIP URI in a request line or a From/To/PAI value, or ''."""
    match = SIP_URI_USER.search(value)
    return match.group(1) if match else ""


def display_name(value: str) -> str:
    """The display name of a From/To/PAI value (``"13800138000" <sip:...>``), or ''."""
    match = re.match(r'\s*"([^"]*)"', value) or re.match(r"\s*([^<\"]+?)\s*<", value)
    return match.group(1) if match else ""


def parse_message(direction: str, time: str, text: str) -> SipMessage:
    head, _, body = text.replace("\r\n", "\n").partition("\n\n")
    lines = head.split("\n")
    headers: list[tuple[str, str]] = []
    for line in lines[1:]:
        if line[:1] in (" ", "\t") and headers:  # folded header line
            key, value = headers[-1]
            headers[-1] = (key, value + " " + line.strip())
        elif ":" in line:
            key, value = line.split(":", 1)
            headers.append((key.strip(), value.strip()))
    return SipMessage(direction, time, lines[0].strip(), tuple(headers), body.strip("\n"))


def read_trace(path: Path) -> list[SipMessage]:
    """Every complete message in SIPp's message file (none if SIPp has not written it yet)."""
    try:
        text = path.read_text(errors="replace")
    except FileNotFoundError:
        return []
    parts = SEPARATOR.split(text)
    messages = []
    # parts: [preamble, time1, block1, time2, block2, ...]
    for time, block in zip(parts[1::2], parts[2::2], strict=True):
        block = block.lstrip("\n")
        first, _, rest = block.partition("\n")
        direction = DIRECTION.match(first)
        if direction is None:
            continue
        message = rest.strip("\n")
        if message:
            messages.append(parse_message(direction.group(1), time, message))
    return messages
