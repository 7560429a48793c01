"""telephony: ps_endpoints.media_encryption_optimistic (SRTP for desk phones that offer it)

Asterisk's own column (contrib/ast-db-manage, yesno_values). With media_encryption = sdes it
makes SRTP "best effort": a desk phone that offers SDES keys gets SRTP, one that does not
still gets its plain RTP call instead of a 488.

Revision ID: 0401_desk_phone_srtp
Revises: 0400_agent_phones
Create Date: 2026-12-03 09:00:00
"""

from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ENUM


revision = "0401_desk_phone_srtp"
down_revision = "0400_agent_phones"
branch_labels = None
depends_on = None


def upgrade() -> None:
    yesno = ENUM("yes", "no", name="yesno_values", create_type=False)
    op.add_column("ps_endpoints", sa.Column("media_encryption_optimistic", yesno, nullable=True))


def downgrade() -> None:
    op.drop_column("ps_endpoints", "media_encryption_optimistic")
