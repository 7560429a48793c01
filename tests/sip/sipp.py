"""Run one SIPp process (Debian's ``sip-tester``) with its scenario, logs and media port.

The caller and the carrier build a scenario and hand it to ``SippProcess``; it starts
``sipp`` in a session of its own (so stopping it stops all it started), with every message
traced to ``messages.log`` (read with ``tests.sip.siptrace``) and its screen and errors
kept in the work directory for the test's failure message.

SIPp is a real part of the tests: when it is not installed the test fails with a pointer to
``make setup``, it never skips.
"""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from tests.sip.processes import free_media_port, free_udp_port, stop_session
from tests.sip.siptrace import SipMessage, read_trace

SIPP = "sipp"
# SIPp's own helpers for requests its scenario does not expect: answer OPTIONS/NOTIFY/INFO
# ("pingreply") and reply 200 to INFO, NOTIFY, OPTIONS and UPDATE (-aa), so Asterisk's
# qualify and connected-line UPDATEs never break a call.
COMMON_OPTIONS = ("-nostdin", "-aa", "-trace_msg", "-trace_err", "-trace_logs")


class SippMissing(AssertionError):
    pass


def sipp_binary() -> str:
    path = shutil.which(SIPP)
    if path is None:
        raise SippMissing("sipp is not installed: run 'make setup' (Debian package sip-tester)")
    return path


def transport_option(transport: str) -> list[str]:
    """SIPp's -t for "udp" (one socket for all calls) or "tcp" (one connection)."""
    options = {"udp": ["-t", "u1"], "tcp": ["-t", "t1"]}
    if transport not in options:
        raise ValueError(f"SIPp transport {transport!r}: choose udp or tcp")
    return options[transport]


@dataclass
class SippEndpoint:
    """Where a SIPp process sits: SIP on ``host``:``port``, RTP on ``host``:``media_port``."""

    host: str
    port: int
    media_port: int

    @classmethod
    def free(cls, host: str) -> SippEndpoint:
        return cls(host, free_udp_port(host), free_media_port(host))


@dataclass
class SippProcess:
    """One ``sipp`` run; ``args`` are the role's own (remote address, -m, -s ...)."""

    name: str
    workdir: Path
    scenario: str
    local: SippEndpoint
    args: list[str] = field(default_factory=list)
    process: subprocess.Popen[bytes] | None = None

    @property
    def messages_file(self) -> Path:
        return self.workdir / "messages.log"

    @property
    def errors_file(self) -> Path:
        return self.workdir / "errors.log"

    @property
    def logs_file(self) -> Path:
        return self.workdir / "logs.log"

    @property
    def screen_file(self) -> Path:
        return self.workdir / "screen.log"

    def start(self) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        scenario_file = self.workdir / "scenario.xml"
        scenario_file.write_text(self.scenario, encoding="utf-8")
        command = [
            sipp_binary(),
            *self.args,
            "-sf",
            str(scenario_file),
            "-i",
            self.local.host,
            "-p",
            str(self.local.port),
            "-mi",
            self.local.host,
            "-mp",
            str(self.local.media_port),
            *COMMON_OPTIONS,
            "-message_file",
            str(self.messages_file),
            "-error_file",
            str(self.errors_file),
            "-log_file",
            str(self.logs_file),
        ]
        with open(self.screen_file, "wb") as screen:
            self.process = subprocess.Popen(
                command,
                cwd=self.workdir,
                stdin=subprocess.DEVNULL,
                stdout=screen,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    async def finished(self, timeout: float) -> int:
        """SIPp's exit status (0: every call went through the scenario to its end).

        Polls instead of blocking, so the test's event loop (the AGI server, AMI) runs on.
        """
        assert self.process is not None, "SIPp was not started"
        deadline = time.monotonic() + timeout
        while self.process.poll() is None:
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"SIPp {self.name} still running after {timeout:g} s; {self.describe()}"
                )
            await asyncio.sleep(0.1)
        return self.process.returncode

    def stop(self) -> None:
        """Stop SIPp and anything it started; harmless when it has ended already."""
        if self.process is not None:
            stop_session(self.process)

    def messages(self) -> list[SipMessage]:
        return read_trace(self.messages_file)

    async def wait_for_messages(
        self, predicate: Callable[[list[SipMessage]], bool], timeout: float, what: str
    ) -> list[SipMessage]:
        """Poll the trace until ``predicate(messages)`` holds; fails after ``timeout`` s."""
        deadline = time.monotonic() + timeout
        while True:
            messages = self.messages()
            if predicate(messages):
                return messages
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"SIPp {self.name}: {what} within {timeout:g} s; {self.describe()}"
                )
            await asyncio.sleep(0.1)

    def describe(self) -> str:
        """What SIPp said, for a failure message: its errors and the last lines it printed."""
        parts = [f"work dir {self.workdir}"]
        for path in (self.errors_file, self.screen_file):
            if path.exists():
                lines = path.read_text(errors="replace").splitlines()
                # The in-call loop's tick is a receive timeout SIPp reports every time.
                text = "\n".join(x for x in lines if "receive timeout" not in x).strip()
                if text:
                    parts.append(f"{path.name}: ...{text[-1500:]}")
        return "; ".join(parts)
