"""work_orders.team: the desk team an order belongs to, so that reads can be scoped to it

An order belongs to the team of the desk user who filed it, or, for one that came in without
a person (an IVR message, a queue voicemail, a 12345 import), of the user who signed for it;
until then its team is "" (the shared intake). Existing orders get their signer's team, else
their filer's, from ``users``; orders of neither stay in the intake.

Revision ID: 0203_workorder_teams
Revises: 0202_city_platform_signing
"""

import sqlalchemy as sa
from alembic import op

revision = "0203_workorder_teams"
down_revision = "0202_city_platform_signing"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "work_orders", sa.Column("team", sa.String(64), nullable=False, server_default="")
    )
    op.execute(
        """
        UPDATE work_orders w SET team = coalesce(
            (SELECT u.team FROM users u WHERE u.username = w.assignee AND w.assignee <> ''),
            (SELECT u.team FROM users u WHERE u.username = w.created_by),
            '')
        """
    )
    op.create_index(op.f("ix_work_orders_team"), "work_orders", ["team"])


def downgrade() -> None:
    op.drop_index(op.f("ix_work_orders_team"), table_name="work_orders")
    op.drop_column("work_orders", "team")
