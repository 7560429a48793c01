"""The database's part of a backup: a pg_dump taken at an exported snapshot, each table's rows
and checksum read in that same snapshot, and pg_restore.

Counting in the dump's own snapshot is what lets `backup verify` compare exactly: bookings
written while the dump runs are in neither, never in one only.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from sqlalchemy import Connection, create_engine, text

from backend.backup.manifest import TableEntry
from backend.db import libpq_url
from backend.errors import CallCenterError

TABLES = text(
    "SELECT table_name FROM information_schema.tables "
    "WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY table_name"
)


class BackupFailed(CallCenterError):
    """pg_dump, pg_restore or a copy failed: the message says which and why."""

    code = "backup-failed"
    http_status = 500


def table_stats(conn: Connection) -> dict[str, TableEntry]:
    """Rows and a content checksum of every table (order-independent: rows' md5s sorted)."""
    # Row text depends on the session's time zone; both sides read it in UTC.
    conn.execute(text("SET LOCAL TIME ZONE 'UTC'"))
    stats = {}
    for (table,) in conn.execute(TABLES).all():
        rows, checksum = conn.execute(
            text(
                f"SELECT count(*), md5(coalesce(string_agg(h, '' ORDER BY h), '')) "
                f'FROM (SELECT md5(t::text) AS h FROM public."{table}" t) rows'
            )
        ).one()
        stats[table] = TableEntry(int(rows), str(checksum))
    return stats


def dump(database_url: str, target: Path) -> dict[str, TableEntry]:
    """Dump the database to ``target`` (custom format) and return its tables' stats, both
    at one snapshot."""
    engine = create_engine(database_url, isolation_level="REPEATABLE READ")
    try:
        with engine.connect() as conn, conn.begin():
            snapshot = conn.execute(text("SELECT pg_export_snapshot()")).scalar_one()
            _run(
                [
                    "pg_dump",
                    "--format=custom",
                    f"--snapshot={snapshot}",
                    f"--file={target}",
                    f"--dbname={libpq_url(database_url)}",
                ],
                "pg_dump",
            )
            return table_stats(conn)
    finally:
        engine.dispose()


def restore(database_url: str, source: Path) -> None:
    """Load a dump into an empty database: one transaction, so a failure leaves it empty.
    Owners and grants are the target's own (`callcenter db roles` grants them again)."""
    _run(
        [
            "pg_restore",
            "--no-owner",
            "--no-privileges",
            "--single-transaction",
            "--exit-on-error",
            f"--dbname={libpq_url(database_url)}",
            str(source),
        ],
        "pg_restore",
    )


def stats_of(database_url: str) -> dict[str, TableEntry]:
    engine = create_engine(database_url)
    try:
        with engine.connect() as conn, conn.begin():
            return table_stats(conn)
    finally:
        engine.dispose()


def _run(command: list[str], what: str) -> None:
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        detail = (result.stderr.strip().splitlines() or ["no message"])[-1]
        raise BackupFailed(f"{what} failed (exit {result.returncode}): {detail}")
