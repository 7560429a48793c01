"""The audit trail is a set of hash chains that PostgreSQL links at commit (migration
0500_security) and `callcenter audit verify` checks. Concurrent writers never fork a chain and
spread over several; untouched chains verify; a record edited and another deleted as the
owner are both reported with their ids, as are a record edited and re-hashed and a deleted
newest record; a transaction's records share a chain; records written before the migration
make the first chain in their order."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator

import pytest
from alembic import command
from sqlalchemy import Connection, select, text
from sqlalchemy.orm import Session, sessionmaker

from agent_desk.auth.audit import audit_now
from backend.audit.store import verify_chain
from backend.db import make_engine, make_session_factory, transaction
from backend.migrate import alembic_config, upgrade
from backend.migrate import scratch_database as empty_database
from backend.models.audit import AuditRecord
from backend.settings import Settings
from tests.conftest import ADMIN_URL
from tests.db_support import ScratchDatabase, scratch_database
from tests.integration.test_cli_errors import run_cli

WRITERS, EACH = 8, 25


@pytest.fixture()
def audit_db(settings: Settings) -> Iterator[ScratchDatabase]:
    with scratch_database(settings, "chain") as db:
        yield db


def write(factory: sessionmaker[Session], count: int, actor: str = "admin1") -> list[int]:
    """``count`` audit records as the desk writes them; their ids in writing order."""
    for i in range(count):
        audit_now(factory, actor, "agent.update", target=f"agent:{1000 + i}",
                  source_ip="127.0.0.1", details={"skills": {"booking": i}, "名字": "赵坐席"})  # fmt: skip
    with factory() as db:
        return list(
            db.scalars(
                select(AuditRecord.id).where(AuditRecord.actor == actor).order_by(AuditRecord.id)
            )
        )


def verify_cli(db: ScratchDatabase) -> tuple[int, list[str]]:
    result = run_cli("audit", "verify", CC_DATABASE_URL=db.url)
    assert "Traceback" not in result.stderr, result.stderr
    return result.returncode, result.stdout.splitlines()


def test_concurrent_writers_never_fork_the_chain(audit_db: ScratchDatabase) -> None:
    start = threading.Barrier(WRITERS)

    def writer(n: int) -> None:
        start.wait()
        write(audit_db.factory, EACH, actor=f"agent{n}")

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(WRITERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    with audit_db.factory() as db:
        links = db.execute(select(AuditRecord.chain_id, AuditRecord.chain_seq)).all()
    by_chain: dict[int, list[int]] = {}
    for chain, seq in links:
        by_chain.setdefault(chain, []).append(seq)
    for seqs in by_chain.values():  # each chain one line: no gap, no position twice
        assert sorted(seqs) == list(range(1, len(seqs) + 1))
    assert len(by_chain) > 1  # and the writers did not all queue on one head
    verdict = verify_chain(audit_db.engine)
    assert verdict.intact and verdict.records == WRITERS * EACH
    status, out = verify_cli(audit_db)
    assert status == 0 and out == [f"audit chain intact: {WRITERS * EACH} records"]


def test_verify_reports_an_edited_and_a_deleted_record_by_id(audit_db: ScratchDatabase) -> None:
    ids = write(audit_db.factory, 6)
    assert verify_cli(audit_db) == (0, ["audit chain intact: 6 records"])
    edited, deleted = ids[1], ids[3]
    with audit_db.engine.connect() as conn:
        where = conn.execute(
            text("SELECT chain_id, chain_seq FROM audit_records WHERE id = :id"), {"id": deleted}
        ).one()
    # As the owner (the session's superuser here; the migrator in production) may.
    with audit_db.engine.begin() as conn:
        conn.execute(
            text("UPDATE audit_records SET details = '{\"skills\": {}}' WHERE id = :id"),
            {"id": edited},
        )
        conn.execute(text("DELETE FROM audit_records WHERE id = :id"), {"id": deleted})

    status, out = verify_cli(audit_db)
    assert status == 1
    assert out == [
        f"edited: record {edited} was edited (its content no longer matches its hash)",
        f"deleted: record {deleted} (chain {where.chain_id}, position {where.chain_seq}) "
        "was deleted",
        "audit chain damaged: 2 problems",
    ]


def test_a_rehashed_edit_and_a_deleted_newest_record_are_found(audit_db: ScratchDatabase) -> None:
    ids = write(audit_db.factory, 5)
    assert one_chain(audit_db, ids)

    def rehash(conn: Connection, record_id: int) -> None:
        """Edit a record and make its stored hash match again, with the chain's own function."""
        conn.execute(text("UPDATE audit_records SET actor = 'someone' WHERE id = :id"),
                     {"id": record_id})  # fmt: skip
        conn.execute(
            text(
                "UPDATE audit_records r SET row_hash = audit_row_hash(r.chain_id, r.chain_seq, "
                "r.prev_id, r.prev_hash, r) WHERE id = :id"
            ),
            {"id": record_id},
        )

    with audit_db.engine.begin() as conn:
        rehash(conn, ids[2])  # the next record's link gives it away
        conn.execute(text("DELETE FROM audit_records WHERE id = :id"), {"id": ids[4]})
    problems = [(p.kind, p.record_id) for p in verify_chain(audit_db.engine).problems]
    assert problems == [("broken", ids[2]), ("deleted", ids[4])]


def test_a_rehashed_newest_record_is_found_by_the_head(audit_db: ScratchDatabase) -> None:
    ids = write(audit_db.factory, 3)
    assert one_chain(audit_db, ids)
    with audit_db.engine.begin() as conn:
        conn.execute(text("UPDATE audit_records SET target = 'x' WHERE id = :id"), {"id": ids[2]})
        conn.execute(
            text(
                "UPDATE audit_records r SET row_hash = audit_row_hash(r.chain_id, r.chain_seq, "
                "r.prev_id, r.prev_hash, r) WHERE id = :id"
            ),
            {"id": ids[2]},
        )
    problems = [(p.kind, p.record_id) for p in verify_chain(audit_db.engine).problems]
    assert problems == [("broken", ids[2])]


def test_a_transactions_records_share_a_chain(audit_db: ScratchDatabase) -> None:
    with transaction(audit_db.factory) as db:
        for n in range(3):
            db.add(AuditRecord(actor="admin9", action="bulk.update", details={"n": n}))
    with audit_db.factory() as db:
        links = db.execute(
            select(AuditRecord.chain_id, AuditRecord.chain_seq)
            .where(AuditRecord.actor == "admin9")
            .order_by(AuditRecord.id)
        ).all()
    assert len({chain for chain, _ in links}) == 1
    assert [seq for _, seq in links] == [links[0][1], links[0][1] + 1, links[0][1] + 2]


def one_chain(db: ScratchDatabase, ids: list[int]) -> bool:
    """Whether records written one after another on one connection share a chain."""
    with db.factory() as session:
        chains = session.scalars(
            select(AuditRecord.chain_id).where(AuditRecord.id.in_(ids)).distinct()
        ).all()
    return len(chains) == 1


def test_records_written_before_the_chain_existed_join_it_in_order(settings: Settings) -> None:
    with empty_database(ADMIN_URL, f"cc_test_prechain_{uuid.uuid4().hex[:8]}") as url:
        old = settings.model_copy(update={"database_url": url})
        command.upgrade(alembic_config(old), "0001_foundation")
        engine = make_engine(old)
        try:
            with engine.begin() as conn:
                for n in range(3):
                    conn.execute(
                        text(
                            "INSERT INTO audit_records (at, actor, action, target, source_ip, "
                            "details) VALUES (now(), 'admin1', 'login', '', '', :d)"
                        ),
                        {"d": f'{{"n": {n}}}'},
                    )
            upgrade(old)
            write(make_session_factory(engine), 2, actor="admin2")
            verdict = verify_chain(engine)
            with engine.connect() as conn:
                old = conn.execute(
                    text(
                        "SELECT chain_id, chain_seq FROM audit_records "
                        "WHERE actor = 'admin1' ORDER BY id"
                    )
                ).all()
        finally:
            engine.dispose()
    assert verdict.intact and verdict.records == 5
    assert old == [(1, 1), (1, 2), (1, 3)]  # chain 1, in the order they were written
