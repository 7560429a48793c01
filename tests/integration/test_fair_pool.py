"""FairPool on real PostgreSQL: connections go to the requests in the order they asked, a
request starting as a connection is put back included.

(This sequence does not catch asyncpg's own pool out: its queue is passed when a newcomer's
callback was already due in the event loop's turn that put the connection back, which a
test cannot stage reliably. The measured effect is in ``backend/fair_pool.py``.)"""

from __future__ import annotations

import asyncio

import asyncpg

from backend.db import libpq_url
from backend.fair_pool import FairPool
from backend.settings import Settings


async def served_order(settings: Settings) -> list[str]:
    pool = await asyncpg.create_pool(libpq_url(settings.database_url), min_size=1, max_size=1)
    source = FairPool(pool, 1)
    order: list[str] = []
    release = asyncio.Event()

    async def use(name: str, hold: asyncio.Event | None = None) -> None:
        async with source.acquire() as connection:
            order.append(name)
            await connection.fetchval("SELECT 1")
            if hold is not None:
                await hold.wait()

    async def first_then_newcomer() -> None:
        await use("first", hold=release)
        # A request that starts in the very turn the connection went back, before the
        # longest waiter has run: how a busy event loop meets the pool.
        await use("newcomer")

    try:
        first = asyncio.create_task(first_then_newcomer())
        await asyncio.sleep(0.05)
        waiters = [asyncio.create_task(use(f"waiter{n}")) for n in range(3)]
        await asyncio.sleep(0.05)
        release.set()
        await asyncio.gather(first, *waiters)
    finally:
        await pool.close()
    return order


async def test_connections_go_in_the_order_asked_for(settings: Settings) -> None:
    assert await served_order(settings) == [
        "first", "waiter0", "waiter1", "waiter2", "newcomer"
    ]  # fmt: skip
