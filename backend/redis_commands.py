"""The asynchronous Redis the online booking API counts requests on, as a port.

The web app plugs in one of two clients (``agent_desk.aio``, chosen by
``CC_DESK_FAST_PATH``): redis-py's asyncio client, or the pipelined connection of
``agent_desk.performance.pipelined_redis``. Both send one command and return Redis's reply,
and both fail in the two ways below, so that the code counting on them (``booking.rate_limit``)
knows neither.
"""

from __future__ import annotations

from typing import Any, Protocol


class RedisUnavailable(Exception):
    """Redis could not be reached, or did not answer in time."""


class RedisReplyError(Exception):
    """Redis answered with an error; the message starts with its code (``NOSCRIPT ...``)."""


class RedisCommands(Protocol):
    async def execute(self, *args: str | int | bytes) -> Any:
        """Send one command and wait for its reply."""
        ...
