"""The controller's routing loop: assign calls as soon as a call or an agent is ready.

Each controller runs one. Several may run on one Redis: ``AcdStore.pick`` is atomic, so they
only share the work. A waiting caller learns of its agent through its mailbox, whichever
controller made the assignment; a callback (whose caller is not on the line) is dialled by
the controller that picked it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Coroutine
from typing import Any

from backend.acd.model import Assignment
from backend.acd.store import AcdStore
from ivr.acd.rebuild import Rebuilder
from ivr.acd.recovery import recover

log = logging.getLogger("ivr.acd")

CallbackStarter = Callable[[Assignment], Coroutine[Any, Any, None]]


class Dispatcher:
    def __init__(
        self,
        store: AcdStore,
        *,
        start_callback: CallbackStarter | None = None,
        tick_seconds: float = 0.1,
        recover_every_seconds: float = 5.0,
        rebuild: Rebuilder | None = None,
    ) -> None:
        self._store = store
        self._rebuild = rebuild  # None: a Redis that came back empty is not rebuilt
        self._recover_every = recover_every_seconds
        self._start_callback = start_callback
        self._tick = tick_seconds
        self._kicked = asyncio.Event()
        # Set once the calls held before a restart are released: only then may new calls be
        # accepted, or the release would take them too.
        self.ready = asyncio.Event()
        self._tasks: set[asyncio.Task[None]] = set()

    def kick(self) -> None:
        """Something changed here (a call queued, an agent freed): route now, not at the tick."""
        self._kicked.set()

    async def run(self, stop: asyncio.Event) -> None:
        loop = asyncio.get_running_loop()
        await self._store.heartbeat()
        # Calls this controller held before a restart have no session any more. When only
        # this loop restarts (under its supervisor), the process's sessions are still live.
        await self._recover(restarted=not self.ready.is_set())
        self.ready.set()
        next_recovery = loop.time() + self._recover_every
        while not stop.is_set():
            try:
                if loop.time() >= next_recovery:
                    next_recovery = loop.time() + self._recover_every
                    await self._store.heartbeat()
                    await self._recover(restarted=False)
                await self.dispatch_once()
            except Exception:
                # Redis hiccups must not end routing for the whole controller.
                log.exception("routing round failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._kicked.wait(), self._tick)
            self._kicked.clear()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _recover(self, *, restarted: bool) -> None:
        if self._rebuild is not None:
            # Before the release: a rebuilt call's owner is this live controller.
            report = await self._rebuild.run_once()
            if report.calls_requeued or report.agents_restored:
                self.kick()
        released = await recover(self._store, 3 * self._recover_every, restarted=restarted)
        if released:
            log.warning("released %d calls of controllers that are gone", len(released))

    async def dispatch_once(self) -> list[Assignment]:
        await self._store.expire_wrapups()
        made = []
        while (assignment := await self._store.pick()) is not None:
            log.info("%s", assignment.decision.reason)
            made.append(assignment)
            if assignment.decision.callback and self._start_callback is not None:
                task = asyncio.create_task(self._start_callback(assignment))
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)
        return made
