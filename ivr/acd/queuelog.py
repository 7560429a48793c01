"""The queue's story in Asterisk's ``queue_log`` format, written as it happens, so that
existing queue-reporting tools (QueueMetrics and the like) read our ACD as they read app_queue.

One line per event: ``epoch|callid|queue|agent|EVENT|data1|data2|...``, with the fields
app_queue writes for each event (``docs/queue-log.md``). The caller's number is personal data
and is left out of ENTERQUEUE (app_queue's format allows it empty). A failed write is logged
and never costs the caller his call.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

log = logging.getLogger("ivr.acd")

NONE = "NONE"  # app_queue's word for an empty callid, queue or agent field


def member_name(agent_id: int | None) -> str:
    """The agent as queue_log names him (app_queue's ``membername``)."""
    return NONE if agent_id is None else f"Agent/{agent_id}"


def _field(value: object) -> str:
    # A '|' or a newline inside a field would shift every field after it.
    return str(value).replace("|", "_").replace("\n", " ")


@dataclass(frozen=True)
class QueueLogEntry:
    at: float  # epoch seconds
    call_id: str
    queue: str
    agent: str
    event: str
    data: tuple[object, ...] = ()

    def line(self) -> str:
        head = [str(int(self.at)), self.call_id or NONE, self.queue or NONE, self.agent or NONE]
        return "|".join(_field(f) for f in [*head, self.event, *self.data])


class QueueLog(Protocol):
    async def write(self, *entries: QueueLogEntry) -> None: ...


class NoQueueLog:
    """No queue_log (tests and benches that do not look at it)."""

    async def write(self, *entries: QueueLogEntry) -> None:
        return None


class QueueLogFile:
    """Appends entries to a ``queue_log`` file, in the order they were written."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = asyncio.Lock()

    async def write(self, *entries: QueueLogEntry) -> None:
        lines = [entry.line() + "\n" for entry in entries]
        async with self._lock:
            try:
                await asyncio.to_thread(self._append, lines)
            except OSError as exc:
                log.warning("queue_log %s not written: %s", self.path, exc)

    def _append(self, lines: Sequence[str]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a", encoding="utf-8") as out:
            out.writelines(lines)


def parse_line(line: str) -> QueueLogEntry:
    """An entry back from its line (Asterisk's own queue_log lines too)."""
    at, call_id, queue, agent, event, *data = line.rstrip("\n").split("|")
    return QueueLogEntry(float(at), call_id, queue, agent, event, tuple(data))
