"""report editions: one stored file per (kind, period, format); their e-mail outbox

report_archives gets a unique index on (kind, period_start, fmt), so that a periodic job run
twice (two beats, a retried task) keeps one edition per period: the second insert does
nothing. Duplicates an earlier double run left are removed first, keeping the oldest.
report_mailings: one row per (edition, recipient) to send by e-mail, written in the same
transaction as the edition, retried with a growing delay, its last error kept.

Revision ID: 0870_report_editions
Revises: 0790_holiday_calendar
Create Date: 2026-12-03 16:00:00
"""

from alembic import op
import sqlalchemy as sa


revision = "0870_report_editions"
down_revision = "0790_holiday_calendar"
branch_labels = None
depends_on = ("0300_reports",)

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.execute(
        "DELETE FROM report_archives a USING report_archives b WHERE a.kind = b.kind "
        "AND a.period_start = b.period_start AND a.fmt = b.fmt AND a.id > b.id"
    )
    op.drop_index("ix_report_archives_kind_period", table_name="report_archives")
    op.create_index(
        "uq_report_archives_edition",
        "report_archives",
        ["kind", "period_start", "fmt"],
        unique=True,
    )
    op.create_table(
        "report_mailings",
        sa.Column("id", sa.BigInteger, primary_key=True),
        sa.Column(
            "archive_id",
            sa.BigInteger,
            sa.ForeignKey("report_archives.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("recipient", sa.String(254), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("next_attempt_at", TZ, nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("sent_at", TZ, nullable=True),
        sa.Column("last_error", sa.String(300), nullable=True),
    )
    op.create_index(
        "uq_report_mailings_edition_recipient",
        "report_mailings",
        ["archive_id", "recipient"],
        unique=True,
    )
    op.create_index(
        "ix_report_mailings_due",
        "report_mailings",
        ["next_attempt_at"],
        postgresql_where=sa.text("status = 'queued'"),
    )


def downgrade() -> None:
    op.drop_table("report_mailings")
    op.drop_index("uq_report_archives_edition", table_name="report_archives")
    op.create_index(
        "ix_report_archives_kind_period", "report_archives", ["kind", "period_start"]
    )
