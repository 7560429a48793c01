"""`callcenter keys rotate`: stored personal data re-encrypted under the newest data key.

Every process is first given the new key at the head of CC_DATA_KEY (the old one after it):
from then on they write under the new key and read both. This then moves what is stored, one
batch of rows per short transaction (rows locked only while their batch is rewritten), so the
desk and the controller keep serving; the old key can be dropped once it reports nothing left.

The encrypted columns are found by name in the schema (``*_enc``, ``*_encrypted``), so a table
added later is rotated without being listed here. Short-lived ciphertext outside the database
(callback numbers and dial requests in Redis, SMS code payloads) expires within minutes;
the recordings' own data keys are re-wrapped by the same command (recordings/rotation.py).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Column, Engine, Table, and_, func, or_, select, update
from sqlalchemy.sql.elements import ColumnElement

from backend.models import Base
from backend.personal_data import PersonalDataCipher

BATCH_ROWS = 500
ENCRYPTED_SUFFIXES = ("_enc", "_encrypted")


@dataclass(frozen=True)
class Rotated:
    table: str
    rows: int


def encrypted_columns() -> dict[Table, list[Column[str]]]:
    found: dict[Table, list[Column[str]]] = {}
    for table in Base.metadata.sorted_tables:
        columns = [c for c in table.columns if c.name.endswith(ENCRYPTED_SUFFIXES)]
        if columns:
            found[table] = columns
    return found


def _stale(columns: list[Column[str]], key_id: str) -> ColumnElement[bool]:
    prefix = key_id + ":"
    return or_(
        *(and_(c.is_not(None), c != "", ~c.startswith(prefix, autoescape=True)) for c in columns)
    )


def rotate_table(
    engine: Engine, cipher: PersonalDataCipher, table: Table, batch: int = BATCH_ROWS
) -> int:
    """Re-encrypt ``table``'s rows not yet under the newest key; how many were rewritten."""
    columns = encrypted_columns()[table]
    keys = list(table.primary_key.columns)
    total = 0
    while True:
        with engine.begin() as conn:
            rows = conn.execute(
                select(*keys, *columns)
                .where(_stale(columns, cipher.current_key_id))
                .order_by(*keys)
                .limit(batch)
                .with_for_update()
            ).all()
            for row in rows:
                values = {
                    c.name: cipher.encrypt(cipher.decrypt(v))
                    for c, v in zip(columns, row[len(keys) :], strict=True)
                    if v and not cipher.is_current(v)
                }
                match = and_(*(k == row[i] for i, k in enumerate(keys)))
                conn.execute(update(table).where(match).values(**values))
        total += len(rows)
        if len(rows) < batch:
            return total


def rotate_all(
    engine: Engine, cipher: PersonalDataCipher, batch: int = BATCH_ROWS
) -> list[Rotated]:
    return [
        Rotated(table.name, rotate_table(engine, cipher, table, batch))
        for table in encrypted_columns()
    ]


def left_under_old_keys(engine: Engine, cipher: PersonalDataCipher) -> int:
    """Rows still holding ciphertext under an older key (0 once the old key may go)."""
    with engine.connect() as conn:
        return sum(
            conn.execute(
                select(func.count())
                .select_from(table)
                .where(_stale(columns, cipher.current_key_id))
            ).scalar_one()
            for table, columns in encrypted_columns().items()
        )
