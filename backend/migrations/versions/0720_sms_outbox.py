"""sms: the outbox of text messages, delivery receipts, reminder opt-outs, message texts

sms_outbox: one row per message to send, written in the same transaction as what it reports
(a booking made or cancelled, a reminder run, a callback, a work order); (event, subject) is
unique so that a retried request cannot queue it twice. sms_receipts: the gateways' delivery
reports by message id. sms_opt_outs: numbers (keyed hashes) that asked for no reminders.
sms_templates: the administrators' texts, per event.

The outbox refers to bookings: the booking branch (0101_patient_masks) comes first.

Revision ID: 0720_sms_outbox
Revises: 0700_rosters
Create Date: 2026-12-03 13:00:00
"""

from alembic import op
import sqlalchemy as sa


revision = "0720_sms_outbox"
down_revision = "0700_rosters"
branch_labels = None
depends_on = ("0101_patient_masks",)

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "sms_outbox",
        sa.Column("id", sa.BigInteger, primary_key=True),
        sa.Column("event", sa.String(32), nullable=False),
        sa.Column("subject", sa.String(96), nullable=False),
        sa.Column("booking_id", sa.BigInteger, sa.ForeignKey("bookings.id"), nullable=True),
        sa.Column("phone_enc", sa.Text, nullable=True),
        sa.Column("params", sa.JSON, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("next_attempt_at", TZ, nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("sent_at", TZ, nullable=True),
        sa.Column("gateway", sa.String(16), nullable=True),
        sa.Column("gateway_message_id", sa.String(64), nullable=True),
        sa.Column("last_error", sa.String(200), nullable=True),
    )
    op.create_index("uq_sms_outbox_event_subject", "sms_outbox", ["event", "subject"], unique=True)
    op.create_index(
        "ix_sms_outbox_due",
        "sms_outbox",
        ["next_attempt_at"],
        postgresql_where=sa.text("status = 'queued'"),
    )
    op.create_index("ix_sms_outbox_booking", "sms_outbox", ["booking_id"])
    op.create_table(
        "sms_receipts",
        sa.Column("id", sa.BigInteger, primary_key=True),
        sa.Column("gateway", sa.String(16), nullable=False),
        sa.Column("message_id", sa.String(64), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("received_at", TZ, nullable=False),
    )
    op.create_index(
        "uq_sms_receipts_gateway_message", "sms_receipts", ["gateway", "message_id"], unique=True
    )
    op.create_table(
        "sms_opt_outs",
        sa.Column("phone_hash", sa.String(64), primary_key=True),
        sa.Column("via", sa.String(64), nullable=False),
        sa.Column("at", TZ, nullable=False),
    )
    op.create_table(
        "sms_templates",
        sa.Column("event", sa.String(32), primary_key=True),
        sa.Column("text", sa.String(500), nullable=False),
        sa.Column("updated_by", sa.String(64), nullable=False),
        sa.Column("updated_at", TZ, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("sms_templates")
    op.drop_table("sms_opt_outs")
    op.drop_table("sms_receipts")
    op.drop_table("sms_outbox")
