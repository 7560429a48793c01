"""Pieces of SIPp XML scenarios shared by the caller (UAC) and the carrier (UAS).

SIPp fills ``[keywords]`` in each message; ``[last_Via:]`` and friends copy headers of the
last message received, which is how the replies below answer whatever Asterisk sent.
Labels are names, as SIPp allows; ``next`` jumps to them.
"""

from __future__ import annotations

from xml.sax.saxutils import quoteattr

# Final responses Asterisk may give an INVITE it refuses; each ends the call politely (ACK).
REFUSALS = (
    400,
    401,
    403,
    404,
    405,
    407,
    408,
    415,
    420,
    480,
    481,
    482,
    483,
    484,
    485,
    486,
    487,
    488,
    491,
    500,
    501,
    502,
    503,
    504,
    505,
    513,
    600,
    603,
    604,
    606,
)
# Unanswered-call loop granularity: SIPp restarts a recv's timeout on each message, so the
# time in a call is counted in ticks of this many milliseconds instead of one long timeout.
TICK_MS = 200

AUDIO_SDP = """v=0
o=- [pid][call_number] 1 IN IP[local_ip_type] [media_ip]
s=-
c=IN IP[media_ip_type] [media_ip]
t=0 0
m=audio [media_port] RTP/AVP 8 101
a=rtpmap:8 PCMA/8000
a=rtpmap:101 telephone-event/8000
a=fmtp:101 0-15
a=ptime:20
a=sendrecv
"""


def document(name: str, body: str) -> str:
    return f'<?xml version="1.0" encoding="UTF-8"?>\n<scenario name="{name}">\n{body}</scenario>\n'


def message(text: str) -> str:
    """A message in CDATA, each line ending CRLF as SIP wants (SIPp converts LF itself)."""
    return f"<![CDATA[\n{text.strip(chr(10))}\n\n]]>"


def with_body(head: str, body: str, content_type: str = "application/sdp") -> str:
    if not body:
        return head.rstrip("\n") + "\nContent-Length: 0\n"
    return f"{head.rstrip(chr(10))}\nContent-Type: {content_type}\nContent-Length: [len]\n\n{body}"


def send(text: str, *, retrans: bool = False, attrs: str = "") -> str:
    retransmit = ' retrans="500"' if retrans else ""
    return f"<send{retransmit}{attrs}>\n{message(text)}\n</send>\n"


def log(text: str) -> str:
    return f"<nop><action><log message={quoteattr(text)}/></action></nop>\n"


def label(name: str) -> str:
    return f'<label id="{name}"/>\n'


def goto(name: str) -> str:
    return f'<nop next="{name}"/>\n'


def reply(
    status: str, *, contact: str = "", body: str = "", to_tag: bool = False, headers: str = ""
) -> str:
    """A response to the last request received (same Via, From, To, Call-ID, CSeq)."""
    to = "[last_To:];tag=[pid]SIPpTag01[call_number]" if to_tag else "[last_To:]"
    head = f"SIP/2.0 {status}\n[last_Via:]\n[last_From:]\n{to}\n[last_Call-ID:]\n[last_CSeq:]\n"
    if contact:
        head += f"Contact: {contact}\n"
    if headers:
        head += headers.rstrip("\n") + "\n"
    return send(with_body(head, body))


def in_call(contact: str, *, stay_ms: int | None, hangup: str, remote_bye: str) -> str:
    """The talking phase: answer re-INVITEs, take the peer's BYE, or hang up after ``stay_ms``.

    Jumps to ``remote_bye`` after answering the peer's BYE, to ``hangup`` once ``stay_ms``
    have passed (never when None). UPDATE, INFO and OPTIONS are answered by SIPp (-aa).
    """
    timeout = f' timeout="{TICK_MS}" ontimeout="tick"' if stay_ms is not None else ""
    parts = [
        label("talking"),
        # "global": taken wherever the call is, also in the instant between a tick's timeout
        # and its bookkeeping (SIPp would call a BYE arriving then unexpected and abort).
        f'<recv request="BYE" optional="global"{timeout} next="bye_received"/>\n',
        '<recv request="INVITE" optional="global" next="reinvite"/>\n',
        # SIPp wants a run of receptions to end with a mandatory one: a request never sent.
        '<recv request="NO-SUCH-REQUEST"/>\n',
        label("reinvite"),
        reply("200 OK", contact=contact, body=AUDIO_SDP),
        '<recv request="ACK"/>\n',
        goto("talking"),
    ]
    if stay_ms is not None:
        ticks = max(1, stay_ms // TICK_MS)
        parts += [
            label("tick"),
            "<nop><action>"
            '<add assign_to="ticks" value="1"/>'
            f'<test assign_to="stayed" variable="ticks" compare="greater_than_equal" value="{ticks}"/>'
            "</action></nop>\n",
            f'<nop next="{hangup}" test="stayed"/>\n',
            goto("talking"),
        ]
    parts += [label("bye_received"), reply("200 OK"), goto(remote_bye)]
    return "".join(parts)
