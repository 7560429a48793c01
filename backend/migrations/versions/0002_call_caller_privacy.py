"""calls: encrypted caller number and its look-up hash

Revision ID: 0002_call_caller_privacy
Revises: 0001_foundation
"""

import sqlalchemy as sa
from alembic import op

revision = "0002_call_caller_privacy"
down_revision = "0001_foundation"
branch_labels = ("calls_privacy",)
depends_on = None


def upgrade() -> None:
    op.add_column(
        "call_records", sa.Column("caller_enc", sa.String(255), nullable=False, server_default="")
    )
    op.add_column(
        "call_records", sa.Column("caller_hash", sa.String(64), nullable=False, server_default="")
    )
    op.create_index("ix_call_records_caller_hash", "call_records", ["caller_hash"])


def downgrade() -> None:
    op.drop_index("ix_call_records_caller_hash", table_name="call_records")
    op.drop_column("call_records", "caller_hash")
    op.drop_column("call_records", "caller_enc")
