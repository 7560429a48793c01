"""rosters (排班): shift templates, agents' days off, rosters and their scheduled shifts

shift_templates: the day, night, weekend and holiday-duty shifts a roster is built from (local
start time and length). agent_days_off: dates an agent is not available. rosters: one plan for
a line (and skill) over a week or month, draft or published, with the rules and the forecast
it was made against; the default templates are added here (a supervisor may change them).
roster_shifts: a scheduled shift, agent from starts_at to ends_at
(timestamptz); who is scheduled when is read by backend/workforce/schedule.py.

Revision ID: 0700_rosters
Revises: 0601_totp_secret_enc
Create Date: 2026-12-03 12:45:00
"""

from datetime import datetime

from alembic import op
import sqlalchemy as sa


revision = "0700_rosters"
down_revision = "0601_totp_secret_enc"
branch_labels = None
depends_on = None


DEFAULT_TEMPLATES = [
    # code, name, kind, local start, minutes
    ("day", "白班", "day", "08:00", 540),
    ("mid", "中班", "day", "12:00", 540),
    ("night", "夜班", "night", "20:00", 720),
    ("weekend", "周末班", "weekend", "09:00", 480),
    ("holiday", "节假日值班", "holiday", "09:00", 480),
]


def upgrade() -> None:
    templates = op.create_table(
        "shift_templates",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("code", sa.String(32), nullable=False, unique=True),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("start_time", sa.Time, nullable=False),
        sa.Column("minutes", sa.Integer, nullable=False),
        sa.Column("active", sa.Boolean, nullable=False),
    )
    op.bulk_insert(
        templates,
        [
            {"code": code, "name": name, "kind": kind, "minutes": minutes, "active": True,
             "start_time": datetime.strptime(start, "%H:%M").time()}
            for code, name, kind, start, minutes in DEFAULT_TEMPLATES
        ],
    )
    op.create_table(
        "agent_days_off",
        sa.Column("agent_id", sa.Integer, sa.ForeignKey("agents.id"), primary_key=True),
        sa.Column("day", sa.Date, primary_key=True),
        sa.Column("reason", sa.String(64), nullable=False),
    )
    op.create_table(
        "rosters",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("line", sa.String(16), nullable=False),
        sa.Column("skill", sa.String(32), nullable=False),
        sa.Column("first_day", sa.Date, nullable=False),
        sa.Column("last_day", sa.Date, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("rules", sa.JSON, nullable=False),
        sa.Column("forecast", sa.JSON, nullable=False),
        sa.Column("agent_hours", sa.Float, nullable=False),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "roster_shifts",
        sa.Column("id", sa.BigInteger, primary_key=True),
        sa.Column(
            "roster_id", sa.Integer, sa.ForeignKey("rosters.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("agent_id", sa.Integer, sa.ForeignKey("agents.id"), nullable=False),
        sa.Column(
            "template_code", sa.String(32), sa.ForeignKey("shift_templates.code"), nullable=False
        ),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_roster_shifts_agent_starts", "roster_shifts", ["agent_id", "starts_at"])
    op.create_index("ix_roster_shifts_starts", "roster_shifts", ["starts_at"])
    op.create_index(
        "ux_roster_shifts_roster_agent_starts",
        "roster_shifts",
        ["roster_id", "agent_id", "starts_at"],
        unique=True,
    )


def downgrade() -> None:
    op.drop_table("roster_shifts")
    op.drop_table("rosters")
    op.drop_table("agent_days_off")
    op.drop_table("shift_templates")
