"""A fixed-window request counter per client address, in Redis, shared by every web worker.

Asynchronous: the web app counts on its event loop, so that the busiest route (the online
booking API) spends no thread-pool hop on a counter, on the loop's Redis client
(``backend.redis_commands``). One Lua script per hit (count, and start the key's expiry with
the window's first request): a single command instead of INCR and EXPIRE.
"""

from __future__ import annotations

import hashlib
import math
import time
from collections.abc import Callable

from backend.errors import CallCenterError
from backend.redis_commands import RedisCommands, RedisReplyError

COUNT_HIT = """
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
return count
"""
COUNT_HIT_SHA = hashlib.sha1(COUNT_HIT.encode()).hexdigest()


class RateLimited(CallCenterError):
    code = "rate-limited"
    http_status = 429

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after

    def response_headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after)}


class RateLimiter:
    def __init__(
        self,
        client: RedisCommands,
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
        expiry = self._window * 2
        try:
            count = int(await self._redis.execute("EVALSHA", COUNT_HIT_SHA, 1, key, expiry))
        except RedisReplyError as exc:
            if not str(exc).startswith("NOSCRIPT"):
                raise
            # A restarted Redis has forgotten the script: send it whole.
            count = int(await self._redis.execute("EVAL", COUNT_HIT, 1, key, expiry))
        if count > self._limit:
            retry_after = max(1, math.ceil((window + 1) * self._window - now))
            raise RateLimited(
                f"请求过于频繁：每{self._window}秒最多{self._limit}次，请{retry_after}秒后再试",
                retry_after,
            )
