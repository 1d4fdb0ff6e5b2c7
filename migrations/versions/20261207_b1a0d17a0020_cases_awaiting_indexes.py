"""cases: the awaiting queue and one's own open cases, each from an index of its own

A street's awaiting queue ("reported, or open without a handler") and its badge were read
by combining city-wide bitmaps of the states and of the cases without a handler (16 ms for a
street of 26,000 cases in a city of a million); an index of just the awaiting cases by grid
answers them from the street's few hundred entries (2 ms). The open cases by handler serve
the same queues' "or handled by me" part and the "mine" queue's open cases.

Revision ID: b1a0d17a0020
Revises: b1a0d17a0019
Create Date: 2026-12-07
"""
import sqlalchemy as sa
from alembic import op

revision = 'b1a0d17a0020'
down_revision = 'b1a0d17a0019'
branch_labels = None
depends_on = None

OPEN = "state IN ('reported', 'accepted', 'in_mediation')"
# mediation/cases/queries.py, case_list: the "awaiting" queue.
AWAITING = sa.text(f"state = 'reported' OR ({OPEN} AND handler_id IS NULL)")


def upgrade():
    op.create_index('ix_cases_awaiting_grid', 'cases', ['grid_id'],
                    postgresql_where=AWAITING, sqlite_where=AWAITING)
    op.create_index('ix_cases_open_handler', 'cases', ['handler_id'],
                    postgresql_where=sa.text(OPEN), sqlite_where=sa.text(OPEN))


def downgrade():
    op.drop_index('ix_cases_open_handler', table_name='cases')
    op.drop_index('ix_cases_awaiting_grid', table_name='cases')
