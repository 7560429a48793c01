"""The pipelined Redis connection on the real Redis: many callers at once each get their own
reply, an error reply stays with its command, a caller that gives up does not shift the
replies of the others, a killed connection fails its waiters and is made again, and a Redis
that cannot be reached or does not answer is ``RedisUnavailable`` within the timeout."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
import redis
import uvloop

from agent_desk.performance.pipelined_redis import PipelinedRedis, RedisReplyError, RedisUnavailable
from backend.settings import Settings
from tests.conftest import free_port


@pytest.fixture()
async def client(settings: Settings) -> AsyncIterator[PipelinedRedis]:
    connection = PipelinedRedis(settings.redis_url)
    yield connection
    await connection.close()


async def test_concurrent_callers_get_their_own_replies(
    client: PipelinedRedis, redis_client: redis.Redis, redis_namespace: str
) -> None:
    keys = [f"{redis_namespace}:pipe:{n}" for n in range(300)]
    counts = await asyncio.gather(*(client.execute("INCRBY", key, n) for n, key in enumerate(keys)))
    assert counts == list(range(300))
    echoed = await asyncio.gather(*(client.execute("ECHO", f"回声{n}") for n in range(300)))
    assert echoed == [f"回声{n}".encode() for n in range(300)]
    assert redis_client.get(keys[299]) == "299"
    assert int(await client.execute("CLIENT", "ID")) > 0  # still the one connection, answering


async def test_an_error_reply_belongs_to_its_command(
    client: PipelinedRedis, redis_namespace: str
) -> None:
    key = f"{redis_namespace}:pipe:text"
    await client.execute("SET", key, "不是数字")
    wrong, right = await asyncio.gather(
        client.execute("INCR", key), client.execute("ECHO", "ok"), return_exceptions=True
    )
    assert isinstance(wrong, RedisReplyError) and "not an integer" in str(wrong)
    assert right == b"ok"


async def test_a_caller_that_gives_up_does_not_shift_the_replies(
    client: PipelinedRedis, redis_namespace: str
) -> None:
    # BLPOP holds its reply for a second; its caller leaves before. The reply, when it comes,
    # must go nowhere rather than to the ECHO sent after it.
    waiting = asyncio.ensure_future(client.execute("BLPOP", f"{redis_namespace}:pipe:empty", 1))
    await asyncio.sleep(0.1)
    waiting.cancel()
    assert await client.execute("ECHO", "after") == b"after"


async def test_a_killed_connection_fails_its_waiters_and_is_made_again(
    client: PipelinedRedis, redis_client: redis.Redis, redis_namespace: str
) -> None:
    connection_id = int(await client.execute("CLIENT", "ID"))
    blocked = asyncio.ensure_future(client.execute("BLPOP", f"{redis_namespace}:pipe:none", 1))
    await asyncio.sleep(0.1)
    redis_client.execute_command("CLIENT", "KILL", "ID", connection_id)
    with pytest.raises(RedisUnavailable, match="lost"):
        await blocked
    assert int(await client.execute("CLIENT", "ID")) != connection_id


async def test_no_redis_is_unavailable_not_a_hang() -> None:
    nobody = PipelinedRedis(f"redis://127.0.0.1:{free_port()}/0", timeout=1.0)
    with pytest.raises(RedisUnavailable, match=r"127\.0\.0\.1"):
        await nobody.execute("PING")


async def test_a_redis_that_stops_answering_is_unavailable_after_the_timeout() -> None:
    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read()  # takes the commands, answers none

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    mute = PipelinedRedis(f"redis://127.0.0.1:{port}/0", timeout=0.3)
    try:
        with pytest.raises(RedisUnavailable, match=r"did not answer within 0\.3 s"):
            await mute.execute("PING")
    finally:
        await mute.close()
        server.close()


def test_only_redis_urls_are_taken() -> None:
    with pytest.raises(ValueError, match="rediss://"):
        PipelinedRedis("rediss://127.0.0.1:6379/0")


def test_works_on_uvloop_as_under_uvicorn(settings: Settings, redis_namespace: str) -> None:
    async def count() -> list[int]:
        client = PipelinedRedis(settings.redis_url)
        try:
            key = f"{redis_namespace}:pipe:uvloop"
            return list(await asyncio.gather(*(client.execute("INCR", key) for _ in range(50))))
        finally:
            await client.close()

    assert uvloop.run(count()) == list(range(1, 51))
