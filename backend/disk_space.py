"""How full a disk is, measured against the centre's two thresholds (CC_DISK_WARN_FREE_MB,
CC_DISK_REFUSE_FREE_MB): plenty, low (supervisors are warned) or full (no new recordings)."""

from __future__ import annotations

import enum
import shutil
from dataclasses import dataclass
from pathlib import Path

MB = 1024 * 1024


class DiskLevel(enum.StrEnum):
    OK = "ok"
    LOW = "low"  # below the warning threshold
    FULL = "full"  # below the refusal threshold: nothing new is written there


@dataclass(frozen=True)
class DiskThresholds:
    warn_free_bytes: int
    refuse_free_bytes: int

    @classmethod
    def in_megabytes(cls, warn: int, refuse: int) -> DiskThresholds:
        return cls(warn * MB, refuse * MB)

    def level(self, free_bytes: int) -> DiskLevel:
        if free_bytes < self.refuse_free_bytes:
            return DiskLevel.FULL
        if free_bytes < self.warn_free_bytes:
            return DiskLevel.LOW
        return DiskLevel.OK


@dataclass(frozen=True)
class DiskReading:
    name: str  # what is stored there: "recordings", "postgresql"
    path: Path
    free_bytes: int
    total_bytes: int
    level: DiskLevel

    def describe(self) -> str:
        return (
            f"{self.name} disk ({self.path}): {self.free_bytes // MB} MB free "
            f"of {self.total_bytes // MB} MB"
        )


def read_disk(name: str, path: Path, thresholds: DiskThresholds) -> DiskReading:
    """The disk holding ``path`` as it is now (OSError when the path is gone)."""
    usage = shutil.disk_usage(path)
    return DiskReading(name, path, usage.free, usage.total, thresholds.level(usage.free))
