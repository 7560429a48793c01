"""``callcenter desk`` as a process of its own, as an operator starts it (the tests that need
its real server: uvicorn, its workers, its HTTP protocol)."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from pathlib import Path


def start_desk(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    """``callcenter desk`` with ``env`` (the whole environment), its output in ``log``."""
    with log.open("w") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "callcenter.cli.main", "desk"], env=env, stdout=out, stderr=out
        )


def stop_desk(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM (uvicorn stops its workers and waits for them), then SIGKILL to the lot."""
    workers = children(proc.pid)
    proc.terminate()
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    for pid in workers:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


def children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(child) for child in path.read_text().split()] if path.exists() else []
