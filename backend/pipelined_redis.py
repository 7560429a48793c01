"""One Redis connection shared by every coroutine of an event loop, its commands pipelined.

The public API counts each request in Redis (``booking.rate_limit``). Through redis-py's
asyncio client that count cost about 120 µs of CPU per command, and with more requests in
flight than pooled connections the surplus waited for a connection. Redis answers the
commands of one connection in the order they were sent, so one connection serves every
caller without a pool and without waiting for one: a command is written at once and its
future queued, and the replies, parsed by hiredis, settle the futures in that order.

A lost connection fails the commands still waiting on it with ``RedisUnavailable``; the
next command connects again. A command that gets no reply within ``timeout`` fails the
same way, and the connection is dropped, since a Redis that stopped answering one caller
stopped answering them all.
"""

from __future__ import annotations

import asyncio
from collections import deque
from typing import Any, cast
from urllib.parse import unquote, urlsplit

import hiredis


class RedisUnavailable(Exception):
    """Redis could not be reached, or did not answer in time."""


class RedisReplyError(Exception):
    """Redis answered with an error (``NOSCRIPT ...``, ``WRONGTYPE ...``)."""


class _Connection(asyncio.Protocol):
    def __init__(self) -> None:
        self._transport: asyncio.Transport | None = None
        self._waiting: deque[asyncio.Future[Any]] = deque()
        self._reader = hiredis.Reader()
        self.lost = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # A TCP transport (uvloop's is not an asyncio.Transport subclass, so no isinstance).
        self._transport = cast(asyncio.Transport, transport)

    def send(self, args: tuple[str | int | bytes, ...]) -> asyncio.Future[Any]:
        if self.lost or self._transport is None:
            raise RedisUnavailable("Redis connection lost")
        reply = asyncio.get_running_loop().create_future()
        self._waiting.append(reply)
        # hiredis's stub declares a one-element tuple where any length is meant.
        self._transport.write(hiredis.pack_command(args))  # type: ignore[arg-type]
        return reply

    def data_received(self, data: bytes) -> None:
        self._reader.feed(data)
        while (reply := self._reader.gets()) is not False:
            waiter = self._waiting.popleft()
            if waiter.done():  # its caller gave up (cancelled); the reply is still its own
                continue
            if isinstance(reply, hiredis.ReplyError):
                waiter.set_exception(RedisReplyError(str(reply)))
            else:
                waiter.set_result(reply)

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost = True
        while self._waiting:
            waiter = self._waiting.popleft()
            if not waiter.done():
                waiter.set_exception(RedisUnavailable(f"Redis connection lost: {exc}"))

    def close(self) -> None:
        self.lost = True
        if self._transport is not None:
            self._transport.close()


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
        reply = connection.send(args)
        try:
            async with asyncio.timeout(self._timeout):
                return await reply
        except TimeoutError:
            connection.close()
            raise RedisUnavailable(f"Redis did not answer within {self._timeout:g} s") from None

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
            _, connection = await loop.create_connection(_Connection, self._host, self._port)
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
