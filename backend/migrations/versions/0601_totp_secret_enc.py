"""users: the TOTP secret encrypted (totp_secret → totp_secret_enc)

The authenticator secrets were stored in clear: anyone reading the users table (a backup, a
stolen dump) could make every administrator's codes. They are now personal-data ciphertext
(`backend/personal_data.py`, `<key id>:<token>`), found and re-encrypted by `callcenter keys
rotate` through the `_enc` suffix. The secrets already stored are encrypted here under the
newest key of CC_DATA_KEY: the settings `backend.migrate` is run with are handed to the
migration (alembic attributes), since no other data migration needs a key. Downgrading
decrypts them back into the clear column.

Revision ID: 0601_totp_secret_enc
Revises: 0600_accounts
Create Date: 2026-12-03 09:00:00
"""

from alembic import context, op
import sqlalchemy as sa

from backend.personal_data import PersonalDataCipher


revision = "0601_totp_secret_enc"
down_revision = "0600_accounts"
branch_labels = None
depends_on = None

users = sa.table(
    "users",
    sa.column("id", sa.Integer),
    sa.column("totp_secret", sa.String),
    sa.column("totp_secret_enc", sa.String),
)


def _cipher() -> PersonalDataCipher:
    return PersonalDataCipher.of(context.config.attributes["settings"])


def _rewrite(source: sa.ColumnClause[str], target: str, convert: str) -> None:
    conn = op.get_bind()
    rows = conn.execute(sa.select(users.c.id, source).where(source.is_not(None))).all()
    if not rows:
        return
    cipher = _cipher()
    change = cipher.encrypt if convert == "encrypt" else cipher.decrypt
    for user_id, value in rows:
        conn.execute(users.update().where(users.c.id == user_id).values({target: change(value)}))


def upgrade() -> None:
    op.add_column("users", sa.Column("totp_secret_enc", sa.String(255), nullable=True))
    _rewrite(users.c.totp_secret, "totp_secret_enc", "encrypt")
    op.drop_column("users", "totp_secret")


def downgrade() -> None:
    op.add_column("users", sa.Column("totp_secret", sa.String(64), nullable=True))
    _rewrite(users.c.totp_secret_enc, "totp_secret", "decrypt")
    op.drop_column("users", "totp_secret_enc")
