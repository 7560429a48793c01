"""One Redis connection shared by every coroutine of an event loop, its commands pipelined.

The public API counts each request in Redis (``booking.rate_limit``). Through redis-py's
asyncio client that count was a measurable share of a booking's CPU (bench/README.md), and
with more requests in flight than pooled connections the surplus waited for a connection. Redis answers the
commands of one connection in the order they were sent, so one connection serves every
caller without a pool and without waiting for one: a command is queued with its future and
written at the end of the loop's pass, with the other commands of that pass
(``coalesced_writes``), and the replies, parsed by hiredis, settle the futures in
that order.

A lost connection fails the commands still waiting on it with ``RedisUnavailable``; the
next command connects again. A command that gets no reply within ``timeout`` fails the
same way, and the connection is dropped, since a Redis that stopped answering one caller
stopped answering them all.
"""

from __future__ import annotations

import asyncio
from collections import deque
from functools import partial
from typing import Any, cast
from urllib.parse import unquote, urlsplit

import hiredis

from agent_desk.performance.coalesced_writes import CoalescingTransport
from backend.redis_commands import RedisReplyError, RedisUnavailable


class _Connection(asyncio.Protocol):
    def __init__(self, timeout: float) -> None:
        self._transport: asyncio.Transport | None = None
        self._timeout = timeout
        # Each command's future and when it was sent, oldest first (Redis answers in order).
        self._waiting: deque[tuple[asyncio.Future[Any], float]] = deque()
        self._watchdog: asyncio.TimerHandle | None = None
        self._reader = hiredis.Reader()
        self.lost = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # A TCP transport (uvloop's is not an asyncio.Transport subclass, so no isinstance).
        # The commands sent in one pass of the loop leave in one write.
        self._transport = CoalescingTransport(cast(asyncio.Transport, transport))

    def send(self, args: tuple[str | int | bytes, ...]) -> asyncio.Future[Any]:
        if self.lost or self._transport is None:
            raise RedisUnavailable("Redis connection lost")
        loop = asyncio.get_running_loop()
        reply = loop.create_future()
        self._waiting.append((reply, loop.time()))
        # One timer for the connection, not one per command: it watches the oldest command.
        if self._watchdog is None:
            self._watchdog = loop.call_later(self._timeout, self._check_answered)
        # hiredis's stub declares a one-element tuple where any length is meant.
        self._transport.write(hiredis.pack_command(args))  # type: ignore[arg-type]
        return reply

    def data_received(self, data: bytes) -> None:
        self._reader.feed(data)
        while (reply := self._reader.gets()) is not False:
            waiter, _ = self._waiting.popleft()
            if waiter.done():  # its caller gave up (cancelled); the reply is still its own
                continue
            if isinstance(reply, hiredis.ReplyError):
                waiter.set_exception(RedisReplyError(str(reply)))
            else:
                waiter.set_result(reply)

    def connection_lost(self, exc: Exception | None) -> None:
        self._fail_all(RedisUnavailable(f"Redis connection lost: {exc}"))

    def close(self, why: str = "Redis connection closed") -> None:
        """Drop the connection; the commands still waiting on it fail with ``why``."""
        self._fail_all(RedisUnavailable(why))
        if self._transport is not None:
            self._transport.close()

    def _check_answered(self) -> None:
        """A Redis that stopped answering one command stopped answering them all: when the
        oldest command has waited ``timeout``, the connection is dropped and every command
        on it fails."""
        self._watchdog = None
        if not self._waiting:
            return
        loop = asyncio.get_running_loop()
        left = self._waiting[0][1] + self._timeout - loop.time()
        if left > 0:
            self._watchdog = loop.call_later(left, self._check_answered)
            return
        self.close(f"Redis did not answer within {self._timeout:g} s")

    def _fail_all(self, error: RedisUnavailable) -> None:
        self.lost = True
        if self._watchdog is not None:
            self._watchdog.cancel()
            self._watchdog = None
        while self._waiting:
            waiter, _ = self._waiting.popleft()
            if not waiter.done():
                waiter.set_exception(error)


class PipelinedRedis:
    def __init__(self, url: str, *, timeout: float = 2.0) -> None:
        parts = urlsplit(url)
        if parts.scheme != "redis":
            raise ValueError(f"only redis:// URLs are supported, not {url!r}")
        self._host = parts.hostname or "127.0.0.1"
        self._port = parts.port or 6379
        self._password = unquote(parts.password) if parts.password else None
        self._username = unquote(parts.username) if parts.username else None
        self._db = int(parts.path.strip("/") or 0)
        self._timeout = timeout
        self._connection: _Connection | None = None
        self._connecting: asyncio.Task[_Connection] | None = None

    async def execute(self, *args: str | int | bytes) -> Any:
        """Send one command and wait for its reply."""
        connection = await self._connected()
        return await connection.send(args)

    async def close(self) -> None:
        if self._connecting is not None:
            self._connecting.cancel()
        if self._connection is not None:
            self._connection.close()

    async def _connected(self) -> _Connection:
        if self._connection is not None and not self._connection.lost:
            return self._connection
        # Concurrent callers share one attempt.
        if self._connecting is None or self._connecting.done():
            self._connecting = asyncio.get_running_loop().create_task(self._connect())
        try:
            self._connection = await asyncio.shield(self._connecting)
        except (OSError, TimeoutError, RedisReplyError) as exc:
            raise RedisUnavailable(
                f"Redis at {self._host}:{self._port}: {exc or type(exc).__name__}"
            ) from exc
        return self._connection

    async def _connect(self) -> _Connection:
        loop = asyncio.get_running_loop()
        async with asyncio.timeout(self._timeout):
            _, connection = await loop.create_connection(
                partial(_Connection, self._timeout), self._host, self._port
            )
            try:
                for command in self._setup_commands():
                    await connection.send(command)
            except BaseException:
                connection.close()
                raise
        return connection

    def _setup_commands(self) -> list[tuple[str | int | bytes, ...]]:
        setup: list[tuple[str | int | bytes, ...]] = []
        if self._password is not None:
            user = (self._username,) if self._username else ()
            setup.append(("AUTH", *user, self._password))
        if self._db:
            setup.append(("SELECT", self._db))
        return setup
