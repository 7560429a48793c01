"""bench/booking's closed-loop phase, driven by wrk.

wrk is a load generator written in C, as pgbench, the baseline, is a database client written
in C. The Python generator (``load.py``) took CPU from the same two cores as the endpoint it
measured, and the endpoint served more bookings a second under wrk (bench/README.md). ``closed_loop.lua`` books each request
for the next patient of a contiguous block (a patient booking twice would meet the quota
rules). The paced phase stays with ``load.py``, which counts each latency from when the request
was due.
"""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

SCRIPT = Path(__file__).with_name("closed_loop.lua")
_RESULT = re.compile(r"^RESULT (.*)$", re.MULTILINE)


@dataclass(frozen=True)
class ClosedLoopResult:
    created: int  # 201 answers
    refused: int  # any other status: a bench whose bookings are refused measures nothing
    errors: int  # connect, read, write and timeout errors
    seconds: float
    p50_ms: float
    p99_ms: float

    @property
    def bookings_per_second(self) -> float:
        return self.created / self.seconds


def _first_of_range(ids: Sequence[int], what: str) -> int:
    if not ids or ids[-1] - ids[0] != len(ids) - 1:
        raise ValueError(f"the {what} must be consecutive ids")
    return ids[0]


def run_wrk(
    port: int,
    *,
    token: str,
    patients: Sequence[int],
    sessions: Sequence[int],
    clients: int,
    seconds: int,
    threads: int = 2,
) -> ClosedLoopResult:
    """``clients`` connections sending back to back for ``seconds``, one booking per patient
    of ``patients`` (consecutive ids), each in a random one of ``sessions``."""
    env = os.environ | {
        "TOKEN": token,
        "PATIENT_FIRST": str(_first_of_range(patients, "patients")),
        "THREADS": str(threads),
        "SESSION_FIRST": str(_first_of_range(sessions, "sessions")),
        "SESSION_COUNT": str(len(sessions)),
    }
    cmd = [
        "wrk", f"-t{threads}", f"-c{clients}", f"-d{seconds}s", "--timeout", "30s",
        "-s", str(SCRIPT), f"http://127.0.0.1:{port}",
    ]  # fmt: skip
    done = subprocess.run(cmd, env=env, capture_output=True, text=True)
    found = _RESULT.search(done.stdout)
    if done.returncode != 0 or found is None:
        raise RuntimeError(f"wrk failed:\n{done.stdout}\n{done.stderr}")
    values = dict(item.split("=") for item in found.group(1).split())
    if int(values["sent"]) > len(patients):
        raise RuntimeError(f"wrk sent {values['sent']} requests for {len(patients)} patients")
    return ClosedLoopResult(
        created=int(values["created"]),
        refused=int(values["refused"]),
        errors=int(values["errors"]),
        seconds=float(values["seconds"]),
        p50_ms=float(values["p50_ms"]),
        p99_ms=float(values["p99_ms"]),
    )
