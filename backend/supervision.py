"""Background loops that outlive their failures: each runs under a ``Supervisor``, which
restarts it with a back-off when it raises (or returns before its process stops), logs why,
and counts it.

Every long-lived loop of a process (the controller's dispatcher, agent-history writer,
resync, outbound feeder) runs under one, and its AMI event handlers (the answer watch) are
guarded by it: a failure is logged and counted, the next event handled afresh. A loop keeps its own retries for the failures it
expects; the supervisor is for the ones it does not (a PostgreSQL error in a loop that only
expected Redis ones used to end it for the process's lifetime, and nobody noticed).

Health: ``Supervisor.health()`` gives each loop's restarts, last error and whether it runs
now; ``HealthFile`` writes it to ``<CC_STATE_DIR>/health/<process>.json`` every few seconds,
which ``callcenter status`` shows. A file, not Redis or PostgreSQL: the health of loops must
be readable precisely when those are down.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import time
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass
from pathlib import Path

log = logging.getLogger("backend.supervision")

Loop = Callable[[], Awaitable[None]]
Handler = Callable[[dict[str, str]], Awaitable[None] | None]


@dataclass
class TaskHealth:
    restarts: int = 0
    running: bool = False
    last_error: str = ""
    last_failure_at: float | None = None  # epoch seconds


@dataclass(frozen=True)
class Backoff:
    first_seconds: float = 0.5
    # At most this long between tries: a loop is back within 10 s of its dependency (the
    # issue's recovery bound for the desk, kept for the controller too).
    max_seconds: float = 10.0
    # A loop that ran this long before failing starts again from the first delay.
    reset_after_seconds: float = 60.0

    def next(self, delay: float) -> float:
        return min(delay * 2, self.max_seconds)


class Supervisor:
    def __init__(self, process: str, backoff: Backoff | None = None) -> None:
        self.process = process
        self._backoff = backoff or Backoff()
        self._health: dict[str, TaskHealth] = {}
        self._tasks: list[asyncio.Task[None]] = []

    def start(self, name: str, loop: Loop, stop: asyncio.Event) -> asyncio.Task[None]:
        """Run ``loop()`` until ``stop`` is set, restarting it whenever it fails."""
        if name in self._health:
            raise ValueError(f"a loop named {name!r} is already supervised")
        self._health[name] = TaskHealth()
        task = asyncio.create_task(self._keep(name, loop, stop), name=f"{self.process}/{name}")
        self._tasks.append(task)
        return task

    def guarded(self, name: str, handler: Handler) -> Handler:
        """An event handler (an AMI event's) whose failure is logged and counted as a
        restart: it has no loop of its own, the next event runs it afresh."""
        health = self._health.setdefault(name, TaskHealth(running=True))

        async def guard(event: dict[str, str]) -> None:
            try:
                result = handler(event)
                if result is not None:
                    await result
            except Exception as exc:
                health.restarts += 1
                health.last_error = f"{type(exc).__name__}: {exc}"[:300]
                health.last_failure_at = time.time()
                log.exception("%s: handler %s failed (#%d)", self.process, name, health.restarts)

        return guard

    def track(self, name: str) -> TaskHealth:
        """A health entry kept by a task that supervises itself (the AMI connection's
        keeper: running = connected, restarts = connections lost or failed)."""
        if name in self._health:
            raise ValueError(f"a loop named {name!r} is already supervised")
        health = self._health[name] = TaskHealth()
        return health

    def health(self) -> dict[str, TaskHealth]:
        return dict(self._health)

    async def wait(self) -> None:
        """Until every loop has ended (they end once their stop is set)."""
        await asyncio.gather(*self._tasks)

    async def _keep(self, name: str, loop: Loop, stop: asyncio.Event) -> None:
        health = self._health[name]
        delay = self._backoff.first_seconds
        while not stop.is_set():
            started = time.monotonic()
            health.running = True
            try:
                await loop()
                if stop.is_set():
                    break
                error = "returned while its process runs"
            except Exception as exc:  # CancelledError is no Exception: it ends the loop
                error = f"{type(exc).__name__}: {exc}"[:300]
                log.exception("%s: loop %s failed", self.process, name)
            health.running = False
            health.restarts += 1
            health.last_error = error
            health.last_failure_at = time.time()
            if time.monotonic() - started >= self._backoff.reset_after_seconds:
                delay = self._backoff.first_seconds
            log.warning(
                "%s: loop %s restarts in %.1f s (restart #%d): %s",
                self.process,
                name,
                delay,
                health.restarts,
                error,
            )
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), delay)
            delay = self._backoff.next(delay)
        health.running = False


def health_path(state_dir: Path, process: str) -> Path:
    return state_dir / "health" / f"{process}.json"


def read_health(state_dir: Path, process: str) -> dict[str, dict[str, object]] | None:
    """A process's loops as it last wrote them; None when it never did."""
    try:
        data = json.loads(health_path(state_dir, process).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data.get("loops") if isinstance(data, dict) else None


def health_lines(loops: dict[str, dict[str, object]] | None) -> list[str]:
    """One line per loop for ``callcenter status``: its restarts and its last error."""
    lines = []
    for name, health in sorted((loops or {}).items()):
        line = f"loop {name}: {health.get('restarts', 0)} restarts"
        if health.get("last_error"):
            line += f" (last: {health['last_error']})"
        lines.append(line)
    return lines


class HealthFile:
    """Writes a supervisor's health where ``callcenter status`` reads it."""

    def __init__(self, supervisor: Supervisor, state_dir: Path, every_seconds: float = 2.0):
        self._supervisor = supervisor
        self._path = health_path(state_dir, supervisor.process)
        self._every = every_seconds

    def write(self) -> None:
        loops = {name: asdict(h) for name, h in self._supervisor.health().items()}
        body = {"pid": os.getpid(), "at": time.time(), "loops": loops}
        self._path.parent.mkdir(parents=True, exist_ok=True)
        partial = self._path.with_suffix(".tmp")
        partial.write_text(json.dumps(body, indent=1), encoding="utf-8")
        partial.replace(self._path)  # a reader never sees half a file

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            await asyncio.to_thread(self.write)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self._every)
        await asyncio.to_thread(self.write)
