"""Reading back everything a test's Redis prefix holds, to look for personal data in it."""

from __future__ import annotations

from redis.asyncio import Redis


async def values_under(redis: Redis, prefix: str) -> list[str]:
    """Every key under ``prefix`` and every value it holds, whatever its type (a client
    with decode_responses)."""
    found: list[str] = []
    async for key in redis.scan_iter(f"{prefix}*"):
        found.append(key)
        kind = await redis.type(key)
        if kind == "string":
            found.append(await redis.get(key) or "")
        elif kind == "hash":
            for field, value in (await redis.hgetall(key)).items():
                found += [field, value]
        elif kind == "list":
            found += await redis.lrange(key, 0, -1)
        elif kind == "set":
            found += list(await redis.smembers(key))
        elif kind == "zset":
            found += await redis.zrange(key, 0, -1)
        elif kind == "stream":
            for _id, fields in await redis.xrange(key):
                for field, value in fields.items():
                    found += [field, value]
        else:
            raise AssertionError(f"{key}: a Redis type this check does not read: {kind}")
    return found


def holding(values: list[str], number: str) -> list[str]:
    """The values in which ``number`` appears in clear."""
    return [v for v in values if number in v]
