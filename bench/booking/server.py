"""The desk bench/booking measures: ``callcenter desk`` in its own processes, and the
booking requests sent to it."""

from __future__ import annotations

import asyncio
import os
import random
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx

from bench.booking.load import post_request

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_app(
    url: str, port: int, workers: int, run_id: str, *, fast_path: bool
) -> subprocess.Popen[bytes]:
    """``callcenter desk``, as an operator starts it, in ``workers`` processes."""
    env = os.environ | {
        "CC_DESK_FAST_PATH": "true" if fast_path else "false",
        "CC_DATABASE_URL": url,
        "CC_ENVIRONMENT": "development",
        "CC_DESK_PORT": str(port),
        "CC_DESK_WORKERS": str(workers),
        "CC_DESK_ACCESS_LOG": "false",  # as behind a proxy that logs requests
        # Every bench client comes from 127.0.0.1: lift the per-address limit, keep the count.
        "CC_BOOKING_RATE_LIMIT_REQUESTS": "1000000000",
        "CC_BOOKING_REDIS_PREFIX": f"cc-bench-{run_id}:",
        "CC_DESK_REDIS_PREFIX": f"cc-bench-{run_id}",
        "PYTHONPATH": str(ROOT),
    }
    cmd = [sys.executable, "-m", "callcenter.cli.main", "desk"]
    return subprocess.Popen(cmd, cwd=ROOT, env=env)


async def wait_ready(base: str, proc: subprocess.Popen[bytes]) -> None:
    async with httpx.AsyncClient(base_url=base) as client:
        for _ in range(200):
            if proc.poll() is not None:
                raise RuntimeError("the desk app exited while starting")
            try:
                if (await client.get("/healthz")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.1)
    raise RuntimeError("the desk app did not start within 20 s")


def booking_requests(
    port: int, token: str, patients: Iterator[int], sessions: list[int]
) -> Iterator[bytes]:
    """One booking per patient, taken from ``patients`` as each request is made (a patient
    booking twice would meet the quota rules)."""
    auth = {"Authorization": f"Bearer {token}"}
    rng = random.Random(1)
    for patient in patients:
        body = {"patient_id": patient, "schedule_id": rng.choice(sessions)}
        yield post_request("127.0.0.1", port, "/api/public/bookings", auth, body)
