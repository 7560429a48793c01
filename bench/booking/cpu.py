"""Where the CPU of a bench/booking run goes, per group of processes, read from /proc.

On this two-core machine both sides of the bench keep the cores busy, so the throughput ratio
is the ratio of the whole machine's CPU per pgbench transaction to its CPU per HTTP booking.
``CpuMeter`` splits the HTTP side's figure between the web workers, the PostgreSQL backends of
the bench's database, the load generator and Redis, so that a run shows what a change to the
server did to each part instead of only to the ratio. (The PostgreSQL backends of a pgbench
run exit with it, before they can be read: for pgbench only the whole machine and its own
client are counted.)

A process that exits between the two readings loses its time since the first; the groups the
bench reads live through a round (the server, its pooled connections, Redis).
"""

from __future__ import annotations

import os
import resource
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

TICKS_PER_SECOND = os.sysconf("SC_CLK_TCK")
PROC = Path("/proc")


def _stat_fields(pid: int) -> list[str] | None:
    """The fields of ``/proc/<pid>/stat`` after the command name (which may hold spaces), or
    None when the process is gone: index 1 is the parent's pid, 11 and 12 user and system time."""
    try:
        stat = (PROC / str(pid) / "stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    return stat.rsplit(")", 1)[1].split()


def process_cpu_seconds(pid: int) -> float:
    """User and system CPU of a live process; 0 when it is gone."""
    fields = _stat_fields(pid)
    return 0.0 if fields is None else (int(fields[11]) + int(fields[12])) / TICKS_PER_SECOND


def _command_line(pid: int) -> str:
    try:
        raw = (PROC / str(pid) / "cmdline").read_bytes()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return ""
    return raw.replace(b"\0", b" ").decode(errors="replace").strip()


def _parent(pid: int) -> int:
    fields = _stat_fields(pid)
    return 0 if fields is None else int(fields[1])


def pids_where(command_line_matches: Callable[[str], bool]) -> list[int]:
    return [
        int(entry.name)
        for entry in PROC.iterdir()
        if entry.name.isdigit() and command_line_matches(_command_line(int(entry.name)))
    ]


def children_of(parent: int) -> list[int]:
    return [
        int(e.name) for e in PROC.iterdir() if e.name.isdigit() and _parent(int(e.name)) == parent
    ]


def postgres_backends_of(dbname: str) -> list[int]:
    """The backends connected to ``dbname`` (PostgreSQL titles them ``postgres: user db ...``)."""
    return pids_where(lambda line: line.startswith("postgres: ") and f" {dbname} " in line)


def redis_servers() -> list[int]:
    return pids_where(lambda line: line.startswith("redis-server"))


def machine_busy_seconds() -> float:
    """CPU time all cores spent busy (user, nice, system, irq, softirq) since boot."""
    values = [int(v) for v in (PROC / "stat").read_text().split("\n", 1)[0].split()[1:]]
    user, nice, system, _idle, _iowait, irq, softirq = values[:7]
    return (user + nice + system + irq + softirq) / TICKS_PER_SECOND


def waited_children_seconds() -> float:
    """CPU of this process's children that have been waited for (pgbench, wrk)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


@dataclass(frozen=True)
class CpuSplit:
    """CPU seconds per group over one measured run."""

    machine: float
    client: float  # the load generator, or pgbench itself
    groups: dict[str, float]

    def per_unit_ms(self, units: int) -> dict[str, float]:
        """Milliseconds of CPU per booking (or transaction), the machine's and each group's."""
        if units <= 0:
            return {}
        split = {"machine": self.machine, "client": self.client, **self.groups}
        return {name: 1000 * seconds / units for name, seconds in split.items()}


class CpuMeter:
    """Reads the groups' CPU before and after a run. ``groups`` name functions that list the
    group's pids; they are listed again at the end, so that processes started during the run
    count from zero."""

    def __init__(self, groups: dict[str, Callable[[], list[int]]]) -> None:
        self._groups = groups
        self._before: dict[str, dict[int, float]] = {}
        self._machine = 0.0
        self._client = 0.0

    def start(self) -> None:
        self._before = {name: self._read(list_pids()) for name, list_pids in self._groups.items()}
        self._machine = machine_busy_seconds()
        self._client = waited_children_seconds()

    def stop(self) -> CpuSplit:
        machine = machine_busy_seconds() - self._machine
        client = waited_children_seconds() - self._client
        groups = {}
        for name, list_pids in self._groups.items():
            before = self._before.get(name, {})
            after = self._read(list_pids())
            groups[name] = sum(seconds - before.get(pid, 0.0) for pid, seconds in after.items())
        return CpuSplit(machine=machine, client=client, groups=groups)

    @staticmethod
    def _read(pids: list[int]) -> dict[int, float]:
        return {pid: process_cpu_seconds(pid) for pid in pids}
