"""cases: indexes for the work queues at a city's size

The queues list cases soonest deadline first (level_deadline, then the newest report): with
an index in that order a page of the whole city's cases is the index's first rows. Open
cases, a tenth of a city's, get their own ordered index and one by grid, so that a
jurisdiction's open queues read only its open cases. The workbench's overdue terms of
agreements are found from an index of the unperformed overdue ones.

Revision ID: b1a0d17a0017
Revises: b1a0d17a0016
Create Date: 2026-12-06
"""
import sqlalchemy as sa
from alembic import op

revision = 'b1a0d17a0017'
down_revision = 'b1a0d17a0016'
branch_labels = None
depends_on = None

OPEN = sa.text("state IN ('reported', 'accepted', 'in_mediation')")
OVERDUE_TERM = sa.text("performed_on IS NULL AND overdue_since IS NOT NULL")
ORDER = [sa.text('level_deadline'), sa.text('reported_at DESC'), sa.text('id DESC')]


def upgrade():
    op.create_index('ix_cases_queue_order', 'cases', ORDER)
    op.create_index('ix_cases_open_queue_order', 'cases', ORDER,
                    postgresql_where=OPEN, sqlite_where=OPEN)
    op.create_index('ix_cases_open_grid', 'cases', ['grid_id'],
                    postgresql_where=OPEN, sqlite_where=OPEN)
    op.create_index('ix_agreement_terms_overdue', 'agreement_terms', ['overdue_since'],
                    postgresql_where=OVERDUE_TERM, sqlite_where=OVERDUE_TERM)


def downgrade():
    op.drop_index('ix_agreement_terms_overdue', table_name='agreement_terms')
    op.drop_index('ix_cases_open_grid', table_name='cases')
    op.drop_index('ix_cases_open_queue_order', table_name='cases')
    op.drop_index('ix_cases_queue_order', table_name='cases')
