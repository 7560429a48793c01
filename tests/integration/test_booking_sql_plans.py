"""The booking statements keep key look-ups whatever the statistics say.

A pooled connection prepares each statement once and soon runs it on a generic plan, which it
keeps. Made while the tables were empty (a new deployment, or the bench's first seconds), a
plan that hashes or scans a whole table would then run on every booking as the tables grow:
that happened to the booking-code check, which read every booking on file per booking. Here
every statement is planned generically on a freshly migrated, empty, never analysed database.
"""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest

from backend.booking import booking_sql
from backend.db import libpq_url
from tests.conftest import migrated_database

STATEMENTS = {
    "ACCOUNT_OF_TOKEN": booking_sql.ACCOUNT_OF_TOKEN,
    "LOCK_PATIENT": booking_sql.LOCK_PATIENT,
    "LOCK_PATIENT_BY_ID_HASH": booking_sql.LOCK_PATIENT_BY_ID_HASH,
    "LOCK_PATIENT_OF_ACCOUNT": booking_sql.LOCK_PATIENT_OF_ACCOUNT,
    "SESSION_FACTS": booking_sql.SESSION_FACTS,
    "PATIENT_HISTORY": booking_sql.PATIENT_HISTORY,
    "ANY_FREE_SLOT": booking_sql.ANY_FREE_SLOT,
    "SLOT": booking_sql.SLOT,
    "BOOK_NEXT_SLOT": booking_sql.BOOK_NEXT_SLOT,
    "BOOK_GIVEN_SLOT": booking_sql.BOOK_GIVEN_SLOT,
    "RECEIPT": booking_sql.RECEIPT,
}


@pytest.fixture(scope="module")
def empty_database(run_id: str) -> Iterator[str]:
    with migrated_database(f"cc_test_{run_id}_plans") as url:
        yield libpq_url(url)


def generic_plan(conninfo: str, sql: str) -> str:
    numbered, names = booking_sql._numbered(sql)
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute("SET plan_cache_mode = force_generic_plan")
        conn.execute(f"PREPARE statement AS {numbered}")
        nulls = ", ".join("NULL" for _ in names)
        rows = conn.execute(f"EXPLAIN EXECUTE statement({nulls})").fetchall()
    return "\n".join(row[0] for row in rows)


def test_the_online_booking_runs_the_listed_statements() -> None:
    listed = {sql for sql, _ in booking_sql.ONLINE_BOOKING}
    assert listed <= set(STATEMENTS.values())


@pytest.mark.parametrize("name", STATEMENTS)
def test_generic_plan_on_empty_tables_reads_by_key(empty_database: str, name: str) -> None:
    plan = generic_plan(empty_database, STATEMENTS[name])
    assert "Index" in plan, plan
    assert "Seq Scan" not in plan, plan
    assert "Hash" not in plan, plan
