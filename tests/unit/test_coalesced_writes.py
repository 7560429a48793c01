"""Writes coalesced per pass of the event loop (``agent_desk.performance.coalesced_writes``),
and the desk's HTTP protocol answering a request in one write. The transport below records the calls a
socket transport would get; the real sockets are under the browser tests, whose desk server
uses ``DeskHttpProtocol``, and under bench/booking."""

from __future__ import annotations

import asyncio
from typing import Any

import uvicorn
from starlette.responses import PlainTextResponse
from starlette.types import Receive, Scope, Send
from uvicorn.server import ServerState

from agent_desk.performance.coalesced_writes import CoalescingTransport
from agent_desk.performance.http_protocol import DeskHttpProtocol


class RecordingTransport(asyncio.Transport):
    def __init__(self) -> None:
        super().__init__()
        self.writes: list[bytes] = []
        self.closed = False
        self.aborted = False

    def write(self, data: Any) -> None:
        self.writes.append(bytes(data))

    def close(self) -> None:
        self.closed = True

    def abort(self) -> None:
        self.aborted = True

    def is_closing(self) -> bool:
        return self.closed or self.aborted

    def get_write_buffer_size(self) -> int:
        return 0

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return {"sockname": ("127.0.0.1", 8000), "peername": ("127.0.0.1", 50000)}.get(
            name, default
        )


async def test_writes_of_one_pass_leave_in_one_call_in_order() -> None:
    socket = RecordingTransport()
    transport = CoalescingTransport(socket)
    transport.write(b"HTTP/1.1 200 OK\r\n\r\n")
    transport.write(memoryview(b"body"))
    transport.write(b"")
    assert socket.writes == []  # held until the end of this pass
    assert transport.get_write_buffer_size() == len(b"HTTP/1.1 200 OK\r\n\r\nbody")
    await asyncio.sleep(0)
    assert socket.writes == [b"HTTP/1.1 200 OK\r\n\r\nbody"]
    transport.write(b"next")
    await asyncio.sleep(0)
    assert socket.writes == [b"HTTP/1.1 200 OK\r\n\r\nbody", b"next"]


async def test_close_sends_what_is_held_and_abort_drops_it() -> None:
    socket = RecordingTransport()
    transport = CoalescingTransport(socket)
    transport.write(b"last words")
    transport.close()
    assert socket.writes == [b"last words"] and socket.closed
    await asyncio.sleep(0)  # the end-of-pass flush finds nothing more
    assert socket.writes == [b"last words"]

    socket = RecordingTransport()
    transport = CoalescingTransport(socket)
    transport.write(b"never sent")
    transport.abort()
    await asyncio.sleep(0)
    assert socket.writes == [] and socket.aborted


async def test_nothing_is_written_to_a_transport_already_closing() -> None:
    socket = RecordingTransport()
    transport = CoalescingTransport(socket)
    transport.write(b"too late")
    socket.closed = True  # the peer went away before the end of the pass
    await asyncio.sleep(0)
    assert socket.writes == []
    assert transport.get_extra_info("peername") == ("127.0.0.1", 50000)


async def hello(scope: Scope, receive: Receive, send: Send) -> None:
    await PlainTextResponse("你好")(scope, receive, send)


async def test_the_desk_protocol_sends_headers_and_body_in_one_write() -> None:
    config = uvicorn.Config(hello, http=DeskHttpProtocol, log_level="warning")
    config.load()
    protocol = DeskHttpProtocol(config=config, server_state=ServerState(), app_state={})
    socket = RecordingTransport()
    protocol.connection_made(socket)
    protocol.data_received(b"GET / HTTP/1.1\r\nHost: desk\r\n\r\n")
    for _ in range(100):
        if socket.writes:
            break
        await asyncio.sleep(0.01)
    assert len(socket.writes) == 1
    response = socket.writes[0]
    assert response.startswith(b"HTTP/1.1 200 OK\r\n")
    assert response.endswith("\r\n\r\n你好".encode())
    protocol.connection_lost(None)
