"""Applies skill (queue) settings edited on the admin page to this running controller.

It listens on ``backend.acd.skill_changes.skills_channel`` and, on each notice, reads the
skills table again and swaps the ACD's configuration in place: the store's ``skills`` mapping,
which routing (overflow bands), the waiters (longest wait), wrap-up and the call records all
read at the moment they need it. The swap happens between two awaits, so no call sees half a
configuration. Without a notice it re-reads every ``poll_seconds`` anyway: a notice published
while this controller was reconnecting to Redis is not lost, only late.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterator, Mapping, Sequence

from redis.asyncio import Redis

from backend.acd.policy import SkillConfig
from backend.acd.skill_changes import skills_channel

log = logging.getLogger(__name__)

POLL_SECONDS = 30.0
STOP_CHECK_SECONDS = 1.0  # how soon the loop notices ``stop``


class WrapupSeconds(Mapping[str, float]):
    """Each skill's wrap-up time, read from the live configuration at every look-up."""

    def __init__(self, skills: Mapping[str, SkillConfig]) -> None:
        self._skills = skills

    def __getitem__(self, code: str) -> float:
        return float(self._skills[code].wrapup_seconds)

    def __iter__(self) -> Iterator[str]:
        return iter(self._skills)

    def __len__(self) -> int:
        return len(self._skills)


class SkillWatch:
    def __init__(
        self,
        redis: Redis,
        prefix: str,
        skills: dict[str, SkillConfig],
        load: Callable[[], Sequence[SkillConfig]],
        *,
        poll_seconds: float = POLL_SECONDS,
    ) -> None:
        self._redis = redis
        self._channel = skills_channel(prefix)
        self._skills = skills  # the store's own mapping, changed in place
        self._load = load  # blocking (SQL): run in a thread
        self._poll = poll_seconds

    async def run(self, stop: asyncio.Event) -> None:
        pubsub = self._redis.pubsub()
        await pubsub.subscribe(self._channel)
        loop = asyncio.get_running_loop()
        try:
            await self.reload()  # what changed before the subscription took hold
            next_poll = loop.time() + self._poll
            while not stop.is_set():
                notice = await pubsub.get_message(
                    ignore_subscribe_messages=True, timeout=STOP_CHECK_SECONDS
                )
                if notice is not None or loop.time() >= next_poll:
                    await self.reload()
                    next_poll = loop.time() + self._poll
        finally:
            await pubsub.aclose()  # type: ignore[attr-defined]

    async def reload(self) -> None:
        configs = await asyncio.to_thread(self._load)
        fresh = {c.code: c for c in configs}
        if fresh == self._skills:
            return
        changed = sorted(code for code in fresh if self._skills.get(code) != fresh[code])
        self._skills.clear()
        self._skills.update(fresh)
        log.info("skill settings applied without restart: %s", ", ".join(changed) or "removed")
