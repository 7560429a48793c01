"""The SIP harness's own parts, without a network: RTP layout, pcap framing, A-law, SIPp traces."""

from __future__ import annotations

import math
import struct
from itertools import pairwise
from pathlib import Path

from tests.sip.g711 import alaw_to_linear
from tests.sip.pcap import write_pcap
from tests.sip.rtp import PCMA, TELEPHONE_EVENT, KeyPress, audio_and_keys, parse
from tests.sip.siptrace import display_name, read_trace, uri_user
from tests.sip.tones import alaw_bytes, band_rms, holds_tone, sine_wav


def test_a_key_interrupts_the_audio_as_one_continuous_stream() -> None:
    packets = audio_and_keys(b"\xd5" * 8000, keys=[KeyPress("5", at=0.5)], ssrc=7)
    kinds = [p.payload_type for p in packets]
    assert kinds[:25] == [PCMA] * 25 and kinds[25:38] == [TELEPHONE_EVENT] * 13
    assert kinds[38:] == [PCMA] * 25  # the rest of the second of audio follows the key
    assert {p.ssrc for p in packets} == {7}
    assert all((b.sequence - a.sequence) % 65536 == 1 for a, b in pairwise(packets))
    events = packets[25:38]
    assert events[0].marker and not any(p.marker for p in events[1:])
    assert {p.timestamp for p in events} == {packets[24].timestamp + 160}
    code, flags, duration = struct.unpack("!BBH", events[-1].payload)
    assert (code, bool(flags & 0x80), duration) == (5, True, 1600)
    # After the key the audio's clock has moved on by the slots the key took.
    assert packets[38].timestamp == packets[24].timestamp + 14 * 160


def test_a_packet_survives_encoding_and_parsing() -> None:
    packet = audio_and_keys(b"\x01\x02" * 80, keys=[KeyPress("#", at=0)])[0]
    assert parse(packet.encode()) == packet
    assert parse(b"\x00" * 20) is None  # not RTP version 2


def test_the_pcap_holds_each_packet_in_a_udp_frame_20_ms_apart(tmp_path: Path) -> None:
    packets = audio_and_keys(b"\xd5" * 480)
    data = write_pcap(tmp_path / "x.pcap", packets).read_bytes()
    magic, major, minor, _, _, _, link = struct.unpack("<IHHiIII", data[:24])
    assert (magic, major, minor, link) == (0xA1B2C3D4, 2, 4, 1)
    offset, times = 24, []
    for packet in packets:
        sec, usec, length, _ = struct.unpack("<IIII", data[offset : offset + 16])
        frame = data[offset + 16 : offset + 16 + length]
        assert frame[12:14] == b"\x08\x00" and frame[14 + 9] == 17  # IPv4, UDP
        assert frame[14 + 20 + 8 :] == packet.encode()
        times.append(sec * 1_000_000 + usec)
        offset += 16 + length
    assert offset == len(data)
    assert [b - a for a, b in pairwise(times)] == [20_000] * (len(packets) - 1)


def test_a_law_decoding_gives_back_the_tone_sox_encoded(tmp_path: Path) -> None:
    wav = sine_wav(tmp_path / "t.wav", 700, seconds=1)
    samples = alaw_to_linear(alaw_bytes(wav))
    rms = math.sqrt(sum(s * s for s in samples) / len(samples)) / 32768
    assert abs(rms - 0.5 / math.sqrt(2)) < 0.01
    assert band_rms(wav, 660, 740) > 100 * band_rms(wav, 1900, 1980)
    assert holds_tone(wav, 700) and not holds_tone(wav, 1500)


TRACE = """----------------------------------------------- 2026-12-02 17:31:47.449464
UDP message received [510] bytes :

INVITE sip:13812345678@127.0.0.30:5090 SIP/2.0
Via: SIP/2.0/UDP 127.0.0.1:5060;rport;branch=z9hG4bKPj1
From: "114" <sip:114@127.0.0.1>;tag=abc
To: <sip:13812345678@127.0.0.30>
i: call-1
CSeq: 102 INVITE
P-Asserted-Identity: "114" <sip:114@127.0.0.1>
Content-Length: 0


----------------------------------------------- 2026-12-02 17:31:47.449512
UDP message sent [310] bytes :

SIP/2.0 486 Busy Here
Call-ID: call-1
CSeq: 102 INVITE
Content-Length: 0

"""


def test_a_sipp_trace_reads_as_messages(tmp_path: Path) -> None:
    path = tmp_path / "messages.log"
    path.write_text(TRACE)
    invite, busy = read_trace(path)
    assert (invite.direction, invite.method, invite.call_id) == ("received", "INVITE", "call-1")
    assert uri_user(invite.request_uri) == "13812345678"
    assert uri_user(invite.header("p-asserted-identity")) == "114"
    assert display_name(invite.header("From")) == "114"
    assert (busy.direction, busy.status, busy.method) == ("sent", 486, "INVITE")
    assert read_trace(tmp_path / "none.log") == []
