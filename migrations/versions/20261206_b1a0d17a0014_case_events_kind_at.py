"""case_events (kind, at): the statistics count a period's escalations from the index

The dashboard counts the cases moved up a level in a period from their timeline entries
of kind 'level' dated in it; without this index it reads every entry of every case.

Revision ID: b1a0d17a0014
Revises: b1a0d17a0013
Create Date: 2026-12-06
"""
from alembic import op

revision = 'b1a0d17a0014'
down_revision = 'b1a0d17a0013'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index('ix_case_events_kind_at', 'case_events', ['kind', 'at'])


def downgrade():
    op.drop_index('ix_case_events_kind_at', table_name='case_events')
