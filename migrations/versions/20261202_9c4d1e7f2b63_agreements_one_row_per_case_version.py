"""agreements: one row per case and version (two drafts started at once cannot both stay)

Revision ID: 9c4d1e7f2b63
Revises: 5b7e2c1d9a40
Create Date: 2026-12-02 09:00:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '9c4d1e7f2b63'
down_revision = '5b7e2c1d9a40'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index('uq_agreements_case_version', 'agreements', ['case_id', 'version'],
                    unique=True)


def downgrade():
    op.drop_index('uq_agreements_case_version', table_name='agreements')
