"""The audit chain in PostgreSQL: read it to verify it, and export it to a file.

Both read one snapshot (REPEATABLE READ): records committed meanwhile are neither in the rows
nor in the chain head, so a busy system verifies as intact as an idle one.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, text

from backend.audit.chain import ChainedRecord, Ends, Link, Problem, Verdict, verify

# The record's time as the chain hashes it (UTC, microseconds), rendered by the database.
AT_UTC = """to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US')"""
RECORDS = f"""
SELECT id, {AT_UTC} AS at, actor, action, target, source_ip, details::text AS details,
       chain_id, chain_seq, prev_id, prev_hash, row_hash
FROM audit_records
"""
PURGE_ACTION = "audit.purge"


def records(conn: Connection, where: str = "", **params: Any) -> Iterator[ChainedRecord]:
    """Audit records by chain and position (unchained ones last), streamed from the server."""
    query = text(f"{RECORDS} {where} ORDER BY chain_id NULLS LAST, chain_seq, id")
    streamed = conn.execution_options(stream_results=True, yield_per=2000)
    for row in streamed.execute(query, params):
        yield ChainedRecord(**row._mapping)


def chain_ends(conn: Connection) -> dict[int, Ends]:
    rows = conn.execute(
        text(
            "SELECT id, last_seq, last_id, last_hash, purged_seq, purged_id, purged_hash "
            "FROM audit_chain ORDER BY id"
        )
    ).all()
    return {
        row.id: Ends(
            anchor=Link(row.purged_seq, row.purged_id, row.purged_hash),
            head=Link(row.last_seq, row.last_id, row.last_hash),
        )
        for row in rows
    }


def verify_chain(engine: Engine) -> Verdict:
    with engine.connect().execution_options(isolation_level="REPEATABLE READ") as conn:
        chains = chain_ends(conn)
        verdict = verify(records(conn), chains)
        problems = verdict.problems + _anchor_problems(conn, chains)
    return Verdict(verdict.records, problems)


def _anchor_problems(conn: Connection, chains: dict[int, Ends]) -> list[Problem]:
    """Where retention moved a chain's start, its own audit record must say so: an anchor
    moved by hand (to hide deleted early records) has none."""
    purges: list[dict[str, dict[str, Any]]] = [
        json.loads(details).get("chains", {})
        for details in conn.scalars(
            text("SELECT details::text FROM audit_records WHERE action = :action ORDER BY id"),
            {"action": PURGE_ACTION},
        )
    ]
    problems = []
    for chain, ends in chains.items():
        if ends.anchor.seq == 0:
            continue
        said: dict[str, Any] = next(
            (purge[str(chain)] for purge in reversed(purges) if str(chain) in purge), {}
        )
        if (said.get("through_seq"), said.get("through_hash")) == (
            ends.anchor.seq,
            ends.anchor.hash,
        ):
            continue
        problems.append(
            Problem(
                "anchor",
                ends.anchor.record_id,
                ends.anchor.seq,
                f"chain {chain} starts after position {ends.anchor.seq}, "
                f"but no {PURGE_ACTION} record says so",
            )
        )
    return problems


@dataclass(frozen=True)
class Export:
    path: Path
    rows: int
    sha256: str


def export_records(
    engine: Engine,
    path: Path,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    through: dict[int, int] | None = None,
) -> Export:
    """Write the records (``since`` <= at < ``until``; with ``through``, only each chain's
    records up to the position given for it) to ``path`` as JSON Lines, one record a line
    with its chain columns and its details as the stored text, so that a copy can be checked
    against the hashes without the database."""
    conditions: list[str] = []
    params: dict[str, Any] = {}
    for name, condition, value in (
        ("since", "at >= :since", since),
        ("until", "at < :until", until),
    ):
        if value is not None:
            conditions.append(condition)
            params[name] = value
    if through is not None:
        prefixes = [f"(chain_id = {int(c)} AND chain_seq <= {int(s)})" for c, s in through.items()]
        conditions.append("(" + (" OR ".join(prefixes) or "false") + ")")
    where = ("WHERE " + " AND ".join(conditions)) if conditions else ""
    path.parent.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    count = 0
    partial = path.with_name(path.name + ".partial")
    with (
        engine.connect().execution_options(isolation_level="REPEATABLE READ") as conn,
        open(partial, "wb") as out,
    ):
        for record in records(conn, where, **params):
            line = json.dumps(asdict(record), ensure_ascii=False).encode() + b"\n"
            out.write(line)
            digest.update(line)
            count += 1
    # Only a complete file carries the name: a crash mid-export leaves a .partial behind.
    partial.replace(path)
    return Export(path, count, digest.hexdigest())
