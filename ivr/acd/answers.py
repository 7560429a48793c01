"""The moment a dialled party answers, from AMI ``DialEnd`` events.

Over AGI, ``EXEC Dial`` only returns when the whole call is over, and Dial's ``ANSWEREDTIME``
counts from when the *calling* channel was answered (at the start of the IVR here), not the
agent. The answer moment therefore comes from AMI, live: the agent shows "on call" while he
talks, and wait and talk times are measured to the answer.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Protocol


class EventSource(Protocol):
    def subscribe(
        self, pattern: str, callback: Callable[[dict[str, str]], Awaitable[None] | None]
    ) -> None: ...


class AnswerWatch:
    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._waiting: dict[str, asyncio.Future[float]] = {}

    def attach(self, events: EventSource) -> None:
        events.subscribe("DialEnd", self.on_dial_end)

    def expect(self, channel: str) -> asyncio.Future[float]:
        """A future set to the answer time of the next Dial from ``channel``."""
        future: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        self._waiting[channel] = future
        return future

    def forget(self, channel: str) -> None:
        future = self._waiting.pop(channel, None)
        if future is not None and not future.done():
            future.cancel()

    def on_dial_end(self, event: dict[str, str]) -> None:
        if event.get("DialStatus") != "ANSWER":
            return
        future = self._waiting.get(event.get("Channel", ""))
        if future is not None and not future.done():
            future.set_result(self._clock())
