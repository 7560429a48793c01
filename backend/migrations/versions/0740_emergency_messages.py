"""emergency_messages: the emergency message switch

A supervisor switches on a message (TTS text or a recorded sound) for a line, a hospital or
a queue, from a start to an end time, with a mode: play and continue, play and end the
call, play and divert to a skill (``backend/emergency.py``). The controller reads the
active ones per call; the index serves that read (scope, target, still running).

Revision ID: 0740_emergency_messages
Revises: 0710_training
Create Date: 2026-12-03 13:00:00
"""

from alembic import op
import sqlalchemy as sa


revision = "0740_emergency_messages"
down_revision = "0710_training"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "emergency_messages",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("scope", sa.String(length=16), nullable=False),
        sa.Column("target", sa.String(length=64), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("recording", sa.String(length=256), nullable=False),
        sa.Column("mode", sa.String(length=16), nullable=False),
        sa.Column("divert_skill", sa.String(length=32), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("cancelled_by", sa.String(length=100), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_emergency_messages")),
    )
    op.create_index(
        "ix_emergency_messages_scope_ends",
        "emergency_messages",
        ["scope", "target", "ends_at"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_emergency_messages_scope_ends", table_name="emergency_messages")
    op.drop_table("emergency_messages")
