"""`callcenter db roles` gives each process a PostgreSQL role with the least privileges it
needs (backend/db_roles.py), on a database of the test's own with roles of the run's own.

Attacks: the desk's role cannot UPDATE, DELETE or TRUNCATE audit records, purge them, switch
the chain's trigger off, touch the chain head, or drop or create tables; the controller's and
the worker's roles cannot read users' password hashes or the phones' secrets; the controller
cannot read the audit trail back; Asterisk's role reads its three tables and nothing else;
nobody purges records younger than 183 days. Normal use: each role does its own work (the
desk audits and provisions, the controller opens calls and audits, the worker runs
retention and report summaries, the migrator upgrades and re-grants), and the chain they
wrote together verifies."""

from __future__ import annotations

import base64
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from sqlalchemy import Engine, create_engine, make_url, select, text
from sqlalchemy.exc import DBAPIError, InternalError, ProgrammingError
from sqlalchemy.orm import Session, sessionmaker

from agent_desk.auth.audit import audit_now
from backend.audit.retention import apply_audit_retention
from backend.db import make_session_factory, transaction
from backend.db_roles import ROLE_KINDS, RoleKind, scram_verifier
from backend.models.audit import AuditRecord
from backend.models.calls import CallRecord
from backend.models.users import Role
from backend.personal_data import PersonalDataCipher
from backend.settings import Settings
from backend.telephony.agents import AgentDirectory, AgentDraft
from backend.telephony.phones import AgentPhones
from ivr.call_lifecycle import CallLifecycle
from ivr.flows.ports import CallInfo
from ivr.record_spool import spool_path
from recordings.index import RecordingIndex
from reports.summaries import refresh_summaries
from tests.conftest import ADMIN_URL, migrated_database
from tests.desk_support import make_user
from tests.integration.test_cli_errors import run_cli


@dataclass
class RoleDatabase:
    url: str  # the superuser's
    settings: Settings
    prefix: str
    engines: dict[str, Engine]

    def password(self, kind: str) -> str:
        return f"pw-{kind}-{self.prefix}"

    def env(self, **more: str) -> dict[str, str]:
        return {
            "CC_DB_ROLE_PREFIX": self.prefix,
            **{f"CC_DB_PASSWORD_{kind.upper()}": self.password(kind) for kind in ROLE_KINDS},
            **more,
        }

    def url_of(self, kind: RoleKind) -> str:
        url = make_url(self.url).set(username=self.prefix + kind, password=self.password(kind))
        return url.render_as_string(hide_password=False)

    def engine(self, kind: RoleKind) -> Engine:
        if kind not in self.engines:
            self.engines[kind] = create_engine(self.url_of(kind), pool_size=2)
        return self.engines[kind]

    def factory(self, kind: RoleKind) -> sessionmaker[Session]:
        return make_session_factory(self.engine(kind))


@pytest.fixture(scope="module")
def roles(settings: Settings, run_id: str) -> Iterator[RoleDatabase]:
    prefix = f"cc{run_id}_"
    try:
        with migrated_database(f"cc_test_roles_{run_id}") as url:
            database = RoleDatabase(
                url, settings.model_copy(update={"database_url": url}), prefix, {}
            )
            made = run_cli("db", "roles", **database.env(CC_DATABASE_URL=url))
            assert made.returncode == 0, made.stderr
            assert made.stdout.strip() == "roles ready: " + ", ".join(
                prefix + kind for kind in ROLE_KINDS
            )
            yield database
            for engine in database.engines.values():
                engine.dispose()
    finally:
        admin = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            for kind in ROLE_KINDS:
                conn.execute(text(f'DROP ROLE IF EXISTS "{prefix}{kind}"'))
        admin.dispose()


def refused(engine: Engine, statement: str, *, because: str = "permission denied") -> None:
    """``statement`` fails with PostgreSQL's own refusal, and changes nothing."""
    with (
        pytest.raises((ProgrammingError, InternalError, DBAPIError)) as error,
        engine.begin() as conn,
    ):
        conn.execute(text(statement))
    assert because in str(error.value.orig), error.value


def test_roles_have_scram_passwords_and_no_special_powers(roles: RoleDatabase) -> None:
    admin = create_engine(roles.url)
    with admin.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT rolname, rolpassword, rolsuper, rolcreaterole, rolcreatedb, rolbypassrls "
                "FROM pg_authid WHERE rolname LIKE :p ORDER BY rolname"
            ),
            {"p": roles.prefix + "%"},
        ).all()
    admin.dispose()
    assert sorted(r.rolname for r in rows) == sorted(roles.prefix + k for k in ROLE_KINDS)
    for row in rows:
        assert not (row.rolsuper or row.rolcreaterole or row.rolcreatedb or row.rolbypassrls)
        salt = base64.b64decode(row.rolpassword.split(":")[1].split("$")[0])
        kind = row.rolname.removeprefix(roles.prefix)
        assert row.rolpassword == scram_verifier(roles.password(kind), salt)  # never in clear


def test_the_desk_audits_but_cannot_change_remove_or_bypass_the_trail(roles: RoleDatabase) -> None:
    desk = roles.engine("desk")
    audit_now(roles.factory("desk"), "admin1", "agent.create", target="agent:1050",
              source_ip="127.0.0.1", details={"name": "赵坐席"})  # fmt: skip
    with desk.connect() as conn:
        newest = conn.execute(
            text(
                "SELECT id, chain_id, chain_seq, row_hash FROM audit_records "
                "ORDER BY id DESC LIMIT 1"
            )
        ).one()
    assert newest.chain_seq is not None and len(newest.row_hash) == 64  # chained at commit
    where = f"WHERE id = {newest.id}"
    refused(desk, f"UPDATE audit_records SET actor = 'someone' {where}")
    refused(desk, f"DELETE FROM audit_records {where}")
    refused(desk, "TRUNCATE audit_records")
    refused(desk, "UPDATE audit_chain SET last_seq = 0")
    refused(desk, f"SELECT audit_purge({newest.chain_id}::smallint, {newest.chain_seq})")
    refused(desk, "ALTER TABLE audit_records DISABLE TRIGGER ALL", because="must be owner")
    refused(desk, "SET session_replication_role = replica")  # would skip the trigger
    refused(desk, "DROP TABLE bookings", because="must be owner")
    refused(desk, "CREATE TABLE stash (x text)")
    refused(desk, "TRUNCATE call_records")


def test_the_controller_and_the_worker_cannot_read_secrets(roles: RoleDatabase) -> None:
    make_user(roles.factory("desk"), Role.ADMIN)  # a password hash and a TOTP secret to steal
    for kind in ("controller", "worker"):
        engine = roles.engine(kind)  # type: ignore[arg-type]
        refused(engine, "SELECT password_hash, totp_secret_enc FROM users")
        refused(engine, "SELECT secret_encrypted FROM agent_phones")
        refused(engine, "DELETE FROM audit_records")
        refused(engine, "DROP TABLE call_records", because="must be owner")
    refused(roles.engine("controller"), "SELECT actor, details FROM audit_records")


def test_asterisk_reads_its_three_tables_and_nothing_else(roles: RoleDatabase) -> None:
    asterisk = roles.engine("asterisk")
    with asterisk.connect() as conn:
        for table in ("ps_endpoints", "ps_auths", "ps_aors"):
            conn.execute(text(f"SELECT * FROM {table}")).all()
    refused(asterisk, "SELECT * FROM users")
    refused(asterisk, "SELECT * FROM call_records")
    refused(asterisk, "INSERT INTO ps_endpoints (id) VALUES ('6666')")
    refused(asterisk, "UPDATE ps_auths SET password_digest = 'md5:x'")


def test_nobody_purges_records_younger_than_six_months(roles: RoleDatabase) -> None:
    audit_now(roles.factory("desk"), "admin1", "login", source_ip="127.0.0.1")
    with roles.engine("worker").connect() as conn:
        newest = conn.execute(
            text("SELECT chain_id, chain_seq FROM audit_records ORDER BY id DESC LIMIT 1")
        ).one()
    purge = f"SELECT audit_purge({newest.chain_id}::smallint, {newest.chain_seq})"
    for engine in (roles.engine("worker"), create_engine(roles.url)):
        refused(engine, purge, because="younger than 183 days")


def test_each_role_does_its_own_work_and_the_chain_holds(
    roles: RoleDatabase, settings: Settings
) -> None:
    cipher = PersonalDataCipher(settings.data_key.get_secret_value())
    number = str(7000 + uuid.uuid4().int % 2000)
    # The desk: an administrator creates an agent with its phone (agent, phone, ps_*, audit).
    with transaction(roles.factory("desk")) as db:
        directory = AgentDirectory(db, AgentPhones(cipher, settings.sip_realm))
        directory.create(AgentDraft(number, "钱坐席", phone_kind="desk"))
    # The controller: a call opens (the number encrypted), its recording is indexed, and a
    # booking's audit record is written as the ORM writes it (INSERT ... RETURNING id).
    controller = roles.factory("controller")
    recordings = RecordingIndex(controller, roles.settings)
    call_id = f"role-{uuid.uuid4().hex[:10]}"
    spool = spool_path(roles.settings.state_dir)
    CallLifecycle(controller, recordings, cipher, spool).open_record(
        CallInfo(call_id, call_id, "114", "13800138000", did="")
    )
    recordings.register(
        call_id, f"{roles.settings.effective_asterisk_recordings_dir}/{call_id}.wav", "114"
    )
    with transaction(controller) as db:
        record = AuditRecord(actor="ivr", action="booking.create", target="booking:X1")
        db.add(record)
        db.flush()
        assert record.id > 0
    with controller() as db:
        assert db.scalar(select(CallRecord.line).where(CallRecord.call_id == call_id)) == "114"
    # The worker: recording retention, report summaries, audit retention (nothing old yet).
    worker = roles.factory("worker")
    RecordingIndex(worker, roles.settings).apply_retention({"call": 730})
    with worker() as db:
        refresh_summaries(db)
    assert apply_audit_retention(worker, roles.settings).deleted == 0
    # The migrator: upgrades (nothing to do) and re-grants as the owner of every table.
    upgraded = run_cli("db", "upgrade", **roles.env(CC_DATABASE_URL=roles.url_of("migrator")))
    assert upgraded.returncode == 0, upgraded.stderr
    # And the chain the three processes wrote into at once is whole.
    verified = run_cli("audit", "verify", CC_DATABASE_URL=roles.url_of("migrator"))
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert verified.stdout.startswith("audit chain intact:")


def test_a_table_a_later_migration_adds_gets_each_roles_privileges(roles: RoleDatabase) -> None:
    with roles.engine("migrator").begin() as conn:  # as a new migration would, as the owner
        conn.execute(text("CREATE TABLE IF NOT EXISTS later_feature (id serial PRIMARY KEY)"))
    refused(roles.engine("desk"), "INSERT INTO later_feature DEFAULT VALUES")
    upgraded = run_cli("db", "upgrade", **roles.env(CC_DATABASE_URL=roles.url_of("migrator")))
    assert upgraded.returncode == 0, upgraded.stderr
    for kind in ("desk", "controller", "worker"):
        with roles.engine(kind).begin() as conn:  # type: ignore[arg-type]
            conn.execute(text("INSERT INTO later_feature DEFAULT VALUES"))
        refused(roles.engine(kind), "TRUNCATE later_feature")  # type: ignore[arg-type]
    refused(roles.engine("asterisk"), "SELECT * FROM later_feature")
