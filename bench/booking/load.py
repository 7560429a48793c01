"""A lean HTTP/1.1 load generator for one POST endpoint, on a raw asyncio protocol.

Why not httpx: at 200 concurrent connections httpx spent more CPU per request in this process
than the server it was measuring, so the bench measured its own client. This keeps one
keep-alive connection per client, builds each request as bytes and parses only the status line
and ``Content-Length``; what it still costs is mostly the event loop's wake-ups, which is why
bench/booking's closed loop runs on wrk (``closed_loop.py``; the figures in bench/README.md).

Two ways to drive the server:

- ``closed``: every client sends its next request as soon as the previous answer arrives
  (bench/booking warms the server up this way).
- ``paced``: requests are due at a fixed overall rate, spread round-robin over the clients;
  each latency counts from the moment the request was due, not from when a busy client got
  round to sending it, so a slow server cannot hide its queue (no coordinated omission).
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any


@dataclass
class LoadResult:
    elapsed: float = 0.0
    latencies_ms: list[float] = field(default_factory=list)
    statuses: Counter[str] = field(default_factory=Counter)

    def count(self, status: str) -> int:
        return self.statuses[status]


class Connection(asyncio.Protocol):
    """One keep-alive HTTP/1.1 connection, one request at a time: the answer is parsed in
    ``data_received``, which hands the waiting request its status and body. (Written so in
    place of asyncio streams; alternating runs showed no difference in CPU between the two.)"""

    def __init__(self) -> None:
        self._transport: asyncio.Transport | None = None
        self._buffer = b""
        self._answer: asyncio.Future[tuple[int, bytes]] | None = None

    @classmethod
    async def open(cls, host: str, port: int) -> Connection:
        _, conn = await asyncio.get_running_loop().create_connection(cls, host, port)
        return conn

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = transport  # type: ignore[assignment]

    def connection_lost(self, exc: Exception | None) -> None:
        self._transport = None
        if self._answer is not None and not self._answer.done():
            self._answer.set_exception(ConnectionResetError("the server closed the connection"))

    def data_received(self, data: bytes) -> None:
        self._buffer += data
        head_end = self._buffer.find(b"\r\n\r\n")
        if head_end < 0 or self._answer is None:
            return
        head = self._buffer[:head_end]
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        body_end = head_end + 4 + length
        if len(self._buffer) < body_end:
            return
        body, self._buffer = self._buffer[head_end + 4 : body_end], self._buffer[body_end:]
        answer, self._answer = self._answer, None
        answer.set_result((int(head[9:12]), body))

    async def post(self, request: bytes) -> tuple[int, bytes]:
        if self._transport is None:
            raise ConnectionResetError("not connected")
        self._answer = asyncio.get_running_loop().create_future()
        self._transport.write(request)
        return await self._answer

    def close(self) -> None:
        if self._transport is not None:
            self._transport.close()


def post_request(host: str, port: int, path: str, headers: dict[str, str], body: Any) -> bytes:
    payload = json.dumps(body).encode()
    lines = [f"POST {path} HTTP/1.1", f"Host: {host}:{port}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    lines += ["Content-Type: application/json", f"Content-Length: {len(payload)}", "", ""]
    return "\r\n".join(lines).encode() + payload


def _status_label(status: int, body: bytes) -> str:
    if status < 400:
        return str(status)
    try:
        return f"{status} {json.loads(body).get('error')}"
    except ValueError:
        return str(status)


async def run_load(
    host: str,
    port: int,
    requests: Iterator[bytes],
    *,
    clients: int,
    seconds: float,
    rate: float | None = None,
    clock: Callable[[], float] = time.perf_counter,
) -> LoadResult:
    """Drive ``clients`` connections for ``seconds``: closed loop, or paced at ``rate``/s."""
    connections = [await Connection.open(host, port) for _ in range(clients)]
    result = LoadResult()
    began = clock()
    deadline = began + seconds

    async def client_loop(index: int, conn: Connection) -> None:
        sent = 0
        try:
            while True:
                if rate is None:
                    due = clock()
                else:  # this client's requests: every clients-th one of the overall schedule
                    due = began + (index + sent * clients) / rate
                    await asyncio.sleep(max(0.0, due - clock()))
                if due >= deadline:
                    return
                request = next(requests, None)
                if request is None:
                    return
                try:
                    status, body = await conn.post(request)
                except ConnectionError as exc:
                    result.statuses[f"connection lost ({type(exc).__name__})"] += 1
                    conn.close()
                    conn = await Connection.open(host, port)
                    continue
                result.latencies_ms.append((clock() - due) * 1000)
                result.statuses[_status_label(status, body)] += 1
                sent += 1
        finally:
            conn.close()  # the one in use at the end, if a lost one was replaced

    await asyncio.gather(*(client_loop(i, c) for i, c in enumerate(connections)))
    result.elapsed = clock() - began
    return result


def percentile(values: list[float], pct: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * pct / 100))]
