"""accounts: the second administrator's approval, and password history

account_approvals: a change to an administrator's or auditor's account (creating one,
resetting its password or second factor) one administrator asked for, made when a second one
approves. password_history: earlier password hashes, so that a new password may not be one
of the last CC_PASSWORD_HISTORY. Both hold password hashes: desk-only, like users
(backend/db_roles.py).

Revision ID: 0600_accounts
Revises: 0001_foundation
Create Date: 2026-12-03 08:30:00
"""

from alembic import op
import sqlalchemy as sa


revision = "0600_accounts"
down_revision = "0001_foundation"
branch_labels = ("accounts",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "account_approvals",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("target_user_id", sa.Integer, sa.ForeignKey("users.id"), nullable=True),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("display_name", sa.String(64), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("team", sa.String(64), nullable=False),
        sa.Column("password_hash", sa.String(255), nullable=False),
        sa.Column("requested_by_id", sa.Integer, sa.ForeignKey("users.id"), nullable=False),
        sa.Column("approved_by_id", sa.Integer, sa.ForeignKey("users.id"), nullable=True),
        sa.Column("approved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "password_history",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id"), nullable=False),
        sa.Column("password_hash", sa.String(255), nullable=False),
        sa.Column("replaced_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_password_history_user_id", "password_history", ["user_id"])


def downgrade() -> None:
    op.drop_index("ix_password_history_user_id", "password_history")
    op.drop_table("password_history")
    op.drop_table("account_approvals")
