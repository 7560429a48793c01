"""How the desk app is served: uvicorn, in ``CC_DESK_WORKERS`` processes, with its HTTP/1.1
protocol's writes coalesced.

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
from backend.settings import Settings, load_settings


class DeskHttpProtocol(HttpToolsProtocol):
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # A TCP transport (uvloop's is not an asyncio.Transport subclass, so no isinstance).
        super().connection_made(CoalescingTransport(cast(asyncio.Transport, transport)))


def serve(app: Any, *, host: str, port: int, **options: Any) -> None:
    """``uvicorn.run`` on uvloop with ``DeskHttpProtocol``; ``options`` are uvicorn's."""
    uvicorn.run(app, host=host, port=port, loop="uvloop", http=DeskHttpProtocol, **options)


def desk_app() -> Any:
    """The app as each process of ``callcenter desk`` builds it for itself, from the same
    ``CC_*`` settings (uvicorn spawns its workers: they share no objects with the parent)."""
    from agent_desk.app import create_app

    return create_app(load_settings(), warm_knowledge_index=True)


def serve_desk(settings: Settings) -> None:
    """``callcenter desk``: the desk in ``settings.desk_workers`` processes, one port."""
    from agent_desk.api.public_booking import BookingApiConfig

    # What the app reads from the environment besides ``Settings``: checked here, so that a
    # wrong booking rule stops the command with one line instead of every worker in a trace.
    BookingApiConfig.from_env()
    serve(
        f"{__name__}:desk_app",
        factory=True,
        host=settings.desk_bind,
        port=settings.desk_port,
        workers=settings.desk_workers,
        access_log=settings.desk_access_log,
    )
