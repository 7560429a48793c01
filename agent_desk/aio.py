"""The web app's asynchronous clients (Redis, an asyncpg pool), one set per event loop.

Made on first use and kept on the app context. Per loop because asyncio connections belong to
the loop that opened them: a test client that starts a new loop gets clients of its own.
``create_app``'s lifespan closes them when the app stops.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from agent_desk.deps import DeskContext
from backend.db import libpq_url
from backend.fair_pool import FairPool
from backend.pipelined_redis import PipelinedRedis

# An idle pooled connection is closed after this long (the pool keeps none in reserve).
IDLE_SECONDS = 60.0
# How the pool's connections show in pg_stat_activity.
APPLICATION_NAME = "callcenter-online-booking"


@dataclass
class LoopClients:
    loop: asyncio.AbstractEventLoop  # held, so that its id cannot be reused by a new loop
    redis: PipelinedRedis
    pool: FairPool

    async def close(self) -> None:
        await self.pool.close()
        await self.redis.close()


async def _open(ctx: DeskContext, loop: asyncio.AbstractEventLoop) -> LoopClients:
    pool = FairPool(
        libpq_url(ctx.settings.database_url),
        size=ctx.settings.desk_concurrency,
        idle_seconds=IDLE_SECONDS,
        server_settings={"application_name": APPLICATION_NAME},
    )
    return LoopClients(loop, PipelinedRedis(ctx.settings.redis_url), pool)


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
