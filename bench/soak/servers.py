"""The soak's own PostgreSQL and Redis, in a scratch directory on free ports: the chaos loop
stops and starts them, so they must never be the machine's shared servers."""

from __future__ import annotations

import glob
import os
import signal
import subprocess
import time
from pathlib import Path

import redis

from tests.conftest import free_port


def _pg_bin(tool: str) -> str:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{tool}"))
    if not found:
        raise RuntimeError(f"PostgreSQL's {tool} is not installed (/usr/lib/postgresql/*/bin)")
    return found[-1]


def _as_postgres(argv: list[str]) -> list[str]:
    """PostgreSQL refuses to run as root: the server tools run as the postgres user."""
    return ["runuser", "-u", "postgres", "--", *argv] if os.geteuid() == 0 else argv


class PrivatePostgres:
    def __init__(self, base: Path) -> None:
        self.data = base / "pgdata"
        self.port = free_port()
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/callcenter_soak"
        self.admin_url = f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def _ctl(self, *args: str) -> None:
        argv = [_pg_bin("pg_ctl"), "-D", str(self.data), "-w", "-t", "60", *args]
        subprocess.run(_as_postgres(argv), check=True, capture_output=True)

    def init(self) -> None:
        self.data.mkdir(parents=True)
        if os.geteuid() == 0:
            subprocess.run(["chown", "-R", "postgres:postgres", str(self.data.parent)], check=True)
        argv = [_pg_bin("initdb"), "-D", str(self.data), "-U", "postgres", "--auth=trust"]
        subprocess.run(_as_postgres(argv), check=True, capture_output=True)
        options = (
            f"port = {self.port}\nlisten_addresses = '127.0.0.1'\n"
            f"unix_socket_directories = '{self.data}'\nmax_connections = 200\nfsync = on\n"
        )
        with open(self.data / "postgresql.conf", "a") as conf:
            conf.write(options)
        self.start()

    def start(self) -> None:
        self._ctl("-l", str(self.data / "server.log"), "start")

    def stop(self, mode: str = "fast") -> None:
        self._ctl("-m", mode, "stop")

    def kill(self) -> None:
        """kill -9 of the postmaster: a crash, recovered from the WAL at the next start."""
        pid = int((self.data / "postmaster.pid").read_text().split()[0])
        os.kill(pid, signal.SIGKILL)
        time.sleep(0.5)  # its backends notice the postmaster is gone and exit


class PrivateRedis:
    def __init__(self, base: Path) -> None:
        self.dir = base / "redis"
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        # Append-only, fsync every second: a restart keeps the ACD's and the sessions' keys,
        # as a production Redis configured for it does.
        argv = [
            "redis-server",
            "--port",
            str(self.port),
            "--bind",
            "127.0.0.1",
            "--dir",
            str(self.dir),
            "--appendonly",
            "yes",
            "--appendfsync",
            "everysec",
            "--save",
            "",
        ]
        log = open(self.dir / "redis.log", "ab")  # noqa: SIM115 - the server keeps it
        self._process = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT)
        client = redis.Redis.from_url(self.url)
        for _ in range(100):
            try:
                client.ping()
                return
            except redis.ConnectionError:
                time.sleep(0.1)
        raise RuntimeError("the soak's Redis did not start")

    def stop(self) -> None:
        if self._process is not None:
            self._process.terminate()  # SIGTERM: Redis flushes its append-only file first
            self._process.wait(30)
            self._process = None
