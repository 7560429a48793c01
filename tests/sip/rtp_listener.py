"""What a SIPp phone hears: the RTP Asterisk sends to its media port, captured on ``lo``.

SIPp keeps the received RTP to itself, so the audio is read beside it with a raw
``AF_PACKET`` socket on the loopback interface (the tests run as root), which sees every
UDP datagram to the phone's address and port without taking it away from SIPp::

    heard = await asyncio.to_thread(listen, *caller.media, seconds=3)
    assert heard.packets > 100 and heard.rms() > 0.01      # e.g. music on hold

PCMA payloads are decoded; ``write_wav`` keeps the audio for ``tones.band_rms``.
"""

from __future__ import annotations

import math
import socket
import struct
import time
import wave
from dataclasses import dataclass, field
from pathlib import Path

from tests.sip.g711 import alaw_to_linear
from tests.sip.rtp import PCMA, RATE, parse

ETH_P_IP = 0x0800
PACKET_OUTGOING = 4  # the copy of a loopback packet as it leaves; its incoming copy is kept
ETHERNET_HEADER = 14
UDP = 17


@dataclass
class HeardAudio:
    """The RTP that reached one address and port during the capture."""

    packets: int = 0
    payload_types: dict[int, int] = field(default_factory=dict)
    samples: list[int] = field(default_factory=list)

    def rms(self) -> float:
        """RMS level of the decoded audio, 0 (silence or nothing) to 1 (full scale)."""
        if not self.samples:
            return 0.0
        return math.sqrt(sum(s * s for s in self.samples) / len(self.samples)) / 32768

    def write_wav(self, path: Path) -> Path:
        with wave.open(str(path), "wb") as out:
            out.setnchannels(1)
            out.setsampwidth(2)
            out.setframerate(RATE)
            out.writeframes(struct.pack(f"<{len(self.samples)}h", *self.samples))
        return path


def udp_payload_to(frame: bytes, host: bytes, port: int) -> bytes | None:
    """The UDP payload of an Ethernet/IPv4 frame sent to ``host``:``port``, else None."""
    ip = frame[ETHERNET_HEADER:]
    if len(ip) < 20 or ip[0] >> 4 != 4 or ip[9] != UDP or ip[16:20] != host:
        return None
    udp = ip[(ip[0] & 0x0F) * 4 :]
    if len(udp) < 8 or struct.unpack("!H", udp[2:4])[0] != port:
        return None
    return udp[8:]


def listen(host: str, port: int, *, seconds: float) -> HeardAudio:
    """Capture for ``seconds`` the RTP sent to ``host``:``port`` (bounded: then it returns)."""
    wanted = socket.inet_aton(host)
    heard = HeardAudio()
    with socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_IP)) as sock:
        sock.bind(("lo", ETH_P_IP))
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            sock.settimeout(left)
            try:
                frame, address = sock.recvfrom(65535)
            except TimeoutError:
                break
            if address[2] == PACKET_OUTGOING:
                continue
            payload = udp_payload_to(frame, wanted, port)
            packet = parse(payload) if payload is not None else None
            if packet is None:
                continue
            heard.packets += 1
            heard.payload_types[packet.payload_type] = (
                heard.payload_types.get(packet.payload_type, 0) + 1
            )
            if packet.payload_type == PCMA:
                heard.samples.extend(alaw_to_linear(packet.payload))
    return heard
