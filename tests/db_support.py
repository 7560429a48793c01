"""A database of a test's own, migrated to the newest schema, for tests that damage it on
purpose (an edited audit trail) or change who may use it (roles)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from backend.db import make_engine, make_session_factory
from backend.settings import Settings
from tests.conftest import migrated_database


@dataclass(frozen=True)
class ScratchDatabase:
    url: str
    settings: Settings  # the session's settings, pointed at this database
    engine: Engine
    factory: sessionmaker[Session]


@contextmanager
def scratch_database(settings: Settings, label: str) -> Iterator[ScratchDatabase]:
    name = f"cc_test_{label}_{uuid.uuid4().hex[:8]}"
    with migrated_database(name) as url:
        scratch = settings.model_copy(update={"database_url": url})
        engine = make_engine(scratch, pool_size=10, max_overflow=10)
        try:
            yield ScratchDatabase(url, scratch, engine, make_session_factory(engine))
        finally:
            engine.dispose()
