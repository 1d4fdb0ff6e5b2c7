"""parties: identity numbers masked to their last four characters

The old mask kept the six region digits (110105********002X); with the birth date shown
beside it, the whole number could be read back. Only the kept tail is reused here, so the
encrypted numbers need not be decrypted. Agreements issued before keep the old mask in
their stored PDFs (issued documents are never regenerated); reading them is audited.

Revision ID: b1a0d17a0004
Revises: b1a0d17a0003
Create Date: 2026-12-06
"""
from alembic import op
import sqlalchemy as sa

revision = 'b1a0d17a0004'
down_revision = 'b1a0d17a0003'
branch_labels = None
depends_on = None

parties = sa.table("parties", sa.column("id", sa.Integer),
                   sa.column("id_number_masked", sa.String(40)))


def _remask(masked: str) -> str:
    # The old mask kept the last four of a number of 15 or more, the last two of a shorter one.
    keep = 4 if len(masked) >= 15 else 2 if len(masked) > 4 else 0
    return "*" * (len(masked) - keep) + masked[len(masked) - keep:]


def upgrade():
    conn = op.get_bind()
    rows = conn.execute(sa.select(parties.c.id, parties.c.id_number_masked)
                        .where(parties.c.id_number_masked.is_not(None))).all()
    for party_id, masked in rows:
        new = _remask(masked)
        if new != masked:
            conn.execute(parties.update().where(parties.c.id == party_id)
                         .values(id_number_masked=new))


def downgrade():
    # The region digits are gone from the mask; a downgrade keeps the shorter mask.
    pass
