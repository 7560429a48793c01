"""``callcenter desk`` as a process of its own, as an operator starts it (the tests that need
its real server: uvicorn, its workers, its HTTP protocol)."""

from __future__ import annotations

import contextlib
import http.client
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

from tests.conftest import free_port


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


def wait_for_workers(
    proc: subprocess.Popen[bytes], port: int, log: Path, workers: int
) -> list[int]:
    """The worker processes, once each has started its app (the listening socket is shared:
    it accepts as soon as the first worker is up, and would hand it every connection). With
    one worker uvicorn serves in the process itself."""
    deadline = time.monotonic() + 180  # a busy machine: each worker imports the whole app
    while time.monotonic() < deadline:
        assert proc.poll() is None, log.read_text()
        found = [proc.pid] if workers == 1 else spawned_workers(proc.pid)
        started = log.read_text().count("Application startup complete.")
        if len(found) == workers and started >= workers and answers(port):
            return found
        time.sleep(0.2)
    raise AssertionError(f"the desk's workers did not come up:\n{log.read_text()}")


def spawned_workers(pid: int) -> list[int]:
    """The worker processes uvicorn's supervisor ``pid`` has running now."""
    return [child for child in children(pid) if "spawn_main" in cmdline(child)]


def serving_workers(pid: int, database_port: int) -> list[int]:
    """The workers that are done starting: each has connected to the database by then (it
    warms the knowledge index at start-up) and keeps that connection in its pool."""
    established = {
        inode
        for _, remote, state, inode in tcp_sockets()
        if remote == database_port and state == "01"
    }
    return [w for w in spawned_workers(pid) if socket_inodes(w) & established]


def socket_inodes(pid: int) -> set[str]:
    inodes = set()
    try:
        fds = list(Path(f"/proc/{pid}/fd").iterdir())
    except FileNotFoundError:  # the process has gone
        return inodes
    for fd in fds:
        try:
            target = os.readlink(fd)
        except FileNotFoundError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[len("socket:[") : -1])
    return inodes


def tcp_sockets() -> list[tuple[int, int, str, str]]:
    """(local port, remote port, state, inode) of every IPv4 TCP socket."""
    rows = []
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local, remote, state, inode = fields[1], fields[2], fields[3], fields[9]
        rows.append((int(local.split(":")[1], 16), int(remote.split(":")[1], 16), state, inode))
    return rows


def cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except FileNotFoundError:
        return ""


def answers(port: int) -> bool:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
    try:
        conn.request("GET", "/healthz")
        return conn.getresponse().status == 200
    except OSError:
        return False
    finally:
        conn.close()


@contextlib.contextmanager
def running_desk(
    database_url: str, redis_url: str, state_dir: Path, name: str, *, workers: int = 1
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """``callcenter desk`` on these servers, its Redis keys under ``name``, the online API's
    rate limit out of the way of a test's load: its base URL and its process."""
    port = free_port()
    env = {
        **os.environ,
        "CC_DATABASE_URL": database_url,
        "CC_REDIS_URL": redis_url,
        "CC_DESK_BIND": "127.0.0.1",
        "CC_DESK_PORT": str(port),
        "CC_DESK_WORKERS": str(workers),
        "CC_DESK_REDIS_PREFIX": name,
        "CC_BOOKING_REDIS_PREFIX": f"{name}:booking:",
        "CC_BOOKING_RATE_LIMIT_REQUESTS": "1000000",
        "CC_STATE_DIR": str(state_dir),
    }
    log = state_dir / "desk.log"
    proc = start_desk(env, log)
    try:
        wait_for_workers(proc, port, log, workers)
        yield f"http://127.0.0.1:{port}", proc
    finally:
        stop_desk(proc)
