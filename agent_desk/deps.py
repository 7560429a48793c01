"""Dependencies as ``Annotated`` aliases, so routes read like prose.

Everything comes from ``app.state.ctx`` (built once in ``create_app``): no globals.
Dependencies that do no I/O are ``async def``: FastAPI runs a plain ``def`` dependency in the
thread pool, a hop that costs more than the work itself on busy routes.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Annotated, Any

import redis
from fastapi import Depends, Request
from sqlalchemy.orm import Session, sessionmaker

from backend.settings import Settings


@dataclass
class DeskContext:
    settings: Settings
    session_factory: sessionmaker[Session]
    redis: redis.Redis
    # Asynchronous clients (``agent_desk.aio.LoopClients``) by event loop id.
    loop_clients: dict[int, Any] = field(default_factory=dict)


def context_of(request: Request) -> DeskContext:
    ctx: DeskContext = request.app.state.ctx
    return ctx


async def get_ctx(request: Request) -> DeskContext:
    return context_of(request)


def get_session(request: Request) -> Iterator[Session]:
    """A session per request; the route commits what it means to keep."""
    with context_of(request).session_factory() as session:
        yield session


async def client_ip(request: Request) -> str:
    return request.client.host if request.client else ""


CtxDep = Annotated[DeskContext, Depends(get_ctx)]
SessionDep = Annotated[Session, Depends(get_session)]
ClientIp = Annotated[str, Depends(client_ip)]
