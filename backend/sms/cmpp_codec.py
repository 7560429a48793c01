"""CMPP 2.0 (China Mobile Peer to Peer, the ISMG interface of China Mobile's SMS centres):
the messages an SP exchanges with the gateway, as bytes. Pure: no sockets here
(``cmpp_gateway`` drives them).

Every PDU is a 12-byte header (Total_Length, Command_Id, Sequence_Id; network order) and a
body of fixed-width fields; text fields are left-aligned octet strings padded with NUL.
Only what an SP that sends notices needs: CONNECT (with its MD5 authenticator), SUBMIT and
its response, DELIVER (delivery reports and replies) and its response, ACTIVE_TEST,
TERMINATE. Message ids (Msg_Id, 8 bytes) are carried as 16 hex digits.
"""

from __future__ import annotations

import hashlib
import struct
from dataclasses import dataclass
from datetime import datetime

CONNECT, CONNECT_RESP = 0x00000001, 0x80000001
TERMINATE, TERMINATE_RESP = 0x00000002, 0x80000002
SUBMIT, SUBMIT_RESP = 0x00000004, 0x80000004
DELIVER, DELIVER_RESP = 0x00000005, 0x80000005
ACTIVE_TEST, ACTIVE_TEST_RESP = 0x00000008, 0x80000008

VERSION = 0x20  # CMPP 2.0
HEADER = struct.Struct(">III")
UCS2 = 8  # Msg_Fmt
SINGLE_UCS2_CHARS = 70  # one message: 140 octets
PART_UCS2_CHARS = 67  # one part of a long message, after its 6-octet UDH

CONNECT_STATUS = {1: "malformed", 2: "bad source address", 3: "authentication failed",
                  4: "version too high"}  # fmt: skip
SUBMIT_RESULT = {1: "malformed", 2: "bad command", 3: "duplicate sequence", 4: "bad length",
                 5: "bad fee code", 6: "message too long", 7: "bad service id",
                 8: "flow control"}  # fmt: skip


class CmppMalformed(ValueError):
    """Bytes that are not the PDU they claim to be."""


def octets(text: str, width: int) -> bytes:
    raw = text.encode("ascii")
    if len(raw) > width:
        raise ValueError(f"{text!r} is longer than {width} octets")
    return raw.ljust(width, b"\0")


def text_of(raw: bytes) -> str:
    return raw.rstrip(b"\0").decode("ascii", "replace")


def pdu(command: int, sequence: int, body: bytes = b"") -> bytes:
    return HEADER.pack(HEADER.size + len(body), command, sequence) + body


def timestamp(moment: datetime) -> str:
    return moment.strftime("%m%d%H%M%S")


def authenticator(source_addr: str, secret: str, stamp: str) -> bytes:
    """AuthenticatorSource: MD5(Source_Addr + 9 NULs + shared secret + MMDDHHMMSS)."""
    return hashlib.md5(source_addr.encode() + b"\0" * 9 + secret.encode() + stamp.encode()).digest()


def connect_body(source_addr: str, secret: str, moment: datetime) -> bytes:
    stamp = timestamp(moment)
    auth = authenticator(source_addr, secret, stamp)
    return octets(source_addr, 6) + auth + struct.pack(">BI", VERSION, int(stamp))


def parse_connect_resp(body: bytes) -> int:
    """The CONNECT_RESP status (0: connected)."""
    if len(body) < 18:
        raise CmppMalformed("CONNECT_RESP too short")
    return body[0]


def message_parts(text: str, reference: int) -> list[bytes]:
    """The UCS-2 contents of one message: one part, or several each led by a concatenation
    UDH (05 00 03 ref total seq)."""
    if len(text) <= SINGLE_UCS2_CHARS:
        return [text.encode("utf-16-be")]
    chunks = [text[i : i + PART_UCS2_CHARS] for i in range(0, len(text), PART_UCS2_CHARS)]
    if len(chunks) > 255:
        raise ValueError("message too long")
    return [
        bytes([5, 0, 3, reference & 0xFF, len(chunks), seq]) + chunk.encode("utf-16-be")
        for seq, chunk in enumerate(chunks, start=1)
    ]


@dataclass(frozen=True)
class Submit:
    sp_id: str  # Msg_src: the SP's enterprise code
    service_id: str
    src_id: str  # the SP's access number the phone shows
    dest: str
    content: bytes
    part: int = 1
    parts: int = 1


def submit_body(s: Submit) -> bytes:
    udhi = 1 if s.parts > 1 else 0
    return (
        b"\0" * 8  # Msg_Id: the ISMG assigns it
        + bytes([s.parts, s.part, 1, 0])  # Pk_total, Pk_number, Registered_Delivery, Msg_level
        + octets(s.service_id, 10)
        + bytes([2])  # Fee_UserType: fee to the SP (a free notice)
        + octets("", 21)
        + bytes([0, udhi, UCS2])  # TP_pId, TP_udhi, Msg_Fmt
        + octets(s.sp_id, 6)
        + octets("01", 2)  # FeeType: free
        + octets("0", 6)
        + octets("", 17) * 2  # ValId_Time, At_Time: the ISMG's defaults, at once
        + octets(s.src_id, 21)
        + bytes([1])
        + octets(s.dest, 21)
        + bytes([len(s.content)])
        + s.content
        + b"\0" * 8
    )


def msg_id(raw: bytes) -> str:
    return raw.hex()


def parse_submit_resp(body: bytes) -> tuple[str, int]:
    """(Msg_Id, Result)."""
    if len(body) < 9:
        raise CmppMalformed("SUBMIT_RESP too short")
    return msg_id(body[:8]), body[8]


@dataclass(frozen=True)
class Deliver:
    msg_id: str  # the DELIVER's own id (its response names it)
    is_report: bool
    report_of: str = ""  # a report: the id SUBMIT_RESP gave
    status: str = ""  # a report: DELIVRD, EXPIRED, UNDELIV...
    source: str = ""  # a reply: the phone that sent it
    text: str = ""


def parse_deliver(body: bytes) -> Deliver:
    if len(body) < 73:
        raise CmppMalformed("DELIVER too short")
    own = msg_id(body[:8])
    # Msg_Id 8, Dest_Id 21, Service_Id 10, TP_pid, TP_udhi, then these:
    fmt, source, registered, length = body[41], text_of(body[42:63]), body[63], body[64]
    content = body[65 : 65 + length]
    if registered:
        if len(content) < 60:
            raise CmppMalformed("status report too short")
        return Deliver(own, True, report_of=msg_id(content[:8]), status=text_of(content[8:15]))
    text = content.decode("utf-16-be" if fmt == UCS2 else "gbk", "replace")
    return Deliver(own, False, source=source, text=text)


def deliver_resp_body(deliver_msg_id: str, result: int = 0) -> bytes:
    return bytes.fromhex(deliver_msg_id) + bytes([result])
