"""callers: blocked numbers

Revision ID: 0003_blocked_callers
Revises: 0002_call_caller_privacy
"""

import sqlalchemy as sa
from alembic import op

revision = "0003_blocked_callers"
down_revision = "0002_call_caller_privacy"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "blocked_callers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("caller_hash", sa.String(64), nullable=False),
        sa.Column("caller_masked", sa.String(32), nullable=False),
        sa.Column("line", sa.String(16), nullable=False),
        sa.Column("reason", sa.String(200), nullable=False),
        sa.Column("until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_blocked_callers")),
    )
    op.create_index(
        "ix_blocked_callers_caller_hash", "blocked_callers", ["caller_hash"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_blocked_callers_caller_hash", table_name="blocked_callers")
    op.drop_table("blocked_callers")
