"""call_records: a partial index of the open records

The resync (ivr/resync/) looks every few seconds for call records no controller will close
(their calls lost with a killed controller or a restarted Asterisk). Only open records are in
this index, so the look-up stays small however many calls the table holds. The disposition
``CONTROLLER_LOST`` needs no change: the column is a plain string (native_enum=False).

Revision ID: 0750_call_safety
Revises: 0770_disk_watch
Create Date: 2026-12-03 13:00:00
"""

from alembic import op
import sqlalchemy as sa


revision = "0750_call_safety"
down_revision = "0770_disk_watch"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_call_records_open",
        "call_records",
        ["started_at"],
        postgresql_where=sa.text("ended_at IS NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_call_records_open", table_name="call_records")
