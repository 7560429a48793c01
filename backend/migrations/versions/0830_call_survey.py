"""post-call survey: its own time and outcome on the call record

call_records.survey_started_at: when the survey prompt began (the agent had hung up, the
caller stayed on); NULL when no survey was offered. survey_seconds: prompt, key wait and
thanks. survey_outcome: "" (none offered), scored, no_answer, invalid or hung_up — the score
itself stays in ``satisfaction``. The record's ended_at is now the caller's channel end, so
survey time is inside the call and no longer after it (docs/survey.md).

Revision ID: 0830_call_survey
Revises: 0790_holiday_calendar
Create Date: 2026-12-03 16:00:00
"""

from alembic import op
import sqlalchemy as sa


revision = "0830_call_survey"
down_revision = "0790_holiday_calendar"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "call_records", sa.Column("survey_started_at", sa.DateTime(timezone=True), nullable=True)
    )
    op.add_column(
        "call_records",
        sa.Column("survey_seconds", sa.Float(), nullable=False, server_default="0"),
    )
    op.add_column(
        "call_records",
        sa.Column("survey_outcome", sa.String(16), nullable=False, server_default=""),
    )


def downgrade() -> None:
    op.drop_column("call_records", "survey_outcome")
    op.drop_column("call_records", "survey_seconds")
    op.drop_column("call_records", "survey_started_at")
