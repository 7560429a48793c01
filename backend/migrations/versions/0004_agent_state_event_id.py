"""agent_state_changes: the stream entry each row was written from

Revision ID: 0004_agent_state_event_id
Revises: 0003_blocked_callers

The history writer knew a redelivered event by its agent, millisecond, state, reason and call;
two real changes that matched on all of those (ready, not ready, ready within one millisecond)
lost the second. The Redis stream entry id is unique per event: rows now keep it, and it
says, with the agent, whether an event was written already. Older rows keep NULL.
"""

import sqlalchemy as sa
from alembic import op

revision = "0004_agent_state_event_id"
down_revision = "0003_blocked_callers"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("agent_state_changes", sa.Column("event_id", sa.String(32), nullable=True))
    op.create_index(
        "ux_agent_state_changes_agent_event",
        "agent_state_changes",
        ["agent_id", "event_id"],
        unique=True,
    )


def downgrade() -> None:
    op.drop_index("ux_agent_state_changes_agent_event", table_name="agent_state_changes")
    op.drop_column("agent_state_changes", "event_id")
