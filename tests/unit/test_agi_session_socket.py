"""AgiSession over a real TCP socket: a command gets its reply, a silent peer times out, and a
closed peer is a hangup."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest

from ivr.agi.errors import AgiCommandTimeout, CallHungUp
from ivr.agi.session import AgiSession

Peer = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


async def _session(peer: Peer) -> AsyncIterator[AgiSession]:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await peer(reader, writer)

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        yield AgiSession(reader, writer, {"agi_uniqueid": "1.1", "agi_channel": "Local/s"})
    finally:
        writer.close()
        server.close()


async def test_a_reply_is_read_and_a_silent_peer_times_out() -> None:
    async def answers_once(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readline()
        writer.write(b"200 result=1 (Local/s-1)\n")
        await writer.drain()
        await reader.readline()  # the second command gets no reply
        await asyncio.sleep(5)

    async for session in _session(answers_once):
        reply = await session.command("GET VARIABLE CHANNEL")
        assert reply.code == 200 and reply.data == "Local/s-1"
        with pytest.raises(AgiCommandTimeout, match="GET"):
            await session.command("GET VARIABLE CHANNEL", timeout=0.2)


async def test_a_closed_peer_is_a_hangup() -> None:
    async def hangs_up(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readline()
        writer.close()

    async for session in _session(hangs_up):
        with pytest.raises(CallHungUp):
            await session.command("ANSWER", timeout=2)
        assert session.hung_up


async def test_get_data_keeps_the_star_of_an_id_number_ending_in_x() -> None:
    replies = iter([b"200 result=11010519491231002* (timeout)\n", b"200 result= (timeout)\n"])

    async def keys(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        for reply in replies:
            await reader.readline()
            writer.write(reply)
            await writer.drain()

    async for session in _session(keys):
        entered = await session.get_data("enter_id", 20000, 19)
        assert (entered.digits, entered.timed_out) == ("11010519491231002*", True)
        nothing = await session.get_data("enter_id", 20000, 19)
        assert (nothing.digits, nothing.timed_out) == ("", True)
