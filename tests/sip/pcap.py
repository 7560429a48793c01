"""Write RTP packets into a pcap file that SIPp's ``play_pcap_audio`` replays.

SIPp reads classic pcap (not pcapng) with Ethernet framing, takes each packet's UDP payload
and sends it paced by the capture timestamps; the addresses and ports in the file are
replaced by the call's. So the frames here carry placeholder loopback addresses.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from pathlib import Path

from tests.sip.rtp import FRAME_SECONDS, RtpPacket

PCAP_MAGIC = 0xA1B2C3D4
LINKTYPE_ETHERNET = 1
ETHERTYPE_IPV4 = 0x0800
UDP = 17
PLACEHOLDER_PORT = 40000


def ipv4_checksum(header: bytes) -> int:
    total = sum(struct.unpack(f"!{len(header) // 2}H", header))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def udp_frame(payload: bytes, ident: int) -> bytes:
    """An Ethernet/IPv4/UDP frame from 127.0.0.1 to 127.0.0.1 (SIPp rewrites both)."""
    udp = struct.pack("!HHHH", PLACEHOLDER_PORT, PLACEHOLDER_PORT, 8 + len(payload), 0) + payload
    loopback = bytes([127, 0, 0, 1])
    ip = struct.pack(
        "!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), ident & 0xFFFF, 0, 64, UDP, 0, loopback, loopback
    )
    ip = ip[:10] + struct.pack("!H", ipv4_checksum(ip)) + ip[12:]
    ethernet = bytes(6) + bytes(6) + struct.pack("!H", ETHERTYPE_IPV4)
    return ethernet + ip + udp


def write_pcap(path: Path, packets: Sequence[RtpPacket]) -> Path:
    """One packet every 20 ms, in order: the pacing SIPp follows when it replays the file."""
    with open(path, "wb") as out:
        out.write(struct.pack("<IHHiIII", PCAP_MAGIC, 2, 4, 0, 0, 65535, LINKTYPE_ETHERNET))
        for index, packet in enumerate(packets):
            frame = udp_frame(packet.encode(), index)
            micros = round(index * FRAME_SECONDS * 1_000_000)
            out.write(
                struct.pack(
                    "<IIII", micros // 1_000_000, micros % 1_000_000, len(frame), len(frame)
                )
            )
            out.write(frame)
    return path
