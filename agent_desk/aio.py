"""The web app's asynchronous clients (Redis, an asyncpg pool), one set per event loop.

Made on first use and kept on the app state. Per loop because asyncio connections belong to
the loop that opened them: a test client that starts a new loop gets clients of its own.
``create_app``'s lifespan closes them when the app stops.

``CC_DESK_FAST_PATH`` chooses them: the performance layer's pool and pipelined Redis
connection (``agent_desk.performance``), or asyncpg's own pool and redis-py's asyncio client.
The online booking and the request counter see only the ports they need
(``backend.booking.online.ConnectionSource``, ``backend.redis_commands.RedisCommands``).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from typing import Any, Protocol

import asyncpg
import redis.asyncio as aioredis
import redis.exceptions

from agent_desk.performance.fair_pool import FairPool
from agent_desk.performance.pipelined_redis import PipelinedRedis
from agent_desk.state import AppState
from backend.db import libpq_url
from backend.redis_commands import RedisCommands, RedisReplyError, RedisUnavailable
from backend.settings import Settings

# An idle pooled connection is closed after this long (the pool keeps none in reserve).
IDLE_SECONDS = 60.0
# How the pool's connections show in pg_stat_activity.
APPLICATION_NAME = "callcenter-online-booking"
# A Redis that has not answered in this long is counted as unavailable (the request gets 503).
REDIS_TIMEOUT_SECONDS = 2.0


class ConnectionPool(Protocol):
    def acquire(self) -> AbstractAsyncContextManager[asyncpg.Connection]: ...

    async def close(self) -> None: ...


class RedisClient(RedisCommands, Protocol):
    async def close(self) -> None: ...


class AsyncpgPool:
    """asyncpg's own pool, initialised on first use (it holds no connection until then)."""

    def __init__(self, dsn: str, *, size: int, **options: Any) -> None:
        self._pool = asyncpg.create_pool(
            dsn, min_size=0, max_size=size, max_inactive_connection_lifetime=IDLE_SECONDS, **options
        )
        self._ready: asyncio.Task[Any] | None = None

    @asynccontextmanager
    async def acquire(self) -> AsyncIterator[asyncpg.Connection]:
        if self._ready is None:  # one initialisation, however many requests wait on it
            self._ready = asyncio.get_running_loop().create_task(self._initialise())
        await asyncio.shield(self._ready)
        async with self._pool.acquire() as connection:
            yield connection

    async def _initialise(self) -> None:
        await self._pool

    async def close(self) -> None:
        if self._ready is None or not self._ready.done() or self._ready.exception():
            return  # not initialised (the task's own failure was its waiters' to report)
        await self._pool.close()


class RedisPyCommands:
    """redis-py's asyncio client behind ``RedisCommands``."""

    def __init__(self, url: str) -> None:
        self._client = aioredis.Redis.from_url(
            url, socket_timeout=REDIS_TIMEOUT_SECONDS, socket_connect_timeout=REDIS_TIMEOUT_SECONDS
        )

    async def execute(self, *args: str | int | bytes) -> Any:
        try:
            return await self._client.execute_command(*args)
        except redis.exceptions.NoScriptError as exc:
            # redis-py strips the code of the errors it has a class for; the port keeps it.
            raise RedisReplyError(f"NOSCRIPT {exc}") from exc
        except redis.exceptions.ResponseError as exc:
            raise RedisReplyError(str(exc)) from exc
        except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError) as exc:
            raise RedisUnavailable(f"Redis: {exc}") from exc

    async def close(self) -> None:
        await self._client.aclose()  # type: ignore[attr-defined]


@dataclass
class LoopClients:
    loop: asyncio.AbstractEventLoop  # held, so that its id cannot be reused by a new loop
    redis: RedisClient
    pool: ConnectionPool

    async def close(self) -> None:
        await self.pool.close()
        await self.redis.close()


def open_clients(settings: Settings, loop: asyncio.AbstractEventLoop) -> LoopClients:
    """The clients ``CC_DESK_FAST_PATH`` chooses. Nothing connects here: the pools and the
    Redis clients connect on first use."""
    dsn = libpq_url(settings.database_url)
    server_settings = {"application_name": APPLICATION_NAME}
    if settings.desk_fast_path:
        pool: ConnectionPool = FairPool(
            dsn,
            size=settings.desk_concurrency,
            idle_seconds=IDLE_SECONDS,
            server_settings=server_settings,
        )
        redis_client: RedisClient = PipelinedRedis(
            settings.redis_url, timeout=REDIS_TIMEOUT_SECONDS
        )
    else:
        pool = AsyncpgPool(dsn, size=settings.desk_concurrency, server_settings=server_settings)
        redis_client = RedisPyCommands(settings.redis_url)
    return LoopClients(loop, redis_client, pool)


def loop_clients(ctx: AppState) -> LoopClients:
    """The running loop's clients, made on the first call from that loop."""
    loop = asyncio.get_running_loop()
    clients: LoopClients | None = ctx.loop_clients.get(id(loop))
    if clients is None:
        clients = ctx.loop_clients[id(loop)] = open_clients(ctx.settings, loop)
    return clients


async def close_loop_clients(ctx: AppState) -> None:
    clients = ctx.loop_clients.pop(id(asyncio.get_running_loop()), None)
    if clients is not None:
        await clients.close()
