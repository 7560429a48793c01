"""holiday calendar: the State Council's 放假安排, entered by the administrator each year

holiday_years: one row per year (holidays with their names and date ranges, the 调休 working
weekend days), read by the hours and deadlines (backend/holiday_calendar). Seeded with the
years the built-in file backend/data/cn_holidays.yaml held (2025, 2026), copied here so that
the migration does not change when the file does.

Revision ID: 0790_holiday_calendar
Revises: 0750_call_safety
Create Date: 2026-12-03 13:45:00
"""

from datetime import UTC, datetime

from alembic import op
import sqlalchemy as sa


revision = "0790_holiday_calendar"
down_revision = "0750_call_safety"
branch_labels = None
depends_on = None

SEED = {
    2025: (
        [
            ("元旦", "2025-01-01", "2025-01-01"),
            ("春节", "2025-01-28", "2025-02-04"),
            ("清明节", "2025-04-04", "2025-04-06"),
            ("劳动节", "2025-05-01", "2025-05-05"),
            ("端午节", "2025-05-31", "2025-06-02"),
            ("国庆节、中秋节", "2025-10-01", "2025-10-08"),
        ],
        ["2025-01-26", "2025-02-08", "2025-04-27", "2025-09-28", "2025-10-11"],
    ),
    2026: (
        [
            ("元旦", "2026-01-01", "2026-01-03"),
            ("春节", "2026-02-15", "2026-02-23"),
            ("清明节", "2026-04-04", "2026-04-06"),
            ("劳动节", "2026-05-01", "2026-05-05"),
            ("端午节", "2026-06-19", "2026-06-21"),
            ("中秋节", "2026-09-25", "2026-09-27"),
            ("国庆节", "2026-10-01", "2026-10-07"),
        ],
        ["2026-01-04", "2026-02-14", "2026-02-28", "2026-05-09", "2026-09-20", "2026-10-10"],
    ),
}


def upgrade() -> None:
    table = op.create_table(
        "holiday_years",
        sa.Column("year", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("holidays", sa.JSON(), nullable=False),
        sa.Column("workdays", sa.JSON(), nullable=False),
        sa.Column("revision", sa.BigInteger(), nullable=False),
        sa.Column("entered_by", sa.String(length=100), nullable=False),
        sa.Column("entered_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("year", name=op.f("pk_holiday_years")),
    )
    now = datetime.now(UTC)
    op.bulk_insert(
        table,
        [
            {
                "year": year,
                "holidays": [{"name": n, "first": f, "last": last} for n, f, last in holidays],
                "workdays": workdays,
                "revision": 1,
                "entered_by": "migration",
                "entered_at": now,
            }
            for year, (holidays, workdays) in SEED.items()
        ],
    )


def downgrade() -> None:
    op.drop_table("holiday_years")
