"""Which controller holds an AGI conversation for which call, in Redis beside the ACD.

The resync closes only records that no live controller holds a conversation for: with
several Asterisk nodes on one database, a call on another node than the one this
controller's AMI sees is absent from its view, but its own controller holds it. Each
controller keeps the set ``P:acd:sessions:<controller id>``; a restarted controller starts it
afresh (its old conversations died with it), and a killed one's set is read as nobody's once
its heartbeat is stale.
"""

from __future__ import annotations

import logging
from collections.abc import Collection

from redis.asyncio import Redis
from redis.exceptions import RedisError

from backend.acd.store import AcdStore

log = logging.getLogger("ivr.resync")


class SessionRegistry:
    def __init__(self, redis: Redis, store: AcdStore) -> None:
        self._redis = redis
        self._store = store
        self._own = store.key("sessions", store.controller_id)

    async def clear(self) -> None:
        """At start: the conversations this controller held before died with it."""
        await self._redis.delete(self._own)

    async def opened(self, call_id: str) -> None:
        # Bookkeeping for the resync: a Redis hiccup must never cost the caller his call.
        try:
            await self._redis.sadd(self._own, call_id)
        except RedisError as exc:
            log.warning("call %s: session not registered: %s", call_id, exc)

    async def closed(self, call_id: str) -> None:
        try:
            await self._redis.srem(self._own, call_id)
        except RedisError as exc:
            log.warning("call %s: session not unregistered: %s", call_id, exc)

    async def held(self, call_ids: Collection[str], stale_after: float) -> set[str]:
        """The calls among ``call_ids`` a live controller holds a conversation for."""
        if not call_ids:
            return set()
        live = await self._store.live_controllers(stale_after)
        held: set[str] = set()
        for controller in live:
            key = self._store.key("sessions", controller)
            flags = await self._redis.smismember(key, list(call_ids))
            held |= {c for c, flag in zip(call_ids, flags, strict=True) if flag}
        return held

    async def forget(self, call_id: str) -> None:
        """A closed lost call leaves the sets of the controllers that are gone."""
        async for key in self._redis.scan_iter(match=self._store.key("sessions", "*")):
            await self._redis.srem(key, call_id)
