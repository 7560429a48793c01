"""The controller's view reconciled with Asterisk's own.

What the controller knows of calls comes from its AGI conversations and AMI events. Both can
miss things: a controller killed mid-call leaves its calls' records open and its agents "on
call"; events sent while AMI was away (Asterisk restarted) never arrive. Each round takes
Asterisk's list of channels (``CoreShowChannels``: each names its call and its bridge) and

- releases agents shown on a call of which no channel is left (``agents.py``);
- marks the records of callers the dialplan took to the fallback ``controller_lost``;
- closes records whose call has had no channel for ``grace_seconds`` and no live
  controller's conversation (``sessions.py``) — answered when the ACD knows an agent took
  it — and completes their recordings (``records.py``);
- settles the call cards Asterisk wrote when calls hung up: a record, closed, for a call no
  controller recorded (the fallback's), and its recording indexed (``cards.py``).

Rounds run when the controller starts, after every AMI login (``AmiClient.on_resync``) and
every ``every_seconds``. Several controllers may run them at once: every change is
conditional (an agent's state version, a record still open).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from backend.acd.model import CallStatus
from backend.acd.store import AcdStore
from ivr.resync.agents import SETTLE_SECONDS, release_stale_agents
from ivr.resync.cards import CardReport, CardSettler
from ivr.resync.records import Answer, SqlOpenCalls
from ivr.resync.sessions import SessionRegistry
from ivr.resync.view import AsteriskView, ChannelLister, asterisk_view

log = logging.getLogger("ivr.resync")

# A controller whose heartbeat is older is gone, as the dispatcher's recovery counts it.
LIVE_AFTER_SECONDS = 15.0


@dataclass(frozen=True)
class ResyncReport:
    agents_released: tuple[int, ...] = ()
    marked_lost: int = 0
    records_closed: tuple[str, ...] = field(default_factory=tuple)
    cards: CardReport = field(default_factory=CardReport)


class Reconciler:
    def __init__(
        self,
        ami: ChannelLister,
        store: AcdStore,
        records: SqlOpenCalls,
        sessions: SessionRegistry,
        *,
        cards: CardSettler | None = None,
        every_seconds: float = 5.0,
        grace_seconds: float = 8.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._ami = ami
        self._store = store
        self._records = records
        self._sessions = sessions
        self._cards = cards
        self._every = every_seconds
        self._grace = grace_seconds
        self._clock = clock
        self._missing_since: dict[str, float] = {}
        self._lock = asyncio.Lock()  # a login's round and the periodic one never overlap

    async def run_once(self) -> ResyncReport:
        async with self._lock:
            view = await asterisk_view(self._ami)
            released = await release_stale_agents(self._store, view, self._clock)
            marked = await self._records.mark_lost(sorted(view.in_fallback))
            closed = await self._close_gone(view)
            cards = await asyncio.to_thread(self._cards.settle) if self._cards else CardReport()
        report = ResyncReport(tuple(released), marked, tuple(closed), cards)
        if marked or closed:
            log.warning(
                "resync: %d records marked controller_lost, %d lost calls closed",
                marked,
                len(closed),
            )
        return report

    async def _close_gone(self, view: AsteriskView) -> list[str]:
        started_before = datetime.fromtimestamp(view.taken_at - SETTLE_SECONDS, UTC)
        open_ids = await self._records.open_call_ids(started_before)
        missing = [c for c in open_ids if not view.has_call(c)]
        # A live controller's conversation is its own to close (its call may be on another
        # Asterisk node than the one this view is of).
        gone = set(missing) - await self._sessions.held(missing, LIVE_AFTER_SECONDS)
        # A call only just gone is its own controller's to close: it gets the grace first.
        self._missing_since = {c: self._missing_since.get(c, view.taken_at) for c in gone}
        closed = []
        for call_id, since in sorted(self._missing_since.items()):
            if view.taken_at - since < self._grace:
                continue
            ended_at = datetime.fromtimestamp(since, UTC)
            if await self._records.close(call_id, await self._answer(call_id), ended_at):
                closed.append(call_id)
            await self._sessions.forget(call_id)
            del self._missing_since[call_id]
        return closed

    async def _answer(self, call_id: str) -> Answer | None:
        call = await self._store.call(call_id)
        answered = call is not None and call.status in (CallStatus.CONNECTED, CallStatus.DONE)
        if not answered or call is None or call.agent_id is None or call.answered_at is None:
            return None
        return Answer(call.agent_id, call.answered_at, call.skill)

    async def resynced(self) -> None:
        """One round after an AMI login (``AmiClient.on_resync``); a failure is logged and
        left to the periodic rounds."""
        try:
            await self.run_once()
        except Exception:
            log.exception("resync after AMI login failed")

    async def run(self, stop: asyncio.Event) -> None:
        """A round every ``every_seconds`` until ``stop``; run under a supervisor."""
        while not stop.is_set():
            # Without AMI (Asterisk down) there is no view to reconcile with: the round after
            # the next login (``resynced``) does it.
            if self._ami.connected:
                await self.run_once()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self._every)
