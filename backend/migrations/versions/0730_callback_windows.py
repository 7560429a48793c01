"""callback_tasks: callbacks booked for a half-hour window

A caller waiting in a queue may book one of the next free half-hour windows instead of
keeping his place (``backend/telephony/callback_windows.py``). The booking is a callback
task without a work order: ``window_start``/``window_end`` bound when it may be dialled,
``skill`` is the queue the caller left. Tasks of messages keep NULL in all three.
The index serves the count of a window's bookings (its capacity) and the desk's day list.

Revision ID: 0730_callback_windows
Revises: 0720_sms_outbox
Create Date: 2026-12-03 13:00:00
"""

from alembic import op
import sqlalchemy as sa


revision = "0730_callback_windows"
down_revision = "0720_sms_outbox"
branch_labels = None
# callback_tasks is the work orders branch's table.
depends_on = "0203_workorder_teams"


def upgrade() -> None:
    op.add_column(
        "callback_tasks", sa.Column("window_start", sa.DateTime(timezone=True), nullable=True)
    )
    op.add_column(
        "callback_tasks", sa.Column("window_end", sa.DateTime(timezone=True), nullable=True)
    )
    op.add_column("callback_tasks", sa.Column("skill", sa.String(length=32), nullable=True))
    op.create_index(
        "ix_callback_tasks_line_window", "callback_tasks", ["line", "window_start"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_callback_tasks_line_window", table_name="callback_tasks")
    op.drop_column("callback_tasks", "skill")
    op.drop_column("callback_tasks", "window_end")
    op.drop_column("callback_tasks", "window_start")
