"""A fixed-window request counter per client address, in Redis, shared by every web worker.

Asynchronous: the web app counts on its event loop, so that the busiest route (the online
booking API) spends no thread-pool hop on a counter.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

import redis.asyncio

from backend.errors import CallCenterError


class RateLimited(CallCenterError):
    code = "rate-limited"

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class RateLimiter:
    def __init__(
        self,
        client: redis.asyncio.Redis,
        *,
        prefix: str,
        limit: int,
        window_seconds: int,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._redis = client
        self._prefix = prefix
        self._limit = limit
        self._window = window_seconds
        self._clock = clock

    async def hit(self, address: str) -> None:
        """Count one request; raise ``RateLimited`` with the seconds to wait when over."""
        if self._limit <= 0:
            return
        now = self._clock()
        window = int(now // self._window)
        key = f"{self._prefix}rate:{address}:{window}"
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.incr(key)
            pipe.expire(key, self._window * 2)
            count = int((await pipe.execute())[0])
        if count > self._limit:
            retry_after = max(1, math.ceil((window + 1) * self._window - now))
            raise RateLimited(
                f"请求过于频繁：每{self._window}秒最多{self._limit}次，请{retry_after}秒后再试",
                retry_after,
            )
