"""ratings.rated_at, judicial_confirmations.filed_on: the statistics read a period's ratings
and applications from an index instead of reading every row

Revision ID: b1a0d17a0015
Revises: b1a0d17a0014
Create Date: 2026-12-06
"""
from alembic import op

revision = 'b1a0d17a0015'
down_revision = 'b1a0d17a0014'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index(op.f('ix_ratings_rated_at'), 'ratings', ['rated_at'])
    op.create_index(op.f('ix_judicial_confirmations_filed_on'), 'judicial_confirmations',
                    ['filed_on'])


def downgrade():
    op.drop_index(op.f('ix_judicial_confirmations_filed_on'),
                  table_name='judicial_confirmations')
    op.drop_index(op.f('ix_ratings_rated_at'), table_name='ratings')
