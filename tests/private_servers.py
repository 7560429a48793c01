"""A PostgreSQL cluster and a Redis server of a test's own, on ports of their own, that the
test may stop and start (the machine's shared servers on 5432 and 6379 are never touched).

PostgreSQL: ``initdb`` and ``pg_ctl`` of /usr/lib/postgresql/*/bin in a temporary directory,
run as the ``postgres`` user when the tests run as root (PostgreSQL refuses to run as root),
trusting local connections. Redis: ``redis-server`` in a temporary directory; stopped with
SIGTERM it saves its data and loads it again on start, as a service restart does.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import redis

from backend import migrate
from tests.conftest import free_port


def _pg_bin(tool: str) -> str:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{tool}"))
    assert found, f"PostgreSQL's {tool} is not installed (postgresql in APT_PACKAGES)"
    return found[-1]


def _as_postgres(args: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *args] if os.geteuid() == 0 else args


class PrivatePostgres:
    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="cc-private-pg-"))
        self.data = self.root / "data"
        self.port = free_port()
        if os.geteuid() == 0:
            user = pwd.getpwnam("postgres")
            os.chown(self.root, user.pw_uid, user.pw_gid)
        self._run(_pg_bin("initdb"), "-D", str(self.data), "-U", "postgres", "-A", "trust")

    @property
    def admin_url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def start(self) -> None:
        """Start and wait until it accepts connections (``pg_ctl -w``)."""
        options = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run(
            _pg_bin("pg_ctl"), "-D", str(self.data), "-l", str(self.root / "log"),
            "-o", options, "-w", "start",
        )  # fmt: skip

    def stop(self) -> None:
        """A fast shutdown, as ``pg_ctlcluster stop`` does: sessions are cut, work rolled back."""
        self._run(_pg_bin("pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop")

    def remove(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError):
            self._run(_pg_bin("pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(self.root, ignore_errors=True)

    def _run(self, *args: str) -> None:
        subprocess.run(_as_postgres(list(args)), check=True, capture_output=True, timeout=120)


@contextlib.contextmanager
def private_postgres(name: str) -> Iterator[tuple[PrivatePostgres, str]]:
    """A started private cluster and the URL of database ``name`` on it, migrated the way
    ``tests/conftest.py`` migrates the run's database."""
    server = PrivatePostgres()
    try:
        server.start()
        # Kept: the cluster goes with its directory (and the admin connection would not
        # survive a test that restarted the server).
        with migrate.migrated_database(server.admin_url, name, keep=True) as url:
            yield server, url
    finally:
        server.remove()


class PrivateRedis:
    def __init__(self, *, persist: bool = True) -> None:
        # persist=False: nothing is saved, a restart comes back empty (as a Redis that keeps
        # nothing on disk does after it was killed).
        self.persist = persist
        self.root = Path(tempfile.mkdtemp(prefix="cc-private-redis-"))
        self.port = free_port()
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        """Start, and wait until it answers (having loaded what it saved when stopped)."""
        redis_server = shutil.which("redis-server")
        assert redis_server, "redis-server is not installed (redis-server in APT_PACKAGES)"
        args = [redis_server, "--port", str(self.port), "--bind", "127.0.0.1",
                "--dir", str(self.root), "--save", "3600 1" if self.persist else "", "--appendonly", "no"]  # fmt: skip
        with (self.root / "log").open("a") as log:
            self._proc = subprocess.Popen(args, stdout=log, stderr=log)
        client = redis.Redis.from_url(self.url)
        deadline = time.monotonic() + 30
        while True:
            with contextlib.suppress(redis.exceptions.ConnectionError):
                if client.ping():
                    break
            assert time.monotonic() < deadline, (self.root / "log").read_text()
            time.sleep(0.05)
        client.close()

    def stop(self) -> None:
        """SIGTERM: Redis saves its data set and exits, as a service stop does."""
        if self._proc is not None:
            self._proc.terminate()
            self._proc.wait(timeout=30)
            self._proc = None

    def kill(self) -> None:
        """SIGKILL: gone at once, saving nothing."""
        if self._proc is not None:
            self._proc.kill()
            self._proc.wait(timeout=30)
            self._proc = None

    def remove(self) -> None:
        if self._proc is not None:
            self._proc.kill()
            self._proc.wait()
        shutil.rmtree(self.root, ignore_errors=True)


@contextlib.contextmanager
def private_redis(*, persist: bool = True) -> Iterator[PrivateRedis]:
    server = PrivateRedis(persist=persist)
    try:
        server.start()
        yield server
    finally:
        server.remove()
