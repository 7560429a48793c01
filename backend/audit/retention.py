"""Audit retention: records older than CC_AUDIT_RETENTION_DAYS (183 at least) are exported to
a file, then deleted; the export and the deletion are audit records themselves.

Only a prefix of each chain can go (its oldest records, up to its first one still young), so
what stays is still whole chains, each anchored on the last record removed from it. The
deletion is ``audit_purge()`` in the database, which refuses anything younger than 183 days
whatever the settings say, and is the only way the worker's role may delete an audit record.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker

from backend.audit.records import Actor, record_audit
from backend.audit.store import PURGE_ACTION, Export, export_records
from backend.db import transaction
from backend.settings import Settings

EXPORT_ACTION = "audit.export"

# Per chain, the last position before its first record at or after the cutoff.
LAST_EXPIRED = text(
    """
    SELECT h.id AS chain, (
        SELECT max(r.chain_seq) FROM audit_records r
        WHERE r.chain_id = h.id AND r.at < :cutoff
          AND r.chain_seq < coalesce(
              (SELECT min(y.chain_seq) FROM audit_records y
               WHERE y.chain_id = h.id AND y.at >= :cutoff),
              9223372036854775807)
    ) AS through
    FROM audit_chain h ORDER BY h.id
    """
)


@dataclass(frozen=True)
class RetentionOutcome:
    deleted: int
    export: Export | None


def export_audited(factory: sessionmaker[Session], export: Export, actor: str) -> None:
    """The export's own audit record: who took which records out, into which file."""
    with transaction(factory) as db:
        record_audit(
            db, Actor(actor), EXPORT_ACTION, f"file:{export.path.name}", datetime.now(UTC),
            {"path": str(export.path), "rows": export.rows, "sha256": export.sha256},
        )  # fmt: skip


def apply_audit_retention(
    factory: sessionmaker[Session],
    settings: Settings,
    *,
    actor: str = "retention",
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> RetentionOutcome:
    at = now()
    cutoff = at - timedelta(days=settings.audit_retention_days)
    with factory() as db:
        engine = db.get_bind()
        through = {
            row.chain: row.through
            for row in db.execute(LAST_EXPIRED, {"cutoff": cutoff})
            if row.through is not None
        }
    assert isinstance(engine, Engine)
    if not through:
        return RetentionOutcome(0, None)
    name = f"audit-{at:%Y%m%dT%H%M%S}-before-{cutoff:%Y%m%d}.jsonl"
    export = export_records(engine, settings.effective_audit_export_dir / name, through=through)
    export_audited(factory, export, actor)
    with transaction(factory) as db:
        chains, deleted = {}, 0
        for chain, seq in through.items():
            last = db.execute(
                text(
                    "SELECT id, row_hash FROM audit_records "
                    "WHERE chain_id = :chain AND chain_seq = :seq"
                ),
                {"chain": chain, "seq": seq},
            ).one()
            deleted += (
                db.scalar(
                    text("SELECT audit_purge(CAST(:chain AS smallint), :seq)"),
                    {"chain": chain, "seq": seq},
                )
                or 0
            )
            chains[str(chain)] = {
                "through_seq": seq,
                "through_id": last.id,
                "through_hash": last.row_hash,
            }
        # Written in the purge's transaction: the chains' new anchors and this record agree.
        details = {
            "chains": chains,
            "rows": deleted,
            "retention_days": settings.audit_retention_days,
            "export_sha256": export.sha256,
        }
        record_audit(db, Actor(actor), PURGE_ACTION, f"file:{export.path.name}", at, details)
    return RetentionOutcome(deleted, export)
