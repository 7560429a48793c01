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


def _open(ctx: DeskContext, loop: asyncio.AbstractEventLoop) -> LoopClients:
    # Nothing connects here: the pool and the Redis client connect on first use.
    pool = FairPool(
        libpq_url(ctx.settings.database_url),
        size=ctx.settings.desk_concurrency,
        idle_seconds=IDLE_SECONDS,
        server_settings={"application_name": APPLICATION_NAME},
    )
    return LoopClients(loop, PipelinedRedis(ctx.settings.redis_url), pool)


def loop_clients(ctx: DeskContext) -> LoopClients:
    """The running loop's clients, made on the first call from that loop."""
    loop = asyncio.get_running_loop()
    clients: LoopClients | None = ctx.loop_clients.get(id(loop))
    if clients is None:
        clients = ctx.loop_clients[id(loop)] = _open(ctx, loop)
    return clients


async def close_loop_clients(ctx: DeskContext) -> None:
    clients = ctx.loop_clients.pop(id(asyncio.get_running_loop()), None)
    if clients is not None:
        await clients.close()
