"""Dependencies as ``Annotated`` aliases, so routes read like prose.

Everything comes from ``app.state.ctx`` (built once in ``create_app``): no globals.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated

import redis
from fastapi import Depends, Request
from sqlalchemy.orm import Session, sessionmaker

from backend.settings import Settings


@dataclass
class DeskContext:
    settings: Settings
    session_factory: sessionmaker[Session]
    redis: redis.Redis


def get_ctx(request: Request) -> DeskContext:
    ctx: DeskContext = request.app.state.ctx
    return ctx


def get_session(request: Request) -> Iterator[Session]:
    """A session per request; the route commits what it means to keep."""
    with get_ctx(request).session_factory() as session:
        yield session


def client_ip(request: Request) -> str:
    return request.client.host if request.client else ""


CtxDep = Annotated[DeskContext, Depends(get_ctx)]
SessionDep = Annotated[Session, Depends(get_session)]
ClientIp = Annotated[str, Depends(client_ip)]
