"""What Celery tasks share inside one worker process: settings and a lazily built database
engine. Here, below every feature, so that each feature's ``register_<feature>_tasks`` can
take it; the worker's composition root (``callcenter/worker/``) builds one.

The engine is built on first use, so that each forked worker child makes its own connections
instead of inheriting the parent's sockets.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from threading import Lock

from sqlalchemy.orm import Session, sessionmaker

from backend.db import make_engine, make_session_factory
from backend.settings import Settings


class WorkerResources:
    def __init__(
        self,
        settings: Settings,
        session_factory: sessionmaker[Session] | None = None,
        *,
        now: Callable[[], float] = time.time,
    ) -> None:
        self.settings = settings
        self.now = now  # epoch seconds; the tasks that depend on the date read it
        self._session_factory = session_factory
        self._lock = Lock()

    @property
    def session_factory(self) -> sessionmaker[Session]:
        with self._lock:
            if self._session_factory is None:
                engine = make_engine(self.settings, pool_size=2, max_overflow=2)
                self._session_factory = make_session_factory(engine)
            return self._session_factory
