"""city_platform_clients: signed requests (key id and encrypted secret) instead of a bearer key

The 12345 platform signs its requests as the hospitals do (HMAC-SHA256 with a timestamp and a
one-time nonce, backend/signatures.py), so the server needs the secret itself: kept
encrypted under the data key, named by a key id. The SHA-256 of the old bearer keys cannot
sign anything and goes; a client that had one is issued a key again (``issue_platform_key``).

Revision ID: 0202_city_platform_signing
Revises: 0201_workorders_replies_index
"""

import sqlalchemy as sa
from alembic import op

revision = "0202_city_platform_signing"
down_revision = "0201_workorders_replies_index"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("city_platform_clients", sa.Column("key_id", sa.String(64), nullable=True))
    op.add_column("city_platform_clients", sa.Column("secret_enc", sa.Text(), nullable=True))
    op.create_unique_constraint(
        op.f("uq_city_platform_clients_key_id"), "city_platform_clients", ["key_id"]
    )
    op.drop_column("city_platform_clients", "key_hash")


def downgrade() -> None:
    # The old bearer keys are gone for good: clients get new ones after a downgrade too.
    op.add_column("city_platform_clients", sa.Column("key_hash", sa.String(64), nullable=True))
    op.create_unique_constraint(
        op.f("uq_city_platform_clients_key_hash"), "city_platform_clients", ["key_hash"]
    )
    op.drop_constraint(op.f("uq_city_platform_clients_key_id"), "city_platform_clients")
    op.drop_column("city_platform_clients", "secret_enc")
    op.drop_column("city_platform_clients", "key_id")
