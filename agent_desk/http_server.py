"""How the desk app is served: uvicorn, in ``CC_DESK_WORKERS`` processes.

With ``CC_DESK_FAST_PATH`` (the default) on uvloop with the desk's own HTTP protocol
(``agent_desk.performance.http_protocol``: each response in one write), otherwise as uvicorn
comes. ``callcenter desk`` and bench/booking both serve through here, so the bench measures
the server the desk runs.
"""

from __future__ import annotations

import logging
import sys
from typing import Any

import uvicorn
from uvicorn.config import STARTUP_FAILURE

from agent_desk.performance.http_protocol import DeskHttpProtocol
from backend import log_privacy
from backend.errors import CallCenterError
from backend.settings import Settings, load_settings

log = logging.getLogger(__name__)

# How long uvicorn's supervisor waits for a worker to answer its health check before it
# kills it and starts another. uvicorn's 5 s is shorter than a new worker's start on a busy
# machine (a spawned process imports the command's modules, then the app's): each new worker
# was killed before it could serve, and a desk that lost a worker never got it back.
WORKER_HEALTHCHECK_SECONDS = 60


def serve(app: Any, *, host: str, port: int, fast_path: bool, **options: Any) -> None:
    """``uvicorn.run``, with the fast path on uvloop and ``DeskHttpProtocol``; ``options``
    are uvicorn's. uvicorn's own reading of X-Forwarded-For is off: the app believes it only
    from CC_TRUSTED_PROXIES (``agent_desk.client_address``)."""
    options.setdefault("proxy_headers", False)
    if fast_path:
        options |= {"loop": "uvloop", "http": DeskHttpProtocol}
    uvicorn.run(app, host=host, port=port, **options)


def desk_app() -> Any:
    """The app as each process of ``callcenter desk`` builds it for itself, from the same
    ``CC_*`` settings (uvicorn spawns its workers: they share no objects with the parent).

    A worker that cannot build it exits with uvicorn's start-up failure code, which makes
    uvicorn stop instead of starting the worker again and again (the parent's check in
    ``serve_desk`` has normally stopped a wrong setting before any worker started)."""
    from agent_desk.app import create_app

    log_privacy.install()  # a spawned worker is a process of its own
    try:
        return create_app(load_settings(), warm_knowledge_index=True)
    except CallCenterError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
    except Exception:
        log.exception("the desk app could not be built")
    sys.exit(STARTUP_FAILURE)


def serve_desk(settings: Settings) -> None:
    """``callcenter desk``: the desk in ``settings.desk_workers`` processes, one port. The
    parent has loaded ``settings`` (CC_BOOKING_* and CC_WORKORDER_* among them), so a wrong
    value has stopped it, naming the variable, before any worker starts."""
    serve(
        f"{__name__}:desk_app",
        factory=True,
        host=settings.desk_bind,
        port=settings.desk_port,
        fast_path=settings.desk_fast_path,
        workers=settings.desk_workers,
        timeout_worker_healthcheck=WORKER_HEALTHCHECK_SECONDS,
        access_log=settings.desk_access_log,
    )
