"""The controller's /metrics server, and the loop that keeps the ACD's live gauges fresh
(docs/metrics.md)."""

from __future__ import annotations

import asyncio
import contextlib

from backend.acd.store import AcdStore
from backend.metrics.exposition import start_metrics_server
from backend.metrics.live import refresh_live_gauges
from backend.settings import Settings

REFRESH_SECONDS = 5.0


async def refresh_live_metrics(store: AcdStore, stop: asyncio.Event) -> None:
    while not stop.is_set():
        await refresh_live_gauges(store)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), REFRESH_SECONDS)


def serve_controller_metrics(settings: Settings) -> None:
    if settings.controller_metrics_port:
        start_metrics_server(settings.metrics_host, settings.controller_metrics_port)
