"""How the desk app is served: uvicorn, with its HTTP/1.1 protocol's writes coalesced.

uvicorn's httptools protocol writes each response in two system calls, the status line and
headers first and the body after (``backend.coalesced_writes`` says why that costs); this
protocol hands it a transport that sends both in one. Everything else is uvicorn's.
``callcenter desk`` and bench/booking both serve through here, so the bench measures the
server the desk runs.
"""

from __future__ import annotations

import asyncio
from typing import Any, cast

import uvicorn
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from backend.coalesced_writes import CoalescingTransport


class DeskHttpProtocol(HttpToolsProtocol):
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # A TCP transport (uvloop's is not an asyncio.Transport subclass, so no isinstance).
        super().connection_made(CoalescingTransport(cast(asyncio.Transport, transport)))


def serve(app: Any, *, host: str, port: int, **options: Any) -> None:
    """``uvicorn.run`` on uvloop with ``DeskHttpProtocol``; ``options`` are uvicorn's."""
    uvicorn.run(app, host=host, port=port, loop="uvloop", http=DeskHttpProtocol, **options)
