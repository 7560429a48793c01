"""Serving the metrics: one registry per process, or the files of all of a service's processes.

The desk (uvicorn workers) and the worker (Celery's prefork children) are several processes;
``prepare_multiprocess`` must run in their parent before anything imports prometheus_client,
so every child writes its values under one directory that the scrape reads whole.
"""

from __future__ import annotations

import logging
import os
import shutil
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from prometheus_client import CollectorRegistry

log = logging.getLogger("backend.metrics")

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"


def prepare_multiprocess(directory: Path) -> None:
    """A fresh directory for this run of a service (a dead run's files would be counted)."""
    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir(parents=True)
    os.environ[MULTIPROC_ENV] = str(directory)


def _registry() -> CollectorRegistry:
    """This process's registry, or one reading every process's files in multiprocess mode."""
    from prometheus_client import REGISTRY, CollectorRegistry
    from prometheus_client.multiprocess import MultiProcessCollector

    if not os.environ.get(MULTIPROC_ENV):
        return REGISTRY
    registry = CollectorRegistry()
    MultiProcessCollector(registry)
    return registry


def metrics_payload() -> tuple[bytes, str]:
    """The text exposition of this service (all its processes in multiprocess mode)."""
    from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

    return generate_latest(_registry()), CONTENT_TYPE_LATEST


def start_metrics_server(host: str, port: int) -> bool:
    """A /metrics HTTP server in a thread of this process (the controller, the worker).

    A port already taken is logged, not fatal: calls matter more than their figures."""
    from prometheus_client import start_http_server

    registry = _registry()
    try:
        start_http_server(port, addr=host, registry=registry)
    except OSError as exc:
        log.error("metrics not served on %s:%d: %s", host, port, exc)
        return False
    return True
