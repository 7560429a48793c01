"""The desk's dial requests on the real Redis: taken once, the number only encrypted, one
request per agent while his phone rings."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis

from backend.personal_data import PersonalDataCipher
from backend.settings import Settings
from backend.telephony.dial_requests import DialInProgress, DialRequest, DialRequests, Purpose


@pytest.fixture()
async def aredis(settings: Settings, redis_namespace: str) -> AsyncIterator[Redis]:
    client = Redis.from_url(settings.redis_url, decode_responses=True)
    yield client
    async for key in client.scan_iter(f"{redis_namespace}-req*"):
        await client.delete(key)
    await client.aclose()


async def test_dial_requests_are_taken_once_and_ring_an_agent_once(
    aredis: Redis, redis_namespace: str, settings: Settings
) -> None:
    cipher = PersonalDataCipher(settings.data_key.get_secret_value())
    requests = DialRequests(aredis, f"{redis_namespace}-req", cipher, ttl_seconds=30)
    asked = DialRequest(9, "13800138000", "hotline", Purpose.REVISIT, order_id=42, actor="a1009")
    tokens = await asyncio.gather(requests.put(asked), requests.put(asked), return_exceptions=True)
    token = next(t for t in tokens if isinstance(t, str))
    assert sum(isinstance(t, DialInProgress) for t in tokens) == 1  # a double click rings once
    stored = [await aredis.get(k) async for k in aredis.scan_iter(f"{redis_namespace}-req*")]
    assert not any("13800138000" in (v or "") for v in stored)  # the number only encrypted
    assert await requests.take("not-a-token!") is None
    assert await requests.take(token) == asked
    assert await requests.take(token) is None  # a replayed AGI dials nothing
    assert isinstance(await requests.put(asked), str)  # taken: the agent may dial again
