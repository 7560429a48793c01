"""An asyncpg pool that hands out its connections in the order they were asked for.

asyncpg's pool waits on an ``asyncio.Queue``: a connection put back wakes the longest waiter,
but a request whose turn in the event loop comes before that waiter's finds the connection
in the queue and takes it, and the waiter queues again, at the back. Under bench/booking's
200 clients (16 connections per worker) requests were passed over and over: in alternating
runs the closed-loop p99 was 0.86-1.1 s through the bare pool and 0.55 s through this one,
at the same throughput. A first-come-first-served semaphore with one permit per connection,
in front of the pool, keeps the order: nobody reaches the pool's queue unless a connection is
free for them.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg


class FairPool:
    def __init__(self, pool: asyncpg.Pool, size: int) -> None:
        self._pool = pool
        # asyncio.Semaphore serves its waiters in order and lets no newcomer past them.
        self._turns = asyncio.Semaphore(size)

    @asynccontextmanager
    async def acquire(self) -> AsyncIterator[asyncpg.Connection]:
        async with self._turns, self._pool.acquire() as connection:
            yield connection

    async def close(self) -> None:
        await self._pool.close()
