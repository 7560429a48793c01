"""FairPool on real PostgreSQL: connections go to the requests in the order they asked (a
request starting as a connection is put back included), the pool never holds more than its
size, a connection given back broken or inside a transaction is replaced, idle connections
are closed, and a cancelled waiter loses nobody a connection.

(The order sequence does not catch asyncpg's own pool out: its queue is passed when a
newcomer's callback was already due in the event loop's turn that put the connection back,
which a test cannot stage reliably. The measured effect is in bench/README.md.)"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import asyncpg
import pytest

from agent_desk.performance.fair_pool import FairPool, PoolClosed
from backend.db import libpq_url
from backend.settings import Settings


@pytest.fixture
async def pools() -> AsyncIterator[list[FairPool]]:
    """The pools a test made, closed after it."""
    made: list[FairPool] = []
    yield made
    for pool in made:
        await pool.close()


def pool_of(settings: Settings, pools: list[FairPool], size: int, idle: float = 60.0) -> FairPool:
    name = f"cc-test-pool-{uuid.uuid4().hex[:8]}"
    pool = FairPool(
        libpq_url(settings.database_url),
        size=size,
        idle_seconds=idle,
        server_settings={"application_name": name},
    )
    pools.append(pool)
    return pool


async def backends_of(settings: Settings, pool: FairPool) -> int:
    """The pool's connections as PostgreSQL counts them."""
    name = pool._connect_options["server_settings"]["application_name"]
    connection = await asyncpg.connect(libpq_url(settings.database_url))
    try:
        count: int = await connection.fetchval(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = $1", name
        )
        return count
    finally:
        await connection.close()


async def backends_become(settings: Settings, pool: FairPool, count: int) -> int:
    """The pool's backends once they number ``count``, or after 10 s: a terminated backend
    takes a moment to end, and idle connections are closed on a timer."""
    deadline = asyncio.get_running_loop().time() + 10
    while True:
        found = await backends_of(settings, pool)
        if found == count or asyncio.get_running_loop().time() > deadline:
            return found
        await asyncio.sleep(0.05)


async def held_with_waiters(
    pool: FairPool, waiters: int = 1
) -> tuple[asyncpg.Connection, list[asyncio.Task[asyncpg.Connection]]]:
    """The pool's one connection taken, and ``waiters`` requests queued behind it."""
    holder = await pool.take()
    queued = [asyncio.create_task(pool.take()) for _ in range(waiters)]
    await asyncio.sleep(0.05)
    assert not any(task.done() for task in queued)
    return holder, queued


async def test_connections_go_in_the_order_asked_for(
    settings: Settings, pools: list[FairPool]
) -> None:
    source = pool_of(settings, pools, 1)
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

    first = asyncio.create_task(first_then_newcomer())
    await asyncio.sleep(0.05)
    waiters = [asyncio.create_task(use(f"waiter{n}")) for n in range(3)]
    await asyncio.sleep(0.05)
    release.set()
    await asyncio.gather(first, *waiters)
    assert order == ["first", "waiter0", "waiter1", "waiter2", "newcomer"]


async def test_never_more_connections_than_its_size(
    settings: Settings, pools: list[FairPool]
) -> None:
    pool = pool_of(settings, pools, 3)
    busy = 0
    most = 0

    async def use() -> None:
        nonlocal busy, most
        async with pool.acquire() as connection:
            busy += 1
            most = max(most, busy)
            await connection.fetchval("SELECT pg_sleep(0.01)")
            busy -= 1

    await asyncio.gather(*(use() for _ in range(40)))
    assert most == 3
    assert pool.open_connections == 3
    assert await backends_of(settings, pool) == 3


async def test_broken_and_unfinished_connections_are_replaced(
    settings: Settings, pools: list[FairPool]
) -> None:
    pool = pool_of(settings, pools, 1)
    async with pool.acquire() as first:
        first_pid = first.get_server_pid()
        first.terminate()  # broken while in use
    async with pool.acquire() as second:
        assert second.get_server_pid() != first_pid
        assert await second.fetchval("SELECT 1") == 1
        second_pid = second.get_server_pid()
        transaction = second.transaction()
        await transaction.start()  # given back inside a transaction: its state is unknown
    async with pool.acquire() as third:
        assert third.get_server_pid() != second_pid
        assert not third.is_in_transaction()
    assert pool.open_connections == 1
    assert await backends_become(settings, pool, 1) == 1  # the dropped connections' ended


async def test_a_waiter_gets_the_room_of_a_dropped_connection(
    settings: Settings, pools: list[FairPool]
) -> None:
    pool = pool_of(settings, pools, 1)
    holder, [waiter] = await held_with_waiters(pool)
    holder.terminate()
    pool.give_back(holder)  # dropped: the waiter may open a new one
    replacement = await asyncio.wait_for(waiter, 10)
    assert await replacement.fetchval("SELECT 2") == 2
    pool.give_back(replacement)
    assert pool.open_connections == 1


async def test_a_cancelled_waiter_loses_nobody_a_connection(
    settings: Settings, pools: list[FairPool]
) -> None:
    pool = pool_of(settings, pools, 1)
    holder, [gone, after] = await held_with_waiters(pool, 2)
    gone.cancel()
    pool.give_back(holder)  # skips the cancelled waiter
    taken = await asyncio.wait_for(after, 10)
    assert taken is holder
    with pytest.raises(asyncio.CancelledError):
        await gone
    # Handed a connection in the same turn it was cancelled: the connection goes on.
    late = asyncio.create_task(pool.take())
    following = asyncio.create_task(pool.take())
    await asyncio.sleep(0.05)
    pool.give_back(taken)
    late.cancel()
    assert await asyncio.wait_for(following, 10) is holder
    pool.give_back(holder)
    assert pool.open_connections == 1


async def test_idle_connections_are_closed(settings: Settings, pools: list[FairPool]) -> None:
    pool = pool_of(settings, pools, 4, idle=1.0)

    async def use() -> None:
        async with pool.acquire() as connection:
            await connection.fetchval("SELECT pg_sleep(0.05)")

    await asyncio.gather(*(use() for _ in range(4)))
    assert pool.open_connections == 4
    assert await backends_become(settings, pool, 0) == 0
    assert pool.open_connections == 0
    await use()  # and a later request opens one again
    assert pool.open_connections == 1


async def test_a_closed_pool_gives_no_more_connections(
    settings: Settings, pools: list[FairPool]
) -> None:
    pool = pool_of(settings, pools, 1)
    holder, [waiter] = await held_with_waiters(pool)
    await pool.close()
    with pytest.raises(PoolClosed):
        await waiter
    with pytest.raises(PoolClosed):
        await pool.take()
    pool.give_back(holder)  # closed as it comes back
    assert holder.is_closed()
    assert pool.open_connections == 0
