"""Verifying a backup in a scratch database, and restoring one into an empty system."""

from __future__ import annotations

import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import create_engine, make_url, text

from backend.backup import database
from backend.backup.archive import CONFIG, DUMP, PROMPTS, RECORDINGS, BackupSources
from backend.backup.manifest import BackupDamaged, Manifest, damaged_files, file_entry
from backend.errors import Conflict
from backend.migrate import migrated_database, scratch_database
from backend.settings import Settings


@dataclass(frozen=True)
class Verified:
    files: int
    tables: int
    rows: int


def verify_backup(settings: Settings, backup: Path) -> Verified:
    """Check every file against the manifest, restore the dump into a scratch database on
    CC_DATABASE_URL's server and compare each table's rows and checksum. Raises
    BackupDamaged naming what differs."""
    manifest = checked_manifest(backup)
    name = f"cc_verify_{uuid.uuid4().hex[:8]}"
    with scratch_database(settings.database_url, name) as url:
        try:
            database.restore(url, backup / DUMP)
        except database.BackupFailed as exc:
            raise BackupDamaged(f"{backup}: the dump does not restore: {exc.message}") from None
        restored = database.stats_of(url)
    differing = _table_differences(manifest, restored)
    if differing:
        raise BackupDamaged(f"{backup}: restored tables differ: " + "; ".join(differing))
    rows = sum(entry.rows for entry in manifest.tables.values())
    return Verified(len(manifest.files), len(manifest.tables), rows)


def checked_manifest(backup: Path) -> Manifest:
    """The backup's manifest, once every file was found as it lists them."""
    manifest = Manifest.read(backup)
    problems = damaged_files(manifest, backup)
    if problems:
        raise BackupDamaged(f"{backup}: " + "; ".join(problems))
    return manifest


def _table_differences(manifest: Manifest, restored: dict[str, database.TableEntry]) -> list[str]:
    problems = []
    for table in sorted(set(manifest.tables) | set(restored)):
        expected, found = manifest.tables.get(table), restored.get(table)
        if expected != found:
            problems.append(f"{table}: manifest {expected}, restored {found}")
    return problems


def restore_backup(settings: Settings, backup: Path, *, config_to: Path | None = None) -> None:
    """Restore into an empty system: refuse a damaged backup, a database holding data or a
    recording that would be overwritten, before anything is written."""
    checked_manifest(backup)
    sources = BackupSources.of(settings)
    _refuse_overwrites(backup, sources)
    _empty_database(settings.database_url)
    database.restore(settings.database_url, backup / DUMP)
    _copy_missing(backup / RECORDINGS, sources.recordings)
    _copy_missing(backup / PROMPTS, sources.prompts)
    if config_to is not None and (backup / CONFIG).is_dir():
        _copy_missing(backup / CONFIG, config_to)


def _empty_database(database_url: str) -> None:
    """A database with no tables, or one just migrated (its tables hold no more rows than a
    fresh migration writes: the audit chain's heads, the calendar's seeds), is emptied of its
    schema so that the dump brings its own; one holding more is refused."""
    target = database.stats_of(database_url)
    if not target:
        return
    with migrated_database(database_url, f"cc_fresh_{uuid.uuid4().hex[:8]}") as url:
        fresh = database.stats_of(url)
    for table, entry in sorted(target.items()):
        if entry.rows > (fresh[table].rows if table in fresh else 0):
            name = make_url(database_url).database
            raise Conflict(
                f"database {name} holds data (table {table}: {entry.rows} rows): restore "
                "only into an empty system",
                code="restore-into-data",
            )
    engine = create_engine(database_url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
    finally:
        engine.dispose()


def _refuse_overwrites(backup: Path, sources: BackupSources) -> None:
    for part, target in ((RECORDINGS, sources.recordings), (PROMPTS, sources.prompts)):
        for path in sorted(p for p in (backup / part).rglob("*") if p.is_file()):
            existing = target / path.relative_to(backup / part)
            if existing.exists() and file_entry(existing) != file_entry(path):
                raise Conflict(
                    f"{existing} exists and differs from the backup's copy: restore only into "
                    "an empty system",
                    code="restore-into-data",
                )


def _copy_missing(source: Path, target: Path) -> None:
    for path in sorted(p for p in source.rglob("*") if p.is_file()):
        copy = target / path.relative_to(source)
        if not copy.exists():
            copy.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, copy)
