"""A backup's manifest: every file's size and SHA-256, and each table's rows and checksum as
the database held them at the dump's snapshot."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

from backend.errors import CallCenterError

MANIFEST = "manifest.json"
CHUNK = 1 << 20


class BackupDamaged(CallCenterError):
    """A backup whose files or tables do not match its manifest: nothing is restored from it."""

    code = "backup-damaged"
    http_status = 422


@dataclass(frozen=True)
class FileEntry:
    size: int
    sha256: str


@dataclass(frozen=True)
class TableEntry:
    rows: int
    checksum: str


@dataclass
class Manifest:
    created_at: str
    database: str
    files: dict[str, FileEntry] = field(default_factory=dict)
    tables: dict[str, TableEntry] = field(default_factory=dict)

    def write(self, directory: Path) -> None:
        text = json.dumps(asdict(self), ensure_ascii=False, indent=1, sort_keys=True)
        (directory / MANIFEST).write_text(text + "\n", encoding="utf-8")

    @classmethod
    def read(cls, directory: Path) -> Manifest:
        path = directory / MANIFEST
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
            return cls(
                created_at=raw["created_at"],
                database=raw["database"],
                files={name: FileEntry(**entry) for name, entry in raw["files"].items()},
                tables={name: TableEntry(**entry) for name, entry in raw["tables"].items()},
            )
        except FileNotFoundError:
            raise BackupDamaged(f"{directory} is not a backup: it has no {MANIFEST}") from None
        except (ValueError, KeyError, TypeError) as exc:
            raise BackupDamaged(f"{path} is unreadable: {exc}") from None


def file_entry(path: Path) -> FileEntry:
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        while chunk := stream.read(CHUNK):
            digest.update(chunk)
    return FileEntry(path.stat().st_size, digest.hexdigest())


def record_files(manifest: Manifest, directory: Path) -> None:
    """Every file below ``directory`` but the manifest itself, by its path relative to it."""
    for path in sorted(p for p in directory.rglob("*") if p.is_file()):
        relative = path.relative_to(directory).as_posix()
        if relative != MANIFEST:
            manifest.files[relative] = file_entry(path)


def damaged_files(manifest: Manifest, directory: Path) -> list[str]:
    """What differs from the manifest: missing, changed or unlisted files, one line each."""
    problems = []
    for relative, expected in sorted(manifest.files.items()):
        path = directory / relative
        if not path.is_file():
            problems.append(f"{relative}: missing")
        elif file_entry(path) != expected:
            problems.append(f"{relative}: checksum differs from the manifest")
    listed = set(manifest.files) | {MANIFEST}
    for path in sorted(p for p in directory.rglob("*") if p.is_file()):
        if path.relative_to(directory).as_posix() not in listed:
            problems.append(f"{path.relative_to(directory).as_posix()}: not in the manifest")
    return problems
