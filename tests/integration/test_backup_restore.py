"""Backup -> wipe -> restore gives back the same bookings, work orders, call records and
recordings; `backup verify` restores into a scratch database and refuses a damaged backup.

The "system" is a database of the test's own, written through the real paths: a booking
through the booking service, a work order through the work-order service, a call through the
controller's journal and queue recorder, its recording through the recordings index.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from backend.audit import Actor
from backend.backup.archive import DUMP, list_backups
from backend.backup.manifest import BackupDamaged, file_entry
from backend.backup.restore import restore_backup, verify_backup
from backend.backup.service import take_backup
from backend.errors import Conflict
from backend.migrate import upgrade
from backend.settings import Settings
from ivr.acd.queue import QueueReport
from ivr.acd.records import SqlQueueRecorder
from ivr.flows.ports import CallInfo
from ivr.journal import SqlCallJournal
from tests.db_support import ScratchDatabase, scratch_database
from tests.ivr_bookings import book_one
from tests.recording_support import recorded_call, write_tone
from tests.workorder_support import stale_order

TABLES = ("bookings", "patients", "work_orders", "work_order_events", "call_records", "recordings")


@pytest.fixture()
def system(settings: Settings, tmp_path: Path) -> Iterator[tuple[ScratchDatabase, Settings]]:
    (tmp_path / "etc").mkdir()
    (tmp_path / "etc" / "callcenter.env").write_text("CC_ENVIRONMENT=production\n")
    with scratch_database(settings, "backup") as db:
        site = db.settings.model_copy(
            update={
                "recordings_dir": tmp_path / "recordings",
                "sounds_dir": tmp_path / "sounds",
                "backup_dir": tmp_path / "backups",
                "backup_include": [tmp_path / "etc"],
                "backup_keep": 2,
            }
        )
        yield db, site


def seed(db: ScratchDatabase, site: Settings) -> None:
    book_one(site, db.factory)
    stale_order(db.factory, site)
    call_id = f"bk-{uuid.uuid4().hex[:8]}"
    call = CallInfo(call_id, call_id, "114", "13800138000", "114")
    asyncio.run(SqlCallJournal(db.factory).call_started(call))
    now = time.time()
    report = QueueReport(call_id, "114", "138****8000", "booking", 1, now - 30, now, "abandoned")
    asyncio.run(SqlQueueRecorder(db.factory).queue_left(report))
    recorded_call(db.factory, site, site.effective_recordings_dir, call_id, seconds=2.0)
    write_tone(site.effective_sounds_dir / "cc" / "prompt-welcome.wav", 1.0)


def contents(db: ScratchDatabase, site: Settings) -> dict[str, object]:
    """The rows of the tables that matter, in order, and every file's checksum."""
    found: dict[str, object] = {}
    with db.engine.connect() as conn:
        for table in TABLES:
            rows = conn.execute(text(f"SELECT * FROM {table} ORDER BY id")).all()
            found[table] = [tuple(row) for row in rows]
    for part in (site.effective_recordings_dir, site.effective_sounds_dir):
        for path in sorted(p for p in part.rglob("*") if p.is_file()):
            found[str(path)] = file_entry(path)
    return found


def wipe(db: ScratchDatabase, site: Settings) -> None:
    """A new, empty system: the schema migrated afresh, no recordings, no prompts."""
    db.engine.dispose()
    with db.engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    upgrade(site)
    for part in (site.effective_recordings_dir, site.effective_sounds_dir):
        for path in sorted(part.rglob("*"), reverse=True):
            path.unlink() if path.is_file() else path.rmdir()


def test_backup_wipe_restore_gives_back_the_same_data(
    system: tuple[ScratchDatabase, Settings], tmp_path: Path
) -> None:
    db, site = system
    seed(db, site)
    before = contents(db, site)
    assert all(before[table] for table in TABLES), "every table under test has rows"

    taken = take_backup(site, db.factory, Actor("test"))
    verified = verify_backup(site, taken.path)
    assert verified.tables >= len(TABLES) and verified.rows > 0

    wipe(db, site)
    assert contents(db, site) == {table: [] for table in TABLES}
    restore_backup(site, taken.path, config_to=tmp_path / "restored-etc")

    assert contents(db, site) == before
    restored_env = tmp_path / "restored-etc" / "0-etc" / "callcenter.env"
    assert restored_env.read_text() == "CC_ENVIRONMENT=production\n"


def test_restore_refuses_a_system_that_holds_data(system: tuple[ScratchDatabase, Settings]) -> None:
    db, site = system
    seed(db, site)
    taken = take_backup(site, db.factory, Actor("test"))
    before = contents(db, site)
    with pytest.raises(Conflict, match="holds data"):
        restore_backup(site, taken.path)
    assert contents(db, site) == before


def test_verify_fails_on_a_corrupted_dump(system: tuple[ScratchDatabase, Settings]) -> None:
    db, site = system
    seed(db, site)
    taken = take_backup(site, db.factory, Actor("test"))
    dump = taken.path / DUMP
    data = bytearray(dump.read_bytes())
    middle = len(data) // 2
    data[middle : middle + 64] = bytes(64)
    dump.write_bytes(bytes(data))

    with pytest.raises(BackupDamaged, match=r"database\.dump: checksum differs"):
        verify_backup(site, taken.path)
    # The operator's command says so in one line and exits non-zero.
    result = subprocess.run(
        [sys.executable, "-m", "callcenter.cli.main", "backup", "verify", str(taken.path)],
        capture_output=True,
        text=True,
        env={**os.environ, "CC_DATABASE_URL": site.database_url},
        timeout=120,
        check=False,
    )
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith("error: ") and "database.dump" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_damaged_dump_with_a_rewritten_manifest_still_fails_verify(
    system: tuple[ScratchDatabase, Settings],
) -> None:
    """Checksums recomputed over a damaged dump: the restore into scratch catches it."""
    db, site = system
    seed(db, site)
    taken = take_backup(site, db.factory, Actor("test"))
    dump = taken.path / DUMP
    dump.write_bytes(dump.read_bytes()[: dump.stat().st_size // 2])
    manifest = (taken.path / "manifest.json").read_text()
    entry = file_entry(dump)
    raw = json.loads(manifest)
    raw["files"][DUMP] = {"size": entry.size, "sha256": entry.sha256}
    (taken.path / "manifest.json").write_text(json.dumps(raw))
    with pytest.raises(BackupDamaged, match="does not restore"):
        verify_backup(site, taken.path)


def test_only_the_newest_backups_are_kept(system: tuple[ScratchDatabase, Settings]) -> None:
    db, site = system
    for _ in range(3):
        take_backup(site, db.factory, Actor("test"))
        time.sleep(1.1)  # backups are named by the second
    assert len(list_backups(site.effective_backup_dir)) == 2
