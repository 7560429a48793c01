"""disk watch: a call kept off file on purpose (its disk nearly full) says so

call_records.unrecorded: empty for a recorded call, else why it was not recorded
("disk_full": the controller's disk watch had paused recordings). The recordings report tells
such a call from a lost recording by it.

Revision ID: 0770_disk_watch
Revises: 0740_emergency_messages
Create Date: 2026-12-03 13:00:00
"""

from alembic import op
import sqlalchemy as sa


revision = "0770_disk_watch"
down_revision = "0740_emergency_messages"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "call_records",
        sa.Column("unrecorded", sa.String(32), nullable=False, server_default=""),
    )


def downgrade() -> None:
    op.drop_column("call_records", "unrecorded")
