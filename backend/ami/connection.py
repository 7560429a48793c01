"""Keeping one AMI connection up for a process's lifetime: connect, log in, watch it, and
after any loss or failure try again with a back-off, forever (until closed).

panoramisk's own reconnecting is not used. It retries a refused TCP connect every second and
logs each try ("Not able to reconnect": hundreds of lines while an Asterisk is down), it never
tries again after a connection that came up but did not log in (a refused login, an Asterisk
still starting), and it cannot tell a silent connection from a live one. Here one keeper task
per connection decides: a connection attempt has CONNECT_SECONDS, its login LOGIN_SECONDS, a
logged-in connection answers a Ping every PING_EVERY_SECONDS within PING_SECONDS or is dropped;
after any failure the next try comes after the back-off (0.5 s doubling to 10 s, the issue's
recovery bound). A failure of the keeper itself is logged and counted, and it goes on.

Its state is a ``TaskHealth`` (``backend.supervision``): running = logged in now, restarts =
connections lost or failed, last_error = why. The controller's is in its health file as the
"ami" entry (``callcenter status``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from typing import Any

from panoramisk import Manager

from backend.supervision import Backoff, TaskHealth

log = logging.getLogger("backend.ami")

CONNECT_SECONDS = 10.0
LOGIN_SECONDS = 15.0
PING_EVERY_SECONDS = 10.0
# Generous: a loaded machine delays answers, and a needless drop costs a resync.
PING_SECONDS = 20.0
# A failure of a long outage is logged at this interval of attempts, not each one.
LOG_EVERY_ATTEMPTS = 20


class AmiManager(Manager):
    """panoramisk's Manager (framing, actions, events) without its own reconnecting and
    pinging: the keeper below does both."""

    def __init__(self, on_refused: Callable[[str], None], **config: Any) -> None:
        super().__init__(**config)
        self._on_refused = on_refused

    def connection_made(self, f: asyncio.Future[Any]) -> None:
        # A failed or abandoned connect: the keeper awaits the same task and sees why.
        if f.cancelled() or f.exception() is not None:
            return
        super().connection_made(f)

    def login(self, future: asyncio.Future[Any]) -> bool:
        try:
            accepted = bool(super().login(future))
        except Exception as exc:  # the login's reply never came (connection gone)
            self._on_refused(f"login failed: {type(exc).__name__}")
            return False
        if not accepted:
            reply = future.result()
            self._on_refused(f"login refused: {reply.get('Message', '')}".strip())
        return accepted

    def ping(self) -> None:
        self.pinger = None  # the keeper pings, and notices when no answer comes

    def connection_lost(self, exc: Any) -> None:
        self._connected = False
        if self.pinger:
            self.pinger.cancel()
            self.pinger = None
        self.loop.call_soon(self.on_disconnect, self, exc)


class ConnectionKeeper:
    """The keeper task of one AMI connection; ``AmiClient`` owns it."""

    def __init__(
        self,
        manager: AmiManager,
        ready: asyncio.Event,
        health: TaskHealth,
        backoff: Backoff,
    ) -> None:
        self._manager = manager
        self._ready = ready  # set by the client once logged in (and its event filter set)
        self.health = health
        self._backoff = backoff
        self._lost = asyncio.Event()
        self._refusal = ""
        self._task: asyncio.Task[None] | None = None

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._keep(), name="ami-connection")

    def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
        self._manager.close()

    def lost(self) -> None:
        """The connection went away (panoramisk's on_disconnect)."""
        self._ready.clear()
        self._lost.set()

    def refused(self, why: str) -> None:
        self._refusal = why
        self._lost.set()

    async def _keep(self) -> None:
        delay = self._backoff.first_seconds
        failures = 0
        while True:
            try:
                logged_in, why = await self._session()
            except Exception as exc:  # ours or panoramisk's bug: counted, and try again
                log.exception("AMI connection keeper failed")
                logged_in, why = False, f"{type(exc).__name__}: {exc}"[:300]
            self._ready.clear()
            self._manager.close()
            failures = 0 if logged_in else failures + 1
            if logged_in:
                delay = self._backoff.first_seconds
            self._record(why, failures, delay)
            await asyncio.sleep(delay)
            delay = self._backoff.next(delay)

    async def _session(self) -> tuple[bool, str]:
        """One connection, until it ends: (whether it logged in, why it ended)."""
        self._lost.clear()
        self._refusal = ""
        try:
            await asyncio.wait_for(self._manager.connect(), CONNECT_SECONDS)
        except (OSError, TimeoutError) as exc:
            return False, f"connect: {exc or type(exc).__name__}"
        if not await _first(self._ready, self._lost, timeout=LOGIN_SECONDS):
            return False, f"no login within {LOGIN_SECONDS:g} s"
        if not self._ready.is_set():
            return False, self._refusal or "connection lost before login"
        self.health.running = True
        while not await _first(self._lost, timeout=PING_EVERY_SECONDS):
            if not await self._answers_ping():
                return True, f"no answer to Ping within {PING_SECONDS:g} s"
        return True, self._refusal or "connection lost"

    async def _answers_ping(self) -> bool:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._manager.send_action({"Action": "Ping"}), PING_SECONDS)
            return True
        return self._lost.is_set()  # lost meanwhile: the loop above ends on that

    def _record(self, why: str, failures: int, delay: float) -> None:
        health = self.health
        health.running = False
        health.restarts += 1
        health.last_error = why
        health.last_failure_at = time.time()
        if failures <= 1 or failures % LOG_EVERY_ATTEMPTS == 0:
            log.warning(
                "AMI %s (%d failed attempts in a row); next attempt in %.1f s",
                why,
                failures,
                delay,
            )


async def _first(*events: asyncio.Event, timeout: float) -> bool:
    """Whether one of ``events`` is set within ``timeout`` seconds."""
    waits = [asyncio.ensure_future(e.wait()) for e in events]
    try:
        done, _ = await asyncio.wait(waits, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for wait in waits:
            wait.cancel()
    return bool(done)
