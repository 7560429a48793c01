"""The stack under the soak: `callcenter demo-data` and `callcenter up` as an operator runs
them, on the soak's own PostgreSQL, Redis, Asterisk instance, ports and state directory; and
the ways the chaos loop breaks each part and brings it back."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from backend.settings import Settings, load_settings
from bench.soak.servers import PrivatePostgres, PrivateRedis
from ivr.pbx.instance import AsteriskInstance
from tests.conftest import DID_114, DID_HOTLINE, free_port


class Stack:
    def __init__(self, base: Path, name: str) -> None:
        self.base = base
        self.postgres = PrivatePostgres(base)
        self.redis = PrivateRedis(base)
        self.env = {
            "CC_DATABASE_URL": self.postgres.url,
            "CC_REDIS_URL": self.redis.url,
            "CC_STATE_DIR": str(base / "state"),
            "CC_ASTERISK_INSTANCE": name,
            "CC_AMI_PORT": str(free_port()),
            "CC_SIP_PORT": str(free_port()),
            "CC_ASTERISK_HTTP_PORT": str(free_port()),
            "CC_AGI_PORT": str(free_port()),
            "CC_DESK_PORT": str(free_port()),
            "CC_CONTROLLER_METRICS_PORT": str(free_port()),
            "CC_WORKER_METRICS_PORT": str(free_port()),
            "CC_DESK_REDIS_PREFIX": name,
            # Two desk workers, so that the chaos loop kills one and the other serves while
            # uvicorn starts it again (its worker health check now allows 60 s for a start).
            "CC_DESK_WORKERS": "2",
            "CC_DID_114": DID_114,
            "CC_DID_HOTLINE": DID_HOTLINE,
            # The dialplan's fallback (no controller) rings a simulated agent too.
            "CC_FALLBACK_AGENTS": "Local/1002@sim-agent",
            "CC_CALLBACK_DIAL_TEMPLATE": "Local/{number}@sim-agent",
        }
        self.settings: Settings = load_settings(
            **{k.removeprefix("CC_").lower(): v for k, v in self.env.items()}
        )
        # One address sends every online booking here, where a city's citizens come from many:
        # the per-address limit (100 a minute) would refuse the soak's two a second.
        self.env["CC_BOOKING_RATE_LIMIT_REQUESTS"] = "1000000"
        self.asterisk = AsteriskInstance(self.settings)

    @property
    def desk_url(self) -> str:
        return f"http://127.0.0.1:{self.settings.desk_port}"

    def cli(self, *args: str) -> None:
        result = subprocess.run(
            [sys.executable, "-m", "callcenter.cli.main", *args],
            env={**os.environ, **self.env},
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        if result.returncode != 0:
            raise RuntimeError(f"callcenter {' '.join(args)}: {result.stderr or result.stdout}")

    def servers_up(self) -> None:
        """The soak's PostgreSQL (with the schema) and Redis."""
        self.postgres.init()
        self.redis.start()
        self.cli("db", "upgrade")

    def up(self) -> None:
        """The demo data, then the whole stack as `callcenter up` starts it."""
        self.cli("demo-data")
        self.cli("up")

    def down(self) -> None:
        try:
            self.cli("down")
        finally:
            self.asterisk.stop()
            self.redis.stop()
            self.postgres.stop("immediate")

    # What the chaos loop does ----------------------------------------------------------

    def pid(self, service: str) -> int | None:
        """A `callcenter up` service's pid, from the pid file `up` wrote."""
        try:
            pid = int((self.settings.state_dir / "run" / f"{service}.pid").read_text())
        except (OSError, ValueError):
            return None
        return pid if Path(f"/proc/{pid}").exists() else None

    def restart_service(self, name: str, *, down_seconds: float = 1.0) -> str:
        """kill -9 of a `callcenter up` service, started again at once as a supervisor
        (systemd's Restart=always) would: the same command, log and pid file as `up`'s."""
        pid = self.pid(name)
        if pid is not None:
            os.killpg(pid, signal.SIGKILL)
        time.sleep(down_seconds)
        state = self.settings.state_dir
        with open(state / "log" / f"{name}.log", "ab") as log:
            process = subprocess.Popen(
                [sys.executable, "-m", "callcenter.cli.main", name],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                env={**os.environ, **self.env},
            )
        (state / "run" / f"{name}.pid").write_text(str(process.pid))
        return f"{name} kill -9 (pid {pid}), started again after {down_seconds:.0f} s"

    def kill_desk_worker(self) -> str:
        """kill -9 of one desk worker (the soak runs two): uvicorn's supervisor starts another
        while the other serves. Without a worker process to find, the whole desk is killed and
        started again as `callcenter up` would."""
        desk = self.pid("desk")
        workers = [pid for pid in _children(desk) if "spawn_main" in _cmdline(pid)] if desk else []
        if not workers:
            return self.restart_service("desk")
        os.kill(workers[0], signal.SIGKILL)
        return f"desk worker kill -9 (pid {workers[0]})"

    def restart_redis(self, down_seconds: float = 5.0) -> str:
        self.redis.stop()
        time.sleep(down_seconds)
        self.redis.start()
        return f"Redis stopped, started after {down_seconds:.0f} s"

    def restart_postgres(self, down_seconds: float = 5.0) -> str:
        self.postgres.kill()
        time.sleep(down_seconds)
        self.postgres.start()
        return f"PostgreSQL kill -9, started after {down_seconds:.0f} s (crash recovery)"

    def restart_asterisk(self, down_seconds: float = 2.0) -> str:
        pid = self.asterisk.pid()
        if pid is not None:
            os.kill(pid, signal.SIGKILL)
        time.sleep(down_seconds)
        self.asterisk.start()
        return f"Asterisk kill -9 (pid {pid}), started after {down_seconds:.0f} s"


def _children(pid: int) -> list[int]:
    try:
        return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""
