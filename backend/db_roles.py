"""PostgreSQL roles for the processes, each with the least privileges it needs.

``callcenter db roles`` (run once as a superuser, again after a password changes) makes five
login roles named ``<CC_DB_ROLE_PREFIX><kind>``:

- ``migrator`` owns the schema (every table, sequence, type and function) and alone may
  change it: ``callcenter db upgrade`` runs as it. Being the owner, it can also read and
  change audit records: it is the administrators' role, not a process's.
- ``desk``, ``controller`` and ``worker`` — the web desk, the call controller, the Celery
  worker and beat — read and write rows (SELECT, INSERT, UPDATE, DELETE) and nothing more: no
  DDL, no TRUNCATE, no triggers. Exceptions, by what each process does:
  - ``audit_records`` is append-only for all three (INSERT; the desk, whose audit page shows
    it, and the worker, which exports it for retention, may SELECT it; the controller may
    read back only the id of a record it adds, as INSERT ... RETURNING needs). The chain
    head ``audit_chain`` is written by the trigger alone (the desk and the worker may read
    it, to verify the chain). Old records leave only through
    ``audit_purge()``, which the worker may EXECUTE and which keeps 183 days at least.
  - ``users`` (password hashes, TOTP secrets) and ``agent_phones`` (the SIP secrets) are the
    desk's alone: the controller and the worker never read them.
- ``asterisk`` may only SELECT ``ps_endpoints``, ``ps_auths`` and ``ps_aors``.

The grant set is re-applied by ``callcenter db upgrade`` after every migration when the roles
exist, so a table added later gets the same treatment. Passwords go to PostgreSQL as SCRAM
verifiers computed here, never in clear (nothing for a statement log to keep).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import unicodedata
from dataclasses import dataclass
from typing import Literal, get_args

from sqlalchemy import Connection, text

from backend.errors import ConfigError
from backend.settings import Settings

RoleKind = Literal["migrator", "controller", "desk", "worker", "asterisk"]
ROLE_KINDS: tuple[RoleKind, ...] = get_args(RoleKind)
GRANTEES: tuple[RoleKind, ...] = ("controller", "desk", "worker", "asterisk")
DML = ("SELECT", "INSERT", "UPDATE", "DELETE")
DESK_ONLY = frozenset({"users", "agent_phones", "account_approvals", "password_history"})
ASTERISK_TABLES = frozenset({"ps_endpoints", "ps_auths", "ps_aors"})
# Functions a role may call besides the trigger's own (which need no grant).
FUNCTIONS: dict[RoleKind, tuple[str, ...]] = {"worker": ("audit_purge(smallint, bigint)",)}
SCRAM_ITERATIONS = 4096
# An extension's objects stay its own (and whoever installed it).
NOT_EXTENSION = "NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = {oid} AND d.deptype = 'e')"


@dataclass(frozen=True)
class Grant:
    privileges: tuple[str, ...] = ()
    select_columns: tuple[str, ...] = ()  # SELECT on these columns only


def grant_for(role: RoleKind, table: str) -> Grant:
    """What ``role`` may do with ``table`` (pure policy; see the module's docstring)."""
    if role == "migrator":
        raise ValueError("the migrator owns the tables; it is granted nothing")
    if role == "asterisk":
        return Grant(("SELECT",)) if table in ASTERISK_TABLES else Grant()
    if table == "audit_chain":
        # Written by the chain's trigger alone; readable where the chain is verified.
        return Grant() if role == "controller" else Grant(("SELECT",))
    if table == "audit_records":
        if role == "controller":
            return Grant(("INSERT",), ("id",))
        return Grant(("SELECT", "INSERT"))
    if table == "alembic_version":
        return Grant(("SELECT",))
    if table in DESK_ONLY and role != "desk":
        return Grant()
    return Grant(DML)


def role_name(settings: Settings, kind: RoleKind) -> str:
    return settings.db_role_prefix + kind


def scram_verifier(password: str, salt: bytes | None = None) -> str:
    """PostgreSQL's SCRAM-SHA-256 verifier of ``password`` (RFC 5802/7677), the form
    ``CREATE ROLE ... PASSWORD`` stores; NFKC stands in for SASLprep."""
    salt = salt if salt is not None else secrets.token_bytes(16)
    normalized = unicodedata.normalize("NFKC", password).encode()
    salted = hashlib.pbkdf2_hmac("sha256", normalized, salt, SCRAM_ITERATIONS)
    stored_key = hashlib.sha256(hmac.digest(salted, b"Client Key", "sha256")).digest()
    server_key = hmac.digest(salted, b"Server Key", "sha256")

    def b64(data: bytes) -> str:
        return base64.b64encode(data).decode()

    return f"SCRAM-SHA-256${SCRAM_ITERATIONS}:{b64(salt)}${b64(stored_key)}:{b64(server_key)}"


def _ident(name: str) -> str:
    # Role names are checked by the settings ([a-z0-9_]); quoting keeps any other name inert.
    return '"' + name.replace('"', '""') + '"'


def create_roles(conn: Connection, settings: Settings) -> list[str]:
    """Make (or update the passwords of) the five roles, give the migrator the schema and
    apply the grants. Needs a superuser connection to the application's database."""
    passwords = {kind: getattr(settings, f"db_password_{kind}") for kind in ROLE_KINDS}
    for kind, secret in passwords.items():
        if not secret.get_secret_value():
            raise ConfigError(f"db_password_{kind}", "is empty: every role needs a password")
    made = []
    for kind in ROLE_KINDS:
        name = role_name(settings, kind)
        verifier = scram_verifier(passwords[kind].get_secret_value())
        exists = conn.scalar(text("SELECT 1 FROM pg_roles WHERE rolname = :n"), {"n": name})
        verb = "ALTER" if exists else "CREATE"
        conn.exec_driver_sql(
            f"{verb} ROLE {_ident(name)} LOGIN PASSWORD '{verifier}' NOSUPERUSER NOCREATEDB "
            "NOCREATEROLE NOINHERIT NOREPLICATION NOBYPASSRLS"
        )
        made.append(name)
    migrator = _ident(role_name(settings, "migrator"))
    database = _ident(conn.scalar(text("SELECT current_database()")) or "")
    # Only our roles reach this database, and none of them makes temporary tables.
    conn.exec_driver_sql(f"REVOKE CONNECT, TEMPORARY ON DATABASE {database} FROM PUBLIC")
    conn.exec_driver_sql(
        f"GRANT CONNECT ON DATABASE {database} TO {', '.join(_ident(n) for n in made)}"
    )
    conn.exec_driver_sql("REVOKE CREATE ON SCHEMA public FROM PUBLIC")
    conn.exec_driver_sql(f"GRANT USAGE, CREATE ON SCHEMA public TO {migrator}")
    grantees = ", ".join(_ident(role_name(settings, kind)) for kind in GRANTEES)
    conn.exec_driver_sql(f"GRANT USAGE ON SCHEMA public TO {grantees}")
    _give_schema_to(conn, migrator)
    apply_grants(conn, settings)
    return made


def _give_schema_to(conn: Connection, owner: str) -> None:
    """Every table, view, free-standing sequence, type and function of ``public`` becomes
    ``owner``'s (a column's own sequence follows its table)."""
    relations = conn.execute(
        text(
            """
            SELECT c.relkind, quote_ident(c.relname) FROM pg_class c
            JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'v', 'm', 'S')
              AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = c.oid
                              AND d.classid = 'pg_class'::regclass
                              AND d.deptype IN ('a', 'i', 'e'))
            """
        )
    ).all()
    kinds = {"r": "TABLE", "p": "TABLE", "v": "VIEW", "m": "MATERIALIZED VIEW", "S": "SEQUENCE"}
    for relkind, name in relations:
        conn.exec_driver_sql(f"ALTER {kinds[relkind]} public.{name} OWNER TO {owner}")
    for (name,) in conn.execute(
        text(
            "SELECT quote_ident(t.typname) FROM pg_type t JOIN pg_namespace n "
            "ON n.oid = t.typnamespace WHERE n.nspname = 'public' AND t.typtype = 'e'"
            f" AND {NOT_EXTENSION.format(oid='t.oid')}"
        )
    ):
        conn.exec_driver_sql(f"ALTER TYPE public.{name} OWNER TO {owner}")
    for (signature,) in conn.execute(
        text(
            "SELECT p.oid::regprocedure::text FROM pg_proc p JOIN pg_namespace n "
            "ON n.oid = p.pronamespace WHERE n.nspname = 'public'"
            f" AND {NOT_EXTENSION.format(oid='p.oid')}"
        )
    ):
        conn.exec_driver_sql(f"ALTER FUNCTION {signature} OWNER TO {owner}")


def roles_exist(conn: Connection, settings: Settings) -> bool:
    names = [role_name(settings, kind) for kind in ROLE_KINDS]
    found = conn.scalar(
        text("SELECT count(*) FROM pg_roles WHERE rolname = ANY(:names)"), {"names": names}
    )
    return found == len(names)


def apply_grants(conn: Connection, settings: Settings) -> None:
    """Set every grantee's privileges on every table of ``public`` to exactly the policy's:
    whatever was granted before is revoked first (table privileges take the column ones with
    them). Needs the tables' owner or a superuser."""
    tables = conn.scalars(
        text("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename")
    ).all()
    for kind in GRANTEES:
        role = _ident(role_name(settings, kind))
        conn.exec_driver_sql(f"REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {role}")
        conn.exec_driver_sql(f"REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM {role}")
        for table in tables:
            grant = grant_for(kind, table)
            target = f"public.{_ident(table)}"
            if grant.privileges:
                conn.exec_driver_sql(f"GRANT {', '.join(grant.privileges)} ON {target} TO {role}")
            if grant.select_columns:
                columns = ", ".join(_ident(c) for c in grant.select_columns)
                conn.exec_driver_sql(f"GRANT SELECT ({columns}) ON {target} TO {role}")
        if kind != "asterisk":
            conn.exec_driver_sql(f"GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO {role}")
        for kinds_functions in FUNCTIONS.values():
            for function in kinds_functions:
                conn.exec_driver_sql(f"REVOKE ALL ON FUNCTION {function} FROM {role}")
        for function in FUNCTIONS.get(kind, ()):
            conn.exec_driver_sql(f"GRANT EXECUTE ON FUNCTION {function} TO {role}")
