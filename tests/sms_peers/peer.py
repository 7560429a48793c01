"""Runs a test gateway (``smpp_server``, ``cmpp_server``) as a process of its own on a free
loopback port, stops and starts it (a gateway outage), and reads back what it recorded."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.conftest import free_port


class GatewayPeer:
    def __init__(self, module: str, directory: Path, *credentials: str) -> None:
        self.port = free_port()
        self.record = directory / f"{module}-{self.port}.jsonl"
        self._argv = [sys.executable, "-m", f"tests.sms_peers.{module}", str(self.port),
                      str(self.record), *credentials]  # fmt: skip
        self._process: subprocess.Popen[str] | None = None

    def start(self) -> None:
        root = Path(__file__).resolve().parents[2]  # where ``tests`` is a package
        self._process = subprocess.Popen(self._argv, stdout=subprocess.PIPE, text=True, cwd=root)
        assert self._process.stdout is not None
        line = self._process.stdout.readline()
        assert line.strip() == "ready", f"{self._argv[2]} did not start: {line!r}"

    def stop(self) -> None:
        if self._process is not None:
            self._process.terminate()
            self._process.wait(timeout=10)
            self._process = None

    def messages(self) -> list[dict[str, object]]:
        """Every message submitted, its parts joined (by reference, in order)."""
        if not self.record.exists():
            return []
        parts = [json.loads(line) for line in self.record.read_text().splitlines()]
        messages: dict[tuple[object, ...], list[dict[str, object]]] = {}
        for part in parts:
            key = (
                (part["dest"], part["ref"], part["total"]) if part["total"] != 1 else (part["id"],)
            )
            messages.setdefault(key, []).append(part)
        joined = []
        for group in messages.values():
            group.sort(key=lambda p: int(str(p["seq"])))
            joined.append(group[0] | {"text": "".join(str(p["text"]) for p in group),
                                      "parts": len(group)})  # fmt: skip
        return joined
