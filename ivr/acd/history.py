"""Agent state history: from the Redis event stream into PostgreSQL ``agent_state_changes``.

Every state change is appended to the ``P:acd:events`` stream in the same Lua call that makes
it, so no change is lost if a controller dies between Redis and PostgreSQL. Writers of all
controllers share one consumer group: each event is written by one of them, acknowledged only
after the commit, and an event delivered again after a crash is known by its stream entry id,
which its row keeps, and not written twice.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime

from redis.asyncio import Redis
from redis.exceptions import RedisError, ResponseError
from sqlalchemy import and_, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from backend.models.agents import AgentStateChange

log = logging.getLogger(__name__)

GROUP = "agent-history"
CLAIM_IDLE_MS = 60_000  # an event a dead writer held this long is taken over


def row_from_event(fields: Mapping[str, str], event_id: str | None = None) -> AgentStateChange:
    return AgentStateChange(
        event_id=event_id,
        agent_id=int(fields["agent_id"]),
        at=datetime.fromtimestamp(int(fields["at"]) / 1000.0, tz=UTC),
        state=fields["state"],
        reason=fields.get("reason", ""),
        call_id=fields.get("call_id", ""),
        actor=fields.get("actor", "system")[:64],
    )


class AgentHistoryWriter:
    def __init__(
        self,
        redis: Redis,
        events_key: str,
        session_factory: sessionmaker[Session],
        *,
        consumer: str,
        group: str = GROUP,
    ) -> None:
        self._redis = redis
        self._key = events_key
        self._sessions = session_factory
        self._consumer = consumer
        self._group = group

    async def ensure_group(self) -> None:
        try:
            await self._redis.xgroup_create(self._key, self._group, id="0", mkstream=True)
        except ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise

    async def drain(self, *, count: int = 500, block_ms: int | None = None) -> int:
        """Write what is waiting (taken-over, own pending, then new events); rows written."""
        await self.ensure_group()
        claimed = await self._redis.xautoclaim(
            self._key, self._group, self._consumer, CLAIM_IDLE_MS, "0-0", count=count
        )
        messages: list[tuple[str, dict[str, str]]] = list(claimed[1])
        for start in ("0", ">"):
            got = await self._redis.xreadgroup(
                self._group,
                self._consumer,
                {self._key: start},
                count=count,
                block=block_ms if start == ">" and not messages else None,
            )
            for _stream, entries in got or []:
                messages += [(i, f) for i, f in entries if f]
        if not messages:
            return 0
        written = await asyncio.to_thread(self._write, messages)
        await self._redis.xack(self._key, self._group, *[i for i, _ in messages])
        return written

    async def run(
        self, stop: asyncio.Event, *, block_ms: int = 1000, retry_seconds: float = 1.0
    ) -> None:
        while not stop.is_set():
            try:
                await self.drain(block_ms=block_ms)
            except RedisError:
                # A Redis hiccup (a blocked read timing out on a busy host, a reconnect) must
                # not end the history for the controller's lifetime: the events wait in the
                # stream and the next round writes them.
                log.exception("agent history round failed; retrying")
                await asyncio.sleep(retry_seconds)

    def _write(self, events: Sequence[tuple[str, Mapping[str, str]]]) -> int:
        rows = [row_from_event(fields, event_id) for event_id, fields in events]
        try:
            return self._insert(rows)
        except IntegrityError:
            # An agent unknown to PostgreSQL must not block everyone's history: write the rest.
            written = 0
            for row in rows:
                try:
                    written += self._insert([row])
                except IntegrityError:
                    log.warning("agent state of unknown agent %s not recorded", row.agent_id)
            return written

    def _insert(self, rows: Sequence[AgentStateChange]) -> int:
        written = 0
        with self._sessions() as session, session.begin():
            for row in rows:
                exists = session.scalar(
                    select(AgentStateChange.id).where(
                        AgentStateChange.agent_id == row.agent_id,
                        or_(
                            AgentStateChange.event_id == row.event_id,
                            # Written before rows kept their event: known by what it says.
                            and_(
                                AgentStateChange.event_id.is_(None),
                                AgentStateChange.at == row.at,
                                AgentStateChange.state == row.state,
                                AgentStateChange.reason == row.reason,
                                AgentStateChange.call_id == row.call_id,
                            ),
                        ),
                    )
                )
                if exists is None:
                    session.add(row)
                    written += 1
        return written
