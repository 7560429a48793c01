"""The online channel's booking on an asyncpg pool.

The same transaction as every other channel (``reservations.book_for_account_steps``), driven
on an asyncpg connection, so that the busiest request of the platform needs neither a thread
nor SQLAlchemy's execution layer. Requests with an ``Idempotency-Key`` go through
``BookingService`` instead, where the key store lives.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from typing import Protocol

import asyncpg

from backend.booking.booking_sql import run_asyncpg
from backend.booking.context import BookingContext
from backend.booking.reservations import BookRequest, book_for_account_steps
from backend.booking.views import BookingReceipt


class ConnectionSource(Protocol):
    """Where a booking gets its connection: in the web app ``FairPool`` or asyncpg's pool, as
    ``CC_DESK_FAST_PATH`` chooses (``agent_desk.aio``)."""

    def acquire(self) -> AbstractAsyncContextManager[asyncpg.Connection]: ...


class OnlineBooking:
    def __init__(self, pool: ConnectionSource, ctx: BookingContext) -> None:
        self._pool = pool
        self._ctx = ctx

    async def book(self, token: str, request_for: Callable[[int], BookRequest]) -> BookingReceipt:
        async with self._pool.acquire() as connection, connection.transaction():
            return await run_asyncpg(
                connection, book_for_account_steps(self._ctx, token, request_for)
            )
