"""Background processes of the single-machine stack, tracked by pid files in the state dir.

Each service is started detached (own session, output to its log file) so that `callcenter up`
can return and `callcenter down` — from any shell — can stop exactly what `up` started.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class ServiceSpec:
    name: str
    argv: tuple[str, ...]


def python_command(*args: str) -> tuple[str, ...]:
    """Run the CLI of this same installation, whatever the PATH says."""
    return (sys.executable, "-m", "callcenter.cli.main", *args)


class ProcessTable:
    def __init__(self, state_dir: Path) -> None:
        self.run_dir = state_dir / "run"
        self.log_dir = state_dir / "log"

    def pid_file(self, name: str) -> Path:
        return self.run_dir / f"{name}.pid"

    def log_file(self, name: str) -> Path:
        return self.log_dir / f"{name}.log"

    def pid(self, name: str) -> int | None:
        try:
            pid = int(self.pid_file(name).read_text())
        except (OSError, ValueError):
            return None
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            self.pid_file(name).unlink(missing_ok=True)
            return None
        return pid

    def start(self, spec: ServiceSpec, env: dict[str, str] | None = None) -> int:
        existing = self.pid(spec.name)
        if existing is not None:
            return existing
        self.run_dir.mkdir(parents=True, exist_ok=True)
        self.log_dir.mkdir(parents=True, exist_ok=True)
        with open(self.log_file(spec.name), "ab") as log:
            process = subprocess.Popen(
                spec.argv,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                env={**os.environ, **(env or {})},
            )
        self.pid_file(spec.name).write_text(str(process.pid))
        return process.pid

    def exited_early(self, name: str, within: float = 1.5) -> bool:
        """Whether a just-started service died at once (bad settings, port taken)."""
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            if self.pid(name) is None:
                return True
            time.sleep(0.1)
        return False

    def last_log_line(self, name: str) -> str:
        try:
            lines = self.log_file(name).read_text(errors="replace").strip().splitlines()
        except OSError:
            return ""
        return lines[-1] if lines else ""

    def stop(self, name: str, timeout: float = 10.0) -> bool:
        pid = self.pid(name)
        if pid is None:
            return False
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self.pid(name) is not None:
            time.sleep(0.1)
        if self.pid(name) is not None:
            os.killpg(pid, signal.SIGKILL)
        self.pid_file(name).unlink(missing_ok=True)
        return True
