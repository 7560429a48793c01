"""baresip's ctrl_tcp framing, fed byte by byte and with bad input."""

from __future__ import annotations

import pytest

from tests.sip.netstring import NetstringError, NetstringReader, encode


def test_messages_split_anywhere_come_out_whole() -> None:
    wire = encode({"command": "dial", "params": "sip:1050@127.0.0.1"}) + encode({"b": "坐席"})
    reader = NetstringReader()
    got = [m for i in range(len(wire)) for m in reader.feed(wire[i : i + 1])]
    assert got == [{"command": "dial", "params": "sip:1050@127.0.0.1"}, {"b": "坐席"}]


@pytest.mark.parametrize("wire", [b"x5:{}", b"2:{}}", b"99999999:", b"abcdefgh"])
def test_broken_framing_is_an_error(wire: bytes) -> None:
    with pytest.raises(NetstringError):
        NetstringReader().feed(wire)
