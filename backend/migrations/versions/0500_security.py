"""security: the audit trail as hash chains

Every audit record belongs to one of sixteen chains (chain_id) and carries its position in it
(chain_seq), the id and hash of the record before it in that chain (prev_id, prev_hash) and
its own hash (row_hash): SHA-256 over those and the record's content, in the canonical form
of backend/audit/chain.py. An edited record no longer matches its hash; a deleted one leaves
a gap and a dangling link; the newest ones deleted leave their chain's head pointing past
the end (`callcenter audit verify`).

The links are computed inside the writing transaction by a deferred constraint trigger, so
they are made at COMMIT, after every other lock the transaction took: the trigger locks one
chain's head row (audit_chain), links the transaction's records after the last committed one
of that chain, and moves the head. Writers of one chain queue on its head and never fork it;
taking the head last means an audited transaction never waits for it while holding a lock
another one waits for. Why sixteen chains and not one: a head stays locked until its
transaction's commit is on disk, so one chain lets one audited commit flush at a time (on the
development machine, eight writers of bare audit records made about 400 commits a second,
against 2,300 without any chain); with several heads a writer takes a free one and commits
flush together again, and what is left is the trigger's own work, about 0.2 ms a record
(eight writers about 900 a second, thirty-two writers about 1,850 against 4,000). The trigger
functions are SECURITY DEFINER (the tables' owner), so the application roles, which may only
INSERT audit records (`callcenter db roles`), need no right to change them.

audit_purge() deletes a chain's oldest records for retention (never any younger than 183
days, whoever calls it) and moves that chain's anchor, kept in audit_chain, past them.

Revision ID: 0500_security
Revises: 0001_foundation
Create Date: 2026-12-03 12:00:00
"""

from alembic import op
import sqlalchemy as sa


revision = "0500_security"
down_revision = "0001_foundation"
branch_labels = ("security",)
depends_on = None

CHAINS = 16

# The canonical form of backend/audit/chain.py, in SQL: each field as a 4-byte big-endian
# length and its UTF-8 bytes; the time in UTC with microseconds.
FUNCTIONS = r"""
CREATE FUNCTION audit_field(value text) RETURNS bytea
LANGUAGE sql IMMUTABLE STRICT AS $$
    SELECT int4send(octet_length(convert_to(value, 'UTF8'))) || convert_to(value, 'UTF8')
$$;

CREATE FUNCTION audit_row_hash(
    chain smallint, seq bigint, prev_id bigint, prev_hash text, rec audit_records
) RETURNS text LANGUAGE sql STABLE AS $$
    SELECT encode(sha256(
        audit_field(chain::text)
        || audit_field(seq::text)
        || audit_field(coalesce(prev_id::text, ''))
        || audit_field(prev_hash)
        || audit_field(rec.id::text)
        || audit_field(to_char(rec.at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US'))
        || audit_field(rec.actor)
        || audit_field(rec.action)
        || audit_field(rec.target)
        || audit_field(rec.source_ip)
        || audit_field(rec.details::text)
    ), 'hex')
$$;

CREATE FUNCTION audit_chain_link(rec audit_records, preferred smallint) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
    head audit_chain%ROWTYPE;
    seq bigint;
    digest text;
BEGIN
    -- The preferred head, else any free one, else wait for the preferred one. A transaction
    -- prefers the head it holds already, so it never waits while holding one.
    SELECT * INTO head FROM audit_chain WHERE id = preferred FOR UPDATE SKIP LOCKED;
    IF NOT FOUND THEN
        SELECT * INTO head FROM audit_chain ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED;
    END IF;
    IF NOT FOUND THEN
        SELECT * INTO STRICT head FROM audit_chain WHERE id = preferred FOR UPDATE;
    END IF;
    PERFORM set_config('callcenter.audit_chain', head.id::text, true);
    seq := head.last_seq + 1;
    digest := audit_row_hash(head.id, seq, head.last_id, head.last_hash, rec);
    UPDATE audit_records
       SET chain_id = head.id, chain_seq = seq, prev_id = head.last_id,
           prev_hash = head.last_hash, row_hash = digest
     WHERE id = rec.id;
    UPDATE audit_chain SET last_seq = seq, last_id = rec.id, last_hash = digest
     WHERE id = head.id;
END
$$;

CREATE FUNCTION audit_chain_seal() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
    held text := current_setting('callcenter.audit_chain', true);
BEGIN
    -- A head this transaction holds, else this backend's own (writers spread over heads).
    PERFORM audit_chain_link(
        NEW, coalesce(nullif(held, '')::smallint, (1 + pg_backend_pid() % __CHAINS__)::smallint)
    );
    RETURN NULL;
END
$$;

CREATE CONSTRAINT TRIGGER audit_records_chain
    AFTER INSERT ON audit_records
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION audit_chain_seal();

CREATE FUNCTION audit_purge(chain smallint, through_seq bigint) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
    last_rec audit_records%ROWTYPE;
    removed bigint;
BEGIN
    PERFORM 1 FROM audit_chain WHERE id = chain FOR UPDATE;
    SELECT * INTO last_rec FROM audit_records
     WHERE chain_id = chain AND chain_seq = through_seq;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'no audit record at position % of chain %', through_seq, chain;
    END IF;
    -- MLPS level 3 keeps audit records six months at least, whoever asks.
    IF EXISTS (SELECT 1 FROM audit_records
               WHERE chain_id = chain AND chain_seq <= through_seq
                 AND at > now() - interval '183 days') THEN
        RAISE EXCEPTION 'audit records younger than 183 days are kept'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    DELETE FROM audit_records WHERE chain_id = chain AND chain_seq <= through_seq;
    GET DIAGNOSTICS removed = ROW_COUNT;
    UPDATE audit_chain
       SET purged_seq = through_seq, purged_id = last_rec.id, purged_hash = last_rec.row_hash
     WHERE id = chain;
    RETURN removed;
END
$$;

-- Only through the trigger, and the purge only for roles given it (`callcenter db roles`).
REVOKE ALL ON FUNCTION audit_chain_link(audit_records, smallint) FROM PUBLIC;
REVOKE ALL ON FUNCTION audit_chain_seal() FROM PUBLIC;
REVOKE ALL ON FUNCTION audit_purge(smallint, bigint) FROM PUBLIC;
""".replace("__CHAINS__", str(CHAINS))


def upgrade() -> None:
    for column, kind in (
        ("chain_id", sa.SmallInteger()),
        ("chain_seq", sa.BigInteger()),
        ("prev_id", sa.BigInteger()),
        ("prev_hash", sa.String(length=64)),
        ("row_hash", sa.String(length=64)),
    ):
        op.add_column("audit_records", sa.Column(column, kind, nullable=True))
    op.create_table(
        "audit_chain",
        sa.Column("id", sa.SmallInteger(), nullable=False),
        sa.Column("last_seq", sa.BigInteger(), nullable=False),
        sa.Column("last_id", sa.BigInteger(), nullable=True),
        sa.Column("last_hash", sa.String(length=64), nullable=False),
        sa.Column("purged_seq", sa.BigInteger(), nullable=False),
        sa.Column("purged_id", sa.BigInteger(), nullable=True),
        sa.Column("purged_hash", sa.String(length=64), nullable=False),
        sa.CheckConstraint(f"id BETWEEN 1 AND {CHAINS}", name=op.f("ck_audit_chain_heads")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_chain")),
    )
    op.execute(
        "INSERT INTO audit_chain (id, last_seq, last_hash, purged_seq, purged_hash) "
        f"SELECT g, 0, '', 0, '' FROM generate_series(1, {CHAINS}) AS g"
    )
    op.execute(FUNCTIONS)
    # The records written before this revision make chain 1, in the order they were made.
    op.execute(
        """
        DO $$
        DECLARE
            rec audit_records%ROWTYPE;
        BEGIN
            FOR rec IN SELECT * FROM audit_records ORDER BY id LOOP
                PERFORM audit_chain_link(rec, 1::smallint);
            END LOOP;
        END
        $$
        """
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER audit_records_chain ON audit_records")
    for function in (
        "audit_purge(smallint, bigint)",
        "audit_chain_seal()",
        "audit_chain_link(audit_records, smallint)",
        "audit_row_hash(smallint, bigint, bigint, text, audit_records)",
        "audit_field(text)",
    ):
        op.execute(f"DROP FUNCTION {function}")
    op.drop_table("audit_chain")
    for column in ("row_hash", "prev_hash", "prev_id", "chain_seq", "chain_id"):
        op.drop_column("audit_records", column)
