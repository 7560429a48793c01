"""The web app's asynchronous clients (Redis, an asyncpg pool), one set per event loop.

Made on first use and kept on the app context. Per loop because asyncio connections belong to
the loop that opened them: a test client that starts a new loop gets clients of its own.
``create_app``'s lifespan closes them when the app stops.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import asyncpg

from agent_desk.deps import DeskContext
from backend.db import libpq_url
from backend.fair_pool import FairPool
from backend.pipelined_redis import PipelinedRedis

# An idle pooled connection is closed after this long (the pool keeps none in reserve).
IDLE_SECONDS = 60.0


@dataclass
class LoopClients:
    loop: asyncio.AbstractEventLoop  # held, so that its id cannot be reused by a new loop
    redis: PipelinedRedis
    pool: FairPool

    async def close(self) -> None:
        await self.pool.close()
        await self.redis.close()


async def _keep_session(connection: asyncpg.Connection) -> None:
    """Skips asyncpg's session reset (``RESET ALL``, ``UNLISTEN *`` ... a round trip on every
    release): these connections only ever run booking transactions, which change no session
    state, and asyncpg still rolls back a transaction left open before this is called."""


async def _open(ctx: DeskContext, loop: asyncio.AbstractEventLoop) -> LoopClients:
    size = ctx.settings.desk_concurrency
    pool = await asyncpg.create_pool(
        libpq_url(ctx.settings.database_url),
        min_size=0,
        max_size=size,
        max_inactive_connection_lifetime=IDLE_SECONDS,
        reset=_keep_session,
    )
    return LoopClients(loop, PipelinedRedis(ctx.settings.redis_url), FairPool(pool, size))


async def loop_clients(ctx: DeskContext) -> LoopClients:
    loop = asyncio.get_running_loop()
    opening = ctx.loop_clients.get(id(loop))
    if opening is None:
        opening = ctx.loop_clients[id(loop)] = loop.create_task(_open(ctx, loop))
    if opening.done():  # every request after the first: no shield (a future and callbacks)
        return opening.result()
    return await asyncio.shield(opening)


async def close_loop_clients(ctx: DeskContext) -> None:
    loop = asyncio.get_running_loop()
    opening = ctx.loop_clients.pop(id(loop), None)
    if opening is not None:
        await (await opening).close()
