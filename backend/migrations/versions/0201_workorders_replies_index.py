"""work_orders: an index for the 12345 platform's reply paging

Revision ID: 0201_workorders_replies_index
Revises: 0200_workorders

``GET /api/city-platform/replies`` pages through the platform's orders by (updated_at, id);
without an index each poll read and sorted every work order. Partial: only the platform's
orders (``platform_order_id`` set) are paged so.
"""

import sqlalchemy as sa
from alembic import op

revision = "0201_workorders_replies_index"
down_revision = "0200_workorders"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_work_orders_platform_updated",
        "work_orders",
        ["updated_at", "id"],
        postgresql_where=sa.text("platform_order_id IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_work_orders_platform_updated", table_name="work_orders")
