"""Taking a backup into a directory of its own, and keeping the newest few.

A backup is a directory named by its UTC time, written as ``<name>.partial`` and renamed when
complete, so a crash mid-way never leaves something that looks like a backup::

    20261203T020000Z/
      database.dump        pg_dump, custom format
      recordings/...       the recordings directory as it is (sealed files stay sealed)
      prompts/...          the built prompts (Asterisk's sounds/cc)
      config/<n>-<name>    each path of CC_BACKUP_INCLUDE (settings files, certificates)
      manifest.json        every file's SHA-256, every table's rows and checksum
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import make_url

from backend.backup import database
from backend.backup.manifest import Manifest, record_files
from backend.settings import Settings

DUMP = "database.dump"
RECORDINGS = "recordings"
PROMPTS = "prompts"
CONFIG = "config"
STAMP = "%Y%m%dT%H%M%SZ"


@dataclass(frozen=True)
class BackupSources:
    """What a backup copies, besides the database."""

    recordings: Path
    prompts: Path
    config: tuple[Path, ...]

    @classmethod
    def of(cls, settings: Settings) -> BackupSources:
        return cls(
            settings.effective_recordings_dir,
            settings.effective_sounds_dir / "cc",
            tuple(settings.backup_include),
        )


def create_backup(
    settings: Settings, destination: Path | None = None, *, now: datetime | None = None
) -> Path:
    """Take a backup into a new directory below ``destination`` (CC_BACKUP_DIR by default)."""
    moment = now or datetime.now(UTC)
    parent = destination or settings.effective_backup_dir
    parent.mkdir(parents=True, exist_ok=True)
    final = parent / moment.strftime(STAMP)
    partial = final.with_name(final.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir()
    try:
        _fill(settings, BackupSources.of(settings), partial, moment)
        partial.rename(final)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    return final


def _fill(settings: Settings, sources: BackupSources, target: Path, moment: datetime) -> None:
    tables = database.dump(settings.database_url, target / DUMP)
    _copy_tree(sources.recordings, target / RECORDINGS)
    _copy_tree(sources.prompts, target / PROMPTS)
    for number, path in enumerate(sources.config):
        copy = target / CONFIG / f"{number}-{path.name}"
        if path.is_dir():
            _copy_tree(path, copy)
        elif path.is_file():
            copy.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, copy)
        else:
            raise database.BackupFailed(f"CC_BACKUP_INCLUDE names {path}, which does not exist")
    manifest = Manifest(
        created_at=moment.isoformat(),
        database=make_url(settings.database_url).database or "",
        tables=tables,
    )
    record_files(manifest, target)
    manifest.write(target)


def _copy_tree(source: Path, target: Path) -> None:
    if source.is_dir():
        shutil.copytree(source, target, symlinks=False, dirs_exist_ok=True)
    else:
        target.mkdir(parents=True, exist_ok=True)


def list_backups(parent: Path) -> list[Path]:
    """Complete backups below ``parent``, oldest first (partial ones are not backups)."""
    if not parent.is_dir():
        return []
    return sorted(p for p in parent.iterdir() if p.is_dir() and not p.name.endswith(".partial"))


def prune(parent: Path, keep: int) -> list[Path]:
    """Delete all but the newest ``keep`` backups; returns the deleted ones."""
    backups = list_backups(parent)
    doomed = backups[: max(len(backups) - keep, 0)]
    for path in doomed:
        shutil.rmtree(path)
    return doomed
