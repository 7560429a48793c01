"""The agents' side of the queue_log: ADDMEMBER, REMOVEMEMBER, PAUSE and UNPAUSE.

An agent's state changes (made by the desk, the routing, the answer watch) are appended to
the ACD's event stream in the same Lua call that makes them, with the state they left
(``before``) and the agent's skills at that moment. This writer follows the stream in a consumer group of its own controller, so
each controller's queue_log holds every agent's membership next to its own calls, and an
event is acknowledged only once its lines are written.

Our agent is a member of the queue of every skill he has. Signing in adds him to each
(ADDMEMBER, ``PAUSED`` when he signs in not ready); signing out removes him; not ready is a
pause in every queue at once, which app_queue writes as PAUSEALL and a PAUSE per queue, with
the reason (``Auto-Pause`` for the automatic not-ready after a missed ring, as app_queue
names its own); back to ready is UNPAUSEALL and an UNPAUSE per queue. Changes between
ready, ringing, talking and wrap-up are not membership changes and write nothing, as in
app_queue.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping

from redis.asyncio import Redis
from redis.exceptions import RedisError, ResponseError

from backend.acd.states import AgentState, NotReadyReason
from ivr.acd.queuelog import NONE, QueueLog, QueueLogEntry, member_name

log = logging.getLogger("ivr.acd")

AUTO_PAUSE = "Auto-Pause"  # app_queue's reason for its own pause after a missed ring


def pause_reason(reason: str) -> str:
    return AUTO_PAUSE if reason == NotReadyReason.NO_ANSWER else reason


def member_entries(fields: Mapping[str, str]) -> list[QueueLogEntry]:
    """The queue_log lines of one state change of an agent (an event of the stream)."""
    state, before = fields.get("state", ""), fields.get("before", "")
    if not before:
        return []  # written before events carried the state they left
    agent = member_name(int(fields["agent_id"]))
    at = int(fields["at"]) / 1000.0
    queues = sorted(q for q in fields.get("skills", "").split(",") if q)

    def each(event: str, *data: str) -> list[QueueLogEntry]:
        return [QueueLogEntry(at, NONE, q, agent, event, data) for q in queues]

    def everywhere(event: str, *data: str) -> list[QueueLogEntry]:
        return [QueueLogEntry(at, NONE, NONE, agent, f"{event}ALL", data), *each(event, *data)]

    if before == AgentState.LOGGED_OUT and state != AgentState.LOGGED_OUT:
        return each("ADDMEMBER", "PAUSED" if state == AgentState.NOT_READY else "")
    if state == AgentState.LOGGED_OUT and before != AgentState.LOGGED_OUT:
        return each("REMOVEMEMBER", "")
    if state == AgentState.NOT_READY:
        return everywhere("PAUSE", pause_reason(fields.get("reason", "")))
    if state == AgentState.READY and before == AgentState.NOT_READY:
        return everywhere("UNPAUSE", "")
    return []


class MemberLogWriter:
    def __init__(self, redis: Redis, events_key: str, queue_log: QueueLog, *, group: str) -> None:
        self._redis = redis
        self._key = events_key
        self._log = queue_log
        self._group = group

    async def ensure_group(self) -> None:
        """The group starts at the stream's end: the log begins when the writer first runs."""
        try:
            await self._redis.xgroup_create(self._key, self._group, id="$",
                                            mkstream=True)  # fmt: skip
        except ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise

    async def drain(self, *, count: int = 500, block_ms: int | None = None) -> int:
        """Write what is waiting (own pending first, then new events); events handled."""
        messages: list[tuple[str, dict[str, str]]] = []
        for start in ("0", ">"):
            got = await self._redis.xreadgroup(
                self._group,
                self._group,
                {self._key: start},
                count=count,
                block=block_ms if start == ">" else None,
            )
            for _stream, stream_entries in got or []:
                messages += [(i, f) for i, f in stream_entries if f]
            if messages:
                break
        for _id, fields in messages:
            await self._log.write(*member_entries(fields))
        if messages:
            await self._redis.xack(self._key, self._group, *[i for i, _ in messages])
        return len(messages)

    async def run(self, stop: asyncio.Event, *, block_ms: int = 1000) -> None:
        while not stop.is_set():
            try:
                await self.ensure_group()  # again after a Redis that came back empty
                await self.drain(block_ms=block_ms)
            except RedisError:
                log.exception("queue_log member round failed; retrying")
                await asyncio.sleep(1.0)
