"""The per-address request counter on the real Redis: the limit, Retry-After, the key's expiry,
and a Redis that has forgotten the counting script (restart, SCRIPT FLUSH); through both
clients the web app may count on (``CC_DESK_FAST_PATH``)."""

from __future__ import annotations

import pytest
import redis

from agent_desk.aio import RedisPyCommands
from agent_desk.performance.pipelined_redis import PipelinedRedis
from backend.booking.rate_limit import RateLimited, RateLimiter
from backend.settings import Settings


@pytest.mark.parametrize("client_class", [PipelinedRedis, RedisPyCommands])
async def test_counts_per_window_and_survives_a_flushed_script_cache(
    client_class: type[PipelinedRedis | RedisPyCommands],
    settings: Settings,
    redis_client: redis.Redis,
    redis_namespace: str,
) -> None:
    now = 60 * 16_666_667 + 30.0  # 30 s into a 60 s window
    client = client_class(settings.redis_url)
    limiter = RateLimiter(
        client,
        prefix=f"{redis_namespace}:{client_class.__name__}:rl:",
        limit=3,
        window_seconds=60,
        clock=lambda: now,
    )
    try:
        for _ in range(2):
            await limiter.hit("10.0.0.1")
        redis_client.script_flush()
        await limiter.hit("10.0.0.1")  # third: counted by the script sent again in full
        with pytest.raises(RateLimited) as refused:
            await limiter.hit("10.0.0.1")
        assert refused.value.retry_after == 30
        assert "每60秒最多3次" in refused.value.message
        await limiter.hit("10.0.0.2")  # another address has its own count
        key = f"{redis_namespace}:{client_class.__name__}:rl:rate:10.0.0.1:{int(now // 60)}"
        assert redis_client.get(key) == "4"
        assert 0 < redis_client.ttl(key) <= 120  # the expiry set once, by the first hit
    finally:
        await client.close()
