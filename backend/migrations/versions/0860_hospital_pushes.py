"""hospital onboarding: each hospital's last pushes and the key its last rotation retired

hospital_pushes: one row per data-changing call of a hospital (schedule push, stop,
attendance) with its answer (accepted, or refused with the error and reason), the newest
200 per hospital kept (backend/booking/push_log.py). hospitals.retired_key_id: the key id
the last rotation replaced, so that a push still signed with it is shown as refused on the
hospital's page.

Revision ID: 0860_hospital_pushes
Revises: 0790_holiday_calendar
Create Date: 2026-12-03 16:00:00
"""

from alembic import op
import sqlalchemy as sa


revision = "0860_hospital_pushes"
down_revision = "0790_holiday_calendar"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("hospitals", sa.Column("retired_key_id", sa.String(length=64), nullable=True))
    op.create_index(op.f("ix_hospitals_retired_key_id"), "hospitals", ["retired_key_id"])
    op.create_table(
        "hospital_pushes",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("hospital_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("method", sa.String(length=8), nullable=False),
        sa.Column("path", sa.String(length=300), nullable=False),
        sa.Column("key_id", sa.String(length=64), nullable=False),
        sa.Column("status", sa.Integer(), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("error", sa.String(length=64), nullable=False),
        sa.Column("message", sa.String(length=500), nullable=False),
        sa.ForeignKeyConstraint(
            ["hospital_id"],
            ["hospitals.id"],
            name=op.f("fk_hospital_pushes_hospital_id_hospitals"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hospital_pushes")),
    )
    op.create_index("ix_hospital_pushes_hospital_id_id", "hospital_pushes", ["hospital_id", "id"])


def downgrade() -> None:
    op.drop_index("ix_hospital_pushes_hospital_id_id", table_name="hospital_pushes")
    op.drop_table("hospital_pushes")
    op.drop_index(op.f("ix_hospitals_retired_key_id"), table_name="hospitals")
    op.drop_column("hospitals", "retired_key_id")
