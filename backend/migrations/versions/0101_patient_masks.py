"""patients: the masked name, ID number and phone, stored at registration

Revision ID: 0101_patient_masks
Revises: 0100_booking

The public API and the desk show these masked forms; storing them means a masked receipt needs
no decryption, so the web tier holds no plaintext for it. Rows registered before this revision
keep NULL and are masked from their decrypted values when read (the migration has no data key).
"""

import sqlalchemy as sa
from alembic import op

revision = "0101_patient_masks"
down_revision = "0100_booking"
branch_labels = None
depends_on = None

COLUMNS = ("name_masked", "id_masked", "phone_masked")


def upgrade() -> None:
    for name in COLUMNS:
        op.add_column("patients", sa.Column(name, sa.String(64), nullable=True))


def downgrade() -> None:
    for name in COLUMNS:
        op.drop_column("patients", name)
