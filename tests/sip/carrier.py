"""The PSTN carrier for outbound calls: a SIPp UAS that answers, plays a tone, keeps the call.

    carrier = SipCarrier.start(workdir, host=settings.carrier_host, port=settings.carrier_port,
                               tone_hz=1100, busy_numbers=["13900000486"])
    ...                                   # the system dials out through PJSIP/<n>@carrier
    call = await carrier.wait_for_call("13812345678")
    assert call.caller_id == settings.caller_id["114"] and call.answered
    carrier.stop()

Every INVITE is answered (100, 180, 200 with PCMA + telephone-event) unless its number is
in ``busy_numbers`` (486 Busy Here) or ``silent_numbers`` (rings until cancelled); after the
ACK the carrier plays its tone and stays until Asterisk sends BYE (or ``hangup_after``
seconds, then it hangs up itself). ``calls()`` reports each call from the SIP messages: the
number dialled (request-URI user), the caller ID presented (From and P-Asserted-Identity),
how it ended.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import quoteattr

from tests.sip import scenario as xml
from tests.sip.processes import free_media_port
from tests.sip.sipp import SippEndpoint, SippProcess, transport_option
from tests.sip.siptrace import SipMessage, display_name, uri_user
from tests.sip.tones import caller_pcap

CONTACT = "<sip:carrier@[local_ip]:[local_port];transport=[transport]>"
NUMBER = re.compile(r"^\+?[0-9]+$")


@dataclass(frozen=True)
class CarrierCall:
    """One call as the carrier saw it."""

    call_id: str
    number: str  # request-URI user: the number Asterisk dialled
    caller_id: str  # From user
    caller_name: str  # From display name
    asserted_id: str  # P-Asserted-Identity user, '' if none was sent
    status: int  # the carrier's final answer: 200, 486, 487 ...
    hung_up_by: str  # "asterisk", "carrier" or "" (still up, or never answered)
    authenticated: bool  # the INVITE carried digest credentials (a carrier that challenges)
    invite: SipMessage

    @property
    def answered(self) -> bool:
        return self.status == 200

    @property
    def ended(self) -> bool:
        return bool(self.hung_up_by) or self.status > 200


def _alternatives(numbers: Sequence[str]) -> str:
    for number in numbers:
        if not NUMBER.match(number):
            raise ValueError(f"not a phone number: {number!r}")
    return "|".join(re.escape(n).replace("\\+", "[+]") for n in numbers)


CHALLENGE = (
    'WWW-Authenticate: Digest realm="carrier.test", nonce="[pid]n[call_number]", algorithm=MD5'
)


def challenged(credentials: tuple[str, str] | None, checks: str) -> tuple[list[str], list[str]]:
    """With credentials: the INVITE is challenged (401) and taken only when its digest is
    right, REGISTERs are challenged and answered 200; returns the scenario's opening and the
    branches it jumps to. Without: the INVITE is taken as it comes."""
    if credentials is None:
        return [f'<recv request="INVITE" rrs="true"><action>{checks}</action></recv>\n'], []
    user, password = (quoteattr(value) for value in credentials)
    verify = f'<verifyauth assign_to="{{name}}" username={user} password={password}/>'
    opening = [
        # A REGISTER (the trunk's registration) or an INVITE opens the dialog.
        '<recv request="REGISTER" optional="true" next="register"/>\n',
        '<recv request="INVITE"/>\n',
        xml.reply("401 Unauthorized", to_tag=True, headers=CHALLENGE),
        '<recv request="ACK"/>\n',
        f'<recv request="INVITE" rrs="true"><action>{verify.format(name="authorized")}{checks}'
        "</action></recv>\n",
        '<nop next="authorized" test="authorized"/>\n',
        xml.reply("403 Forbidden", to_tag=True),
        '<recv request="ACK"/>\n',
        xml.goto("end"),
        xml.label("authorized"),
    ]
    branches = [
        xml.label("register"),
        xml.reply("401 Unauthorized", to_tag=True, headers=CHALLENGE),
        f'<recv request="REGISTER"><action>{verify.format(name="registered")}</action></recv>\n',
        '<nop next="registered" test="registered"/>\n',
        xml.reply("403 Forbidden", to_tag=True),
        xml.goto("end"),
        xml.label("registered"),
        xml.reply("200 OK", to_tag=True, headers="[last_Contact:]\nExpires: 300"),
        xml.goto("end"),
    ]
    return opening, branches


# The carrier's own requests in a call: From and To are the INVITE's, swapped.
IN_DIALOG = (
    "From: [$invite_to];tag=[pid]SIPpTag01[call_number]\nTo: [$invite_from]\n[last_Call-ID:]\n"
)


def reinvite(after_ms: int) -> list[str]:
    """``after_ms`` into the call the carrier re-INVITEs with the same offer (CSeq 1 of its
    own), as a network refreshing a session does; the harness's callers must take it."""
    via = "Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]\n"
    return [
        f'<pause milliseconds="{after_ms}"/>\n',
        xml.send(
            xml.with_body(
                "INVITE [next_url] SIP/2.0\n"
                + via
                + IN_DIALOG
                + f"CSeq: 1 INVITE\nContact: {CONTACT}\nMax-Forwards: 70\n",
                xml.AUDIO_SDP,
            ),
            retrans=True,
        ),
        '<recv response="100" optional="true"/>\n',
        '<recv response="200"/>\n',
        xml.send(
            "ACK [next_url] SIP/2.0\n"
            + via
            + IN_DIALOG
            + "CSeq: 1 ACK\nMax-Forwards: 70\nContent-Length: 0\n"
        ),
    ]


def carrier_scenario(
    *,
    pcap: Path | None,
    busy: Sequence[str],
    silent: Sequence[str],
    hangup_after_ms: int | None,
    credentials: tuple[str, str] | None = None,
    reinvite_after_ms: int | None = None,
) -> str:
    checks = ""
    for variable, numbers in (("busy", busy), ("silent", silent)):
        if numbers:
            checks += (
                f'<ereg regexp="^INVITE sips?:({_alternatives(numbers)})@" search_in="msg" '
                f'check_it="false" assign_to="{variable}"/>'
            )
    # SIPp refuses a variable set but never used, so each is kept only where needed: the
    # INVITE's CSeq for the 487 ending an unanswered call (the CANCEL's is not the INVITE's),
    # From and To for the carrier's own BYE.
    own_requests = hangup_after_ms is not None or reinvite_after_ms is not None
    kept = (("CSeq",) if silent else ()) + (("From", "To") if own_requests else ())
    for header in kept:
        checks += (
            f'<ereg regexp="[^ ].*" search_in="hdr" header="{header}:" '
            f'assign_to="invite_{header.lower()}"/>'
        )
    play = f'<nop><action><exec play_pcap_audio="{pcap}"/></action></nop>\n' if pcap else ""
    opening, branches = challenged(credentials, checks)
    busy_branch = [
        xml.label("busy"),
        xml.reply("486 Busy Here", to_tag=True),
        '<recv request="ACK"/>\n',
        xml.goto("end"),
    ]
    silent_branch = [
        xml.label("silent"),
        '<recv request="CANCEL"/>\n',
        xml.reply("200 OK"),
        xml.send(
            "SIP/2.0 487 Request Terminated\n[last_Via:]\n[last_From:]\n"
            "[last_To:];tag=[pid]SIPpTag01[call_number]\n[last_Call-ID:]\n"
            "CSeq: [$invite_cseq]\nContent-Length: 0\n"
        ),
        '<recv request="ACK"/>\n',
        xml.goto("end"),
    ]
    body = [
        *opening,
        xml.reply("100 Trying"),
        '<nop next="busy" test="busy"/>\n' if busy else "",
        xml.reply("180 Ringing", contact=CONTACT, to_tag=True),
        '<nop next="silent" test="silent"/>\n' if silent else "",
        xml.send(
            xml.with_body(
                "SIP/2.0 200 OK\n[last_Via:]\n[last_From:]\n"
                "[last_To:];tag=[pid]SIPpTag01[call_number]\n[last_Call-ID:]\n[last_CSeq:]\n"
                f"Contact: {CONTACT}\nAllow: INVITE, ACK, BYE, CANCEL, OPTIONS, UPDATE, INFO\n",
                xml.AUDIO_SDP,
            ),
            retrans=True,
        ),
        '<recv request="ACK"/>\n',
        play,
        *(reinvite(reinvite_after_ms) if reinvite_after_ms is not None else []),
        xml.in_call(CONTACT, stay_ms=hangup_after_ms, hangup="hangup", remote_bye="end"),
        xml.label("hangup"),
        xml.send(
            "BYE [next_url] SIP/2.0\n"
            "Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]\n"
            + IN_DIALOG
            + "CSeq: 2 BYE\nMax-Forwards: 70\nContent-Length: 0\n",
            retrans=True,
        )
        if hangup_after_ms is not None
        else "",
        '<recv response="200"/>\n' if hangup_after_ms is not None else "",
        xml.goto("end"),
        *(busy_branch if busy else []),
        *(silent_branch if silent else []),
        *branches,
        xml.label("end"),
    ]
    return xml.document("carrier", "".join(body))


@dataclass
class SipCarrier:
    sipp: SippProcess

    @classmethod
    def start(
        cls,
        workdir: Path,
        *,
        host: str,
        port: int,
        tone_hz: float | None = 1100,
        busy_numbers: Sequence[str] = (),
        silent_numbers: Sequence[str] = (),
        hangup_after: float | None = None,
        call_seconds: float = 600,
        credentials: tuple[str, str] | None = None,
        reinvite_after: float | None = None,
        transport: str = "udp",
    ) -> SipCarrier:
        workdir.mkdir(parents=True, exist_ok=True)
        pcap = (
            caller_pcap(workdir / "carrier.pcap", tone_hz, seconds=call_seconds)
            if tone_hz
            else None
        )
        text = carrier_scenario(
            pcap=pcap,
            busy=busy_numbers,
            silent=silent_numbers,
            hangup_after_ms=None if hangup_after is None else round(hangup_after * 1000),
            credentials=credentials,
            reinvite_after_ms=None if reinvite_after is None else round(reinvite_after * 1000),
        )
        local = SippEndpoint(host, port, free_media_port(host))
        process = SippProcess("carrier", workdir, text, local, transport_option(transport))
        process.start()
        carrier = cls(process)
        carrier._wait_listening()
        return carrier

    def _wait_listening(self, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.sipp.running():
                raise AssertionError(f"the SIPp carrier exited at start; {self.sipp.describe()}")
            if self.sipp.screen_file.exists() and self.sipp.screen_file.stat().st_size > 0:
                return
            time.sleep(0.05)

    def calls(self) -> list[CarrierCall]:
        """Every call received so far, in arrival order."""
        messages = self.sipp.messages()
        dialogs: dict[str, list[SipMessage]] = {}
        for message in messages:
            dialogs.setdefault(message.call_id, []).append(message)
        calls = []
        for call_id, dialog in dialogs.items():
            # The INVITE that opened the call: re-INVITEs carry our To tag, and a challenged
            # INVITE is followed by its authenticated retry.
            invites = [
                m
                for m in dialog
                if m.direction == "received"
                and m.is_request
                and m.method == "INVITE"
                and ";tag=" not in m.header("To")
            ]
            if not invites:
                continue
            invite = invites[-1]
            finals = [
                m
                for m in dialog
                if m.direction == "sent"
                and m.method == "INVITE"
                and m.status >= 200
                and m.header("CSeq") == invite.header("CSeq")
            ]
            byes = [m for m in dialog if m.is_request and m.method == "BYE"]
            hung_up_by = ""
            if byes:
                hung_up_by = "asterisk" if byes[0].direction == "received" else "carrier"
            calls.append(
                CarrierCall(
                    call_id=call_id,
                    number=uri_user(invite.request_uri),
                    caller_id=uri_user(invite.header("From")),
                    caller_name=display_name(invite.header("From")),
                    asserted_id=uri_user(invite.header("P-Asserted-Identity")),
                    status=finals[0].status if finals else 0,
                    hung_up_by=hung_up_by,
                    authenticated=bool(invite.header("Authorization")),
                    invite=invite,
                )
            )
        return calls

    def registrations(self) -> list[tuple[str, int]]:
        """(user, status) of each REGISTER that carried credentials, as the carrier answered."""
        messages = self.sipp.messages()
        answered = {
            (m.call_id, m.header("CSeq")): m.status
            for m in messages
            if m.direction == "sent" and m.method == "REGISTER"
        }
        return [
            (uri_user(m.header("To")), answered.get((m.call_id, m.header("CSeq")), 0))
            for m in messages
            if m.direction == "received"
            and m.is_request
            and m.method == "REGISTER"
            and m.header("Authorization")
        ]

    async def wait_for_call(
        self, number: str, timeout: float = 30.0, *, ended: bool = False
    ) -> CarrierCall:
        """The first call to ``number``; with ``ended``, once it is over."""
        deadline = time.monotonic() + timeout
        while True:
            for call in self.calls():
                if call.number == number and (not ended or call.ended):
                    return call
            if time.monotonic() > deadline:
                seen = [(c.number, c.status) for c in self.calls()]
                raise AssertionError(
                    f"no call to {number} reached the carrier within {timeout:g} s "
                    f"(calls seen: {seen}); {self.sipp.describe()}"
                )
            await asyncio.sleep(0.1)

    def stop(self) -> None:
        self.sipp.stop()
