"""The desk's HTTP/1.1 protocol: uvicorn's httptools protocol with its writes coalesced.

uvicorn's httptools protocol writes each response in two system calls, the status line and
headers first and the body after (``coalesced_writes`` says why that costs); this protocol
hands it a transport that sends both in one. Everything else is uvicorn's.

``HttpToolsProtocol`` is not part of uvicorn's documented interface, so pyproject.toml pins
uvicorn's minor version: a new one is taken deliberately, with tests/unit/test_coalesced_writes.py
run against it.
"""

from __future__ import annotations

import asyncio
from typing import cast

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from agent_desk.performance.coalesced_writes import CoalescingTransport


class DeskHttpProtocol(HttpToolsProtocol):
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # A TCP transport (uvloop's is not an asyncio.Transport subclass, so no isinstance).
        super().connection_made(CoalescingTransport(cast(asyncio.Transport, transport)))
