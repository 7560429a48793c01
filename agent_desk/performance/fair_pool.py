"""A pool of asyncpg connections that hands them out in the order they were asked for.

The web app's online booking runs on these connections (``agent_desk.aio``). Two reasons for
a pool of its own rather than asyncpg's:

- Order. asyncpg's pool waits on an ``asyncio.Queue``: a connection put back wakes the
  longest waiter, but a request whose turn in the event loop comes before that waiter's finds
  the connection in the queue and takes it, and the waiter queues again, at the back. Under
  bench/booking's 200 clients requests were passed over and over, which showed in the p99
  latency. Here a connection put back goes straight to the longest waiter, and a newcomer
  takes an idle connection only when nobody waits.
- Cost. Taking and giving back a connection is a list pop and push here; asyncpg's pool
  wraps each hand-over in a task (``asyncio.shield``) and a timeout.

The figures are in bench/README.md.

A connection given back closed, or still inside a transaction (its request was cancelled
mid-way), is dropped, and the longest waiter is given the right to open a new one, so the
pool never holds more than ``size`` connections; an idle one the server closed meanwhile (a
restart) is dropped when its turn comes. Connections idle for ``idle_seconds`` are
closed. The pool resets no session state: its connections only ever run booking
transactions, which change none.
"""

from __future__ import annotations

import asyncio
from collections import deque
from types import TracebackType
from typing import Any

import asyncpg


class PoolClosed(Exception):
    """The pool was closed: no more connections from it."""


class FairPool:
    def __init__(self, dsn: str, *, size: int, idle_seconds: float, **connect_options: Any) -> None:
        if size < 1:
            raise ValueError(f"a pool needs room for at least one connection, not {size}")
        self._dsn = dsn
        self._size = size
        self._idle_seconds = idle_seconds
        self._connect_options = connect_options
        # The most recently used on top: the ones at the bottom are those idle longest.
        self._idle: list[tuple[asyncpg.Connection, float]] = []
        # A waiter is given a connection, or None: the right to open one.
        self._waiters: deque[asyncio.Future[asyncpg.Connection | None]] = deque()
        self._counted = 0  # connections open, being opened, or promised to a waiter
        self._reaper: asyncio.TimerHandle | None = None
        self._closing: set[asyncio.Task[None]] = set()
        self._closed = False

    def acquire(self) -> Lease:
        """``async with pool.acquire() as connection``."""
        return Lease(self)

    @property
    def open_connections(self) -> int:
        """Connections open, being opened, or promised to a waiter."""
        return self._counted

    async def take(self) -> asyncpg.Connection:
        if self._closed:
            raise PoolClosed("the connection pool is closed")
        if not self._live_waiters():
            self._drop_dead_idle()
            if self._idle:
                return self._idle.pop()[0]
            if self._counted < self._size:
                self._counted += 1
                return await self._open()
        turn: asyncio.Future[asyncpg.Connection | None] = asyncio.get_running_loop().create_future()
        self._waiters.append(turn)
        try:
            connection = await turn
        except asyncio.CancelledError:
            self._give_up(turn)
            raise
        return connection if connection is not None else await self._open()

    def give_back(self, connection: asyncpg.Connection) -> None:
        if self._closed or connection.is_closed() or connection.is_in_transaction():
            connection.terminate()
            self._counted -= 1
            self._pass_turn()
            return
        turn = self._next_waiter()
        if turn is not None:
            turn.set_result(connection)
            return
        self._idle.append((connection, asyncio.get_running_loop().time()))
        if self._reaper is None:
            self._arm_reaper()

    async def close(self) -> None:
        """Close the idle connections; those in use are closed as they are given back."""
        self._closed = True
        if self._reaper is not None:
            self._reaper.cancel()
            self._reaper = None
        while (turn := self._next_waiter()) is not None:
            turn.set_exception(PoolClosed("the connection pool was closed"))
        idle, self._idle = self._idle, []
        self._counted -= len(idle)
        await asyncio.gather(*(connection.close() for connection, _ in idle), *self._closing)

    async def _open(self) -> asyncpg.Connection:
        """Open a connection already counted in ``_counted``."""
        try:
            return await asyncpg.connect(self._dsn, **self._connect_options)
        except BaseException:
            self._counted -= 1
            self._pass_turn()
            raise

    def _drop_dead_idle(self) -> None:
        """Forget the idle connections on top that the server closed (a restart): a request
        would only fail on them. Checked as they come up, so it costs one look per take."""
        while self._idle and self._idle[-1][0].is_closed():
            self._idle.pop()[0].terminate()
            self._counted -= 1

    def _pass_turn(self) -> None:
        """Room for one more connection: the longest waiter may open it."""
        if self._closed or self._counted >= self._size:
            return
        turn = self._next_waiter()
        if turn is not None:
            self._counted += 1
            turn.set_result(None)

    def _live_waiters(self) -> bool:
        """Whether anyone still waits (cancelled waiters at the front are dropped)."""
        while self._waiters and self._waiters[0].done():
            self._waiters.popleft()
        return bool(self._waiters)

    def _next_waiter(self) -> asyncio.Future[asyncpg.Connection | None] | None:
        """The longest waiter still waiting, taken off the queue (None: nobody waits)."""
        return self._waiters.popleft() if self._live_waiters() else None

    def _give_up(self, turn: asyncio.Future[asyncpg.Connection | None]) -> None:
        """A waiter was cancelled; what it had just been handed goes to the next one."""
        if not turn.done() or turn.cancelled():
            turn.cancel()  # skipped when its turn comes
            return
        if turn.exception() is not None:
            return
        connection = turn.result()
        if connection is None:
            self._counted -= 1
            self._pass_turn()
        else:
            self.give_back(connection)

    def _arm_reaper(self) -> None:
        loop = asyncio.get_running_loop()
        self._reaper = loop.call_at(self._idle[0][1] + self._idle_seconds, self._reap)

    def _reap(self) -> None:
        """Close the connections idle for ``idle_seconds``."""
        self._reaper = None
        deadline = asyncio.get_running_loop().time() - self._idle_seconds
        while self._idle and self._idle[0][1] <= deadline:
            connection, _ = self._idle.pop(0)
            self._counted -= 1
            task = asyncio.get_running_loop().create_task(connection.close())
            self._closing.add(task)
            task.add_done_callback(self._closing.discard)
        if self._idle:
            self._arm_reaper()


class Lease:
    __slots__ = ("_connection", "_pool")

    def __init__(self, pool: FairPool) -> None:
        self._pool = pool

    async def __aenter__(self) -> asyncpg.Connection:
        self._connection: asyncpg.Connection = await self._pool.take()
        return self._connection

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._pool.give_back(self._connection)
