"""Start, stop and inspect one Asterisk instance running from the built-in root.

Each instance has its own directory ``/srv/callcenter/<name>`` inside the root (config, run,
log, spool, astdb, sounds, recordings), so a demo and several test runs can share one root.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from backend.ami.protocol import AmiParser, encode_action
from backend.ami.users import AmiUser, login, users_of
from backend.errors import ConfigError
from backend.settings import Settings, port_is_free
from ivr.pbx import render, rootfs
from ivr.pbx.fixed_prompts import render_fixed_prompts
from recordings.call_cards import CARDS_DIR

INSTANCE_SUBDIRS = ("etc", "run", "log", "spool", "db", "recordings", "keys")


class AsteriskStartError(ConfigError):
    code = "asterisk-start-failed"


@dataclass(frozen=True)
class AsteriskStatus:
    running: bool
    pid: int | None
    fully_booted: bool
    version: str


class AsteriskInstance:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.root = settings.asterisk_root
        self.dir = settings.host_path(settings.instance_dir_in_chroot)

    @property
    def conf_in_chroot(self) -> str:
        return f"{self.settings.instance_dir_in_chroot}/etc/asterisk.conf"

    @property
    def pid_file(self) -> Path:
        return self.dir / "run" / "asterisk.pid"

    @property
    def console_log(self) -> Path:
        return self.dir / "log" / "console.log"

    @property
    def messages_log(self) -> Path:
        return self.dir / "log" / "messages.log"

    def pid(self) -> int | None:
        """The pid of this instance's running Asterisk, from its pid file; None when none runs.

        A pid file outlives an Asterisk killed with SIGKILL. Its pid then names a zombie (a
        child of the process that started it, not yet reaped: the soak's chaos loop killed one
        it had started itself, and ``start`` took the zombie for a running Asterisk and started
        none) or, later, an unrelated process that got the number. Only a live process running
        this instance's configuration counts."""
        try:
            pid = int(self.pid_file.read_text().strip())
        except (OSError, ValueError):
            return None
        return pid if _runs_asterisk(pid, self.conf_in_chroot) else None

    def prepare(self) -> None:
        """Render the configuration and create the instance's directories."""
        if not rootfs.is_built(self.root):
            raise ConfigError(
                "asterisk_root", f"{self.root} holds no Asterisk: run 'callcenter asterisk build'"
            )
        for sub in INSTANCE_SUBDIRS:
            (self.dir / sub).mkdir(parents=True, exist_ok=True)
        # Where the dialplan's [call-card] writes: Asterisk's FILE() makes no directories.
        recordings = self.settings.host_path(self.settings.effective_asterisk_recordings_dir)
        (recordings / CARDS_DIR).mkdir(parents=True, exist_ok=True)
        render.write(render.render(self.settings), self.dir / "etc")
        render_fixed_prompts(self.settings)

    def start(self, timeout: float = 60.0) -> int:
        """Start Asterisk if it is not running and wait until AMI reports FullyBooted."""
        existing = self.pid()
        if existing is not None:
            return existing
        ports = [
            ("ami_port", self.settings.ami_host, self.settings.ami_port),
            ("sip_port", self.settings.sip_bind, self.settings.sip_port),
            (
                "asterisk_http_port",
                self.settings.asterisk_http_bind,
                self.settings.asterisk_http_port,
            ),
        ]
        if self.settings.sip_tls:
            ports.append(("sip_tls_port", self.settings.sip_bind, self.settings.sip_tls_port))
        for field, host, port in ports:
            if not port_is_free(host, port):
                raise ConfigError(field, f"port {port} on {host} is already in use")
        self.prepare()
        # One log per start, so that a check of this start's errors reads only this start.
        for log in (self.messages_log, self.console_log):
            if log.exists():
                log.replace(log.with_suffix(log.suffix + ".1"))
        with open(self.console_log, "ab") as out:
            process = subprocess.Popen(
                ["chroot", str(self.root), "asterisk", "-f", "-C", self.conf_in_chroot],
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # survives the CLI that started it
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise AsteriskStartError(
                    "asterisk_root", f"Asterisk exited at start; see {self.console_log}"
                )
            if self.ami_fully_booted():
                return process.pid
            time.sleep(0.3)
        raise AsteriskStartError(
            "asterisk_root", f"Asterisk did not report FullyBooted in {timeout:.0f} s"
        )

    def cli(self, command: str, timeout: float = 15.0) -> str:
        """Run one Asterisk CLI command through the instance's control socket."""
        result = subprocess.run(
            ["chroot", str(self.root), "asterisk", "-C", self.conf_in_chroot, "-rx", command],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        return result.stdout

    def stop(self, timeout: float = 20.0) -> bool:
        """Stop Asterisk; returns False when it was not running."""
        pid = self.pid()
        if pid is None:
            return False
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.cli("core stop now", timeout=5)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and _alive(pid):
            time.sleep(0.2)
        if _alive(pid):
            os.kill(pid, signal.SIGKILL)
        return True

    def status(self) -> AsteriskStatus:
        pid = self.pid()
        booted = pid is not None and self.ami_fully_booted()
        version = rootfs.asterisk_version(self.root) if rootfs.is_built(self.root) else ""
        return AsteriskStatus(pid is not None, pid, booted, version)

    def ami_fully_booted(self, timeout: float = 2.0) -> bool:
        """Log in to AMI and wait for the FullyBooted event Asterisk sends after login.

        Only a user that reads "system" events gets it: the tools user, which the built-in
        Asterisk has outside production. In production the controller's login must do."""
        s = self.settings
        user = AmiUser.TOOLS if AmiUser.TOOLS in users_of(s) else AmiUser.CONTROLLER
        account = login(s, user)
        try:
            with socket.create_connection((s.ami_host, s.ami_port), timeout=timeout) as sock:
                sock.sendall(
                    encode_action("Login", Username=account.username, Secret=account.secret)
                )
                parser = AmiParser()
                deadline = time.monotonic() + timeout
                while time.monotonic() < deadline:
                    data = sock.recv(65536)
                    if not data:
                        return False
                    for message in parser.feed(data):
                        if message.get("Response") == "Error":
                            refused = message.get("Message", "login refused")
                            raise ConfigError(
                                "ami_controller_secret", f"{account.username}: {refused}"
                            )
                        accepted = message.get("Response") == "Success"
                        if message.get("Event") == "FullyBooted" or (
                            accepted and user is AmiUser.CONTROLLER
                        ):
                            sock.sendall(encode_action("Logoff"))
                            return True
        except OSError:
            return False
        return False


def _runs_asterisk(pid: int, conf: str) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        command = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    state = stat.rsplit(")", 1)[-1].split()[0]  # the field after "(name)"
    if state in ("Z", "X"):
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)  # ours: reaped, so that the number is free again
        return False
    return conf.encode() in command


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie child of ours counts as gone.
    try:
        done, _ = os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        return True
    return done == 0
