"""Audit records are kept CC_AUDIT_RETENTION_DAYS (183 at least), then exported and deleted,
the export and the deletion audited; exports can be taken on demand and checked against the
chain's hashes without the database. Misuse: a retention under six months is refused, and an
anchor moved by hand to hide a deleted early record is reported."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, text

from agent_desk.auth.audit import audit_now
from backend.audit.chain import ChainedRecord, Link, record_hash
from backend.db import transaction
from backend.errors import ConfigError
from backend.models.audit import AuditRecord
from backend.settings import Settings, load_settings
from callcenter.worker import create_celery
from callcenter.worker.audit_tasks import RETENTION
from tests.db_support import ScratchDatabase, scratch_database
from tests.integration.test_cli_errors import run_cli

OLD = 3


@pytest.fixture()
def audit_db(settings: Settings) -> Iterator[ScratchDatabase]:
    with scratch_database(settings, "retention") as db:
        yield db


def seed(db: ScratchDatabase) -> None:
    """Three records from 400 days ago (the first ones of their chains), then two of today."""
    long_ago = datetime.now(UTC) - timedelta(days=400)
    for n in range(OLD):
        with transaction(db.factory) as session:
            session.add(AuditRecord(at=long_ago + timedelta(minutes=n), actor="admin1",
                                    action="agent.update", target=f"agent:{1050 + n}",
                                    source_ip="127.0.0.1", details={"n": n}))  # fmt: skip
    for n in range(2):
        audit_now(db.factory, "admin1", "login", source_ip="127.0.0.1", details={"n": n})


def actions(db: ScratchDatabase) -> list[str]:
    with db.factory() as session:
        return list(session.scalars(select(AuditRecord.action).order_by(AuditRecord.id)))


def checks_offline(path: Path) -> list[str]:
    """Recompute every exported record's hash from the file alone; their actions."""
    actions = []
    for line in path.read_text(encoding="utf-8").splitlines():
        record = ChainedRecord(**json.loads(line))
        assert record.chain_id is not None and record.chain_seq is not None
        prev = Link(record.chain_seq - 1, record.prev_id, record.prev_hash or "")
        assert record_hash(record.chain_id, record.chain_seq, prev, record) == record.row_hash
        actions.append(record.action)
    return actions


def test_old_records_are_exported_then_deleted_and_both_steps_audited(
    audit_db: ScratchDatabase, tmp_path: Path
) -> None:
    seed(audit_db)
    env = {"CC_DATABASE_URL": audit_db.url, "CC_AUDIT_EXPORT_DIR": str(tmp_path / "exports")}
    result = run_cli("audit", "retention", **env)
    assert result.returncode == 0, result.stderr
    [exported] = (tmp_path / "exports").iterdir()
    assert result.stdout.strip() == f"{OLD} records deleted after export to {exported}"
    assert checks_offline(exported) == ["agent.update"] * OLD
    assert actions(audit_db) == ["login", "login", "audit.export", "audit.purge"]
    with audit_db.factory() as session:
        purge = session.scalar(select(AuditRecord).where(AuditRecord.action == "audit.purge"))
        export = session.scalar(select(AuditRecord).where(AuditRecord.action == "audit.export"))
    assert purge is not None and export is not None
    assert purge.details["rows"] == OLD and purge.details["chains"]
    assert export.details["rows"] == OLD and export.details["path"] == str(exported)
    # What remains are whole chains, anchored where the deleted records ended.
    assert run_cli("audit", "verify", **env).stdout.startswith("audit chain intact: 4 records")
    again = run_cli("audit", "retention", **env)
    assert again.stdout.strip() == "nothing older than 365 days"


def test_a_moved_anchor_hiding_a_deleted_record_is_reported(
    audit_db: ScratchDatabase, tmp_path: Path
) -> None:
    seed(audit_db)
    env = {"CC_DATABASE_URL": audit_db.url, "CC_AUDIT_EXPORT_DIR": str(tmp_path)}
    assert run_cli("audit", "retention", **env).returncode == 0
    with audit_db.engine.begin() as conn:  # the owner deletes the oldest record left...
        first = conn.execute(
            text("SELECT id, chain_id, chain_seq, row_hash FROM audit_records ORDER BY id LIMIT 1")
        ).one()
        conn.execute(text("DELETE FROM audit_records WHERE id = :id"), {"id": first.id})
        conn.execute(  # ...and moves its chain's anchor past it, so that no link is missing
            text(
                "UPDATE audit_chain SET purged_seq = :seq, purged_id = :id, purged_hash = :h "
                "WHERE id = :chain"
            ),
            {"seq": first.chain_seq, "id": first.id, "h": first.row_hash,
             "chain": first.chain_id},
        )  # fmt: skip
    verified = run_cli("audit", "verify", **env)
    assert verified.returncode == 1
    assert verified.stdout.splitlines() == [
        f"anchor: chain {first.chain_id} starts after position {first.chain_seq}, "
        "but no audit.purge record says so",
        "audit chain damaged: 1 problem",
    ]


def test_records_are_exported_on_demand_and_the_export_is_audited(
    audit_db: ScratchDatabase, tmp_path: Path
) -> None:
    seed(audit_db)
    out = tmp_path / "today.jsonl"
    today = datetime.now(ZoneInfo(audit_db.settings.timezone)).date().isoformat()  # Beijing
    env = {"CC_DATABASE_URL": audit_db.url}
    result = run_cli("audit", "export", "--since", today, "--until", today, "--out", str(out),
                     **env)  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert checks_offline(out) == ["login", "login"]  # the old three are outside the days
    with audit_db.factory() as session:
        export = session.scalar(select(AuditRecord).where(AuditRecord.action == "audit.export"))
    assert export is not None and export.actor.startswith("cli:")
    assert export.details["rows"] == 2 and export.details["path"] == str(out)
    again = run_cli("audit", "export", "--out", str(out), **env)
    assert again.returncode == 2 and "exists already" in again.stderr  # never overwritten


def test_retention_under_six_months_is_refused() -> None:
    with pytest.raises(ConfigError) as err:
        load_settings(audit_retention_days=182)
    assert str(err.value).startswith("setting CC_AUDIT_RETENTION_DAYS:")
    result = run_cli("audit", "retention", CC_AUDIT_RETENTION_DAYS="30")
    assert result.returncode == 2
    assert result.stderr.startswith("error: setting CC_AUDIT_RETENTION_DAYS:")


def test_the_worker_runs_audit_retention_nightly(audit_db: ScratchDatabase) -> None:
    app = create_celery(audit_db.settings, session_factory=audit_db.factory)
    assert app.conf.beat_schedule["audit-retention"]["task"] == RETENTION
    assert app.tasks[RETENTION].apply().get() == {"deleted": 0, "export": None}
