"""A caller arriving over the carrier trunk: one SIPp UAC call into a DID, with real RTP.

    call = SipCaller.start(workdir, asterisk=("127.0.0.1", 5060), local_host=CARRIER_HOST,
                           did="114", caller_id="13800138000", tone_hz=700,
                           keys=[KeyPress("1", at=6.5)], stay=30)
    result = await call.finished()  # waits for the call to end
    assert result.answered and result.hung_up_by == "caller"

The INVITE offers PCMA and telephone-event/101; once answered the caller plays the tone with
the RFC 4733 keys at their offsets (seconds from the answer), stays ``stay`` seconds and
sends BYE, unless Asterisk hangs up first (``hung_up_by == "asterisk"``). Re-INVITEs are
answered; UPDATE/OPTIONS/INFO are answered by SIPp. A refused INVITE is acknowledged and
reported with its status (``result.status``). ``sdp`` replaces the offer, for bad-input tests.

The caller must come from an address the ``[carrier]`` identify matches (settings
``carrier_match``), else Asterisk refuses it, which is exactly what some tests check.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from tests.sip import scenario as xml
from tests.sip.rtp import KeyPress
from tests.sip.sipp import SippEndpoint, SippProcess, transport_option
from tests.sip.siptrace import SipMessage
from tests.sip.tones import caller_pcap

# The transport in the Contact: Asterisk sends in-dialog requests (BYE) over the same one.
CONTACT = "<sip:[field0]@[local_ip]:[local_port];transport=[transport]>"
# How much longer than its own plan a call may take before the test calls it stuck: ringing
# in a queue, prompts, a loaded machine.
SLACK_SECONDS = 60.0


@dataclass(frozen=True)
class CallResult:
    """What happened to one SIPp call, read from the SIP messages it exchanged."""

    exit_status: int
    status: int  # final response to the (last) INVITE; 0 if none came
    answered: bool
    hung_up_by: str  # "caller", "asterisk" or "" (never answered)
    reinvites: int
    messages: tuple[SipMessage, ...]


def caller_scenario(
    did: str,
    caller_id: str,
    *,
    stay_ms: int,
    pcap: Path | None,
    sdp: str | None,
    headers: Sequence[str],
    credentials: tuple[str, str] | None = None,
) -> str:
    offer = xml.AUDIO_SDP if sdp is None else sdp
    extra = "".join(f"{h}\n" for h in headers)
    from_header = (
        f'From: "{caller_id}" <sip:{caller_id}@[local_ip]:[local_port]>;'
        "tag=[pid]SIPpTag00[call_number]\n"
    )

    def invite(cseq: int, authorization: str = "") -> str:
        return xml.send(
            xml.with_body(
                "INVITE sip:[service]@[remote_ip]:[remote_port] SIP/2.0\n"
                "Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]\n"
                + from_header
                + "To: <sip:[service]@[remote_ip]:[remote_port]>\n"
                "Call-ID: [call_id]\n"
                f"CSeq: {cseq} INVITE\n"
                f"Contact: {CONTACT.replace('[field0]', caller_id)}\n"
                "Max-Forwards: 70\n"
                "Allow: INVITE, ACK, BYE, CANCEL, OPTIONS, UPDATE, INFO\n"
                "User-Agent: callcenter-test-caller\n" + authorization + extra,
                offer,
            ),
            retrans=True,
        )

    def answers(*, challenge: bool) -> list[str]:
        """How the INVITE's responses are taken: on to "answered", "refused" or, when the
        caller has credentials and is challenged, "authenticate"."""
        steps = [f'<recv response="{code}" optional="true"/>\n' for code in (100, 180, 183)]
        refusals: tuple[int, ...] = xml.REFUSALS
        if challenge:
            steps += [
                f'<recv response="{code}" optional="true" auth="true" next="authenticate"/>\n'
                for code in (401, 407)
            ]
            refusals = tuple(code for code in refusals if code not in (401, 407))
        steps += [
            f'<recv response="{code}" optional="true" next="refused"/>\n' for code in refusals
        ]
        steps.append('<recv response="200" rrs="true" next="answered"/>\n')
        return steps

    dialog = "[last_From:]\n[last_To:]\n[last_Call-ID:]\n"
    ack = xml.send(
        "ACK [next_url] SIP/2.0\n"
        "Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]\n"
        "[routes]\n" + dialog + "CSeq: [last_cseq_number] ACK\nMax-Forwards: 70\n"
        "Content-Length: 0\n"
    )
    # Above the CSeq of any INVITE this caller sends (two at most).
    bye = xml.send(
        "BYE [next_url] SIP/2.0\n"
        "Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]\n"
        "[routes]\n"
        + from_header
        + "To: <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]\n"
        "Call-ID: [call_id]\nCSeq: 10 BYE\nMax-Forwards: 70\nContent-Length: 0\n",
        retrans=True,
    )
    # A refused INVITE's ACK belongs to the INVITE's transaction: the response's own Via
    # carries the INVITE's branch.
    refused_ack = xml.send(
        "ACK sip:[service]@[remote_ip]:[remote_port] SIP/2.0\n"
        "[last_Via:]\n" + dialog + "CSeq: [last_cseq_number] ACK\nMax-Forwards: 70\n"
        "Content-Length: 0\n"
    )
    play = f'<nop><action><exec play_pcap_audio="{pcap}"/></action></nop>\n' if pcap else ""
    body = [
        invite(1),
        *answers(challenge=credentials is not None),
        xml.label("answered"),
        ack,
        play,
        xml.in_call(
            CONTACT.replace("[field0]", caller_id),
            stay_ms=stay_ms,
            hangup="hangup",
            remote_bye="end",
        ),
        xml.label("hangup"),
        bye,
        '<recv response="200"/>\n',
        xml.goto("end"),
    ]
    if credentials is not None:
        user, password = credentials
        body += [
            xml.label("authenticate"),
            refused_ack,
            invite(2, f"[authentication username={user} password={password}]\n"),
            *answers(challenge=False),
        ]
    body += [xml.label("refused"), refused_ack, xml.label("end")]
    return xml.document("caller", "".join(body))


@dataclass
class SipCaller:
    """One call in progress; ``finish`` waits for its end and reports it."""

    sipp: SippProcess
    stay: float

    @classmethod
    def start(
        cls,
        workdir: Path,
        *,
        asterisk: tuple[str, int],
        local_host: str,
        did: str,
        caller_id: str = "13800138000",
        tone_hz: float | None = 700,
        keys: Sequence[KeyPress] = (),
        stay: float = 20.0,
        sdp: str | None = None,
        headers: Sequence[str] = (),
        credentials: tuple[str, str] | None = None,
        transport: str = "udp",
    ) -> SipCaller:
        workdir.mkdir(parents=True, exist_ok=True)
        pcap = None
        if tone_hz is not None:
            last_key = max((k.at for k in keys), default=0.0)
            pcap = caller_pcap(
                workdir / "caller.pcap", tone_hz, seconds=max(stay, last_key) + 2, keys=keys
            )
        text = caller_scenario(
            did,
            caller_id,
            stay_ms=round(stay * 1000),
            pcap=pcap,
            sdp=sdp,
            headers=headers,
            credentials=credentials,
        )
        host, port = asterisk
        process = SippProcess(
            f"caller {did}",
            workdir,
            text,
            SippEndpoint.free(local_host),
            [f"{host}:{port}", "-s", did, "-m", "1", "-l", "1", *transport_option(transport)],
        )
        process.start()
        return cls(process, stay)

    @property
    def media(self) -> tuple[str, int]:
        """Where Asterisk sends this caller's RTP (for ``tests.sip.rtp_listener``)."""
        return self.sipp.local.host, self.sipp.local.media_port

    async def answered(self, timeout: float = 30.0) -> None:
        """Wait until Asterisk has answered (200 OK to the INVITE)."""
        await self.sipp.wait_for_messages(
            lambda ms: any(m.status == 200 and m.method == "INVITE" for m in ms),
            timeout,
            "no 200 OK to the INVITE",
        )

    async def finished(self, timeout: float | None = None) -> CallResult:
        """Wait for the call's end (``stay`` plus a minute by default) and report it."""
        limit = self.stay + SLACK_SECONDS if timeout is None else timeout
        return self.result(await self.sipp.finished(limit))

    def result(self, exit_status: int) -> CallResult:
        messages = self.sipp.messages()
        finals = [
            m
            for m in messages
            if m.direction == "received" and m.method == "INVITE" and m.status >= 200
        ]
        status = finals[-1].status if finals else 0  # after a challenge: the retry's
        byes = [m for m in messages if m.is_request and m.method == "BYE"]
        hung_up_by = ""
        if byes:
            hung_up_by = "caller" if byes[0].direction == "sent" else "asterisk"
        reinvites = sum(
            1
            for m in messages
            if m.direction == "received" and m.is_request and m.method == "INVITE"
        )
        return CallResult(
            exit_status, status, status == 200, hung_up_by, reinvites, tuple(messages)
        )

    def stop(self) -> None:
        self.sipp.stop()
