"""cases: a jurisdiction's work queues read from indexes alone

A street's queues and their badges were read by combining city-wide bitmaps and visiting
the street's cases one heap page each (a street of 26,000 cases in a city of a million:
2,000 pages for its overdue badge). With the jurisdiction tested on the grid alone
(mediation/cases/access.py, ``case_scope``), these indexes answer them without the table:

- the awaiting cases ("reported, or open without a handler") by grid;
- the open cases by grid, carrying their deadlines (the overdue badge) and ids (the
  proposals badge), replacing the plain open-by-grid index of b1a0d17a0017;
- the two queue-order indexes carrying the grid, so that a page of a jurisdiction's queue is
  found by walking the order and testing the grid in the index.

On SQLite the carried columns are trailing key columns (it has no INCLUDE; its row id is in
every index).

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
AWAITING = f"state = 'reported' OR ({OPEN} AND handler_id IS NULL)"
ORDER = ['level_deadline', sa.text('reported_at DESC'), sa.text('id DESC')]


def _index(name: str, keys: list, carried: list[str], where: str | None = None) -> None:
    where = {} if where is None else {"postgresql_where": sa.text(where),
                                      "sqlite_where": sa.text(where)}
    if op.get_bind().dialect.name == 'postgresql':
        op.create_index(name, 'cases', keys, postgresql_include=carried, **where)
    else:
        op.create_index(name, 'cases', [*keys, *carried], **where)


def upgrade():
    op.create_index('ix_cases_awaiting_grid', 'cases', ['grid_id'],
                    postgresql_where=sa.text(AWAITING), sqlite_where=sa.text(AWAITING))
    op.drop_index('ix_cases_open_grid', table_name='cases')
    _index('ix_cases_open_grid', ['grid_id'], ['level_deadline', 'overall_deadline', 'id'],
           OPEN)
    op.drop_index('ix_cases_queue_order', table_name='cases')
    _index('ix_cases_queue_order', ORDER, ['grid_id'])
    op.drop_index('ix_cases_open_queue_order', table_name='cases')
    _index('ix_cases_open_queue_order', ORDER, ['grid_id'], OPEN)


def downgrade():
    for name in ('ix_cases_open_queue_order', 'ix_cases_queue_order', 'ix_cases_open_grid'):
        op.drop_index(name, table_name='cases')
    op.create_index('ix_cases_queue_order', 'cases', ORDER)
    op.create_index('ix_cases_open_queue_order', 'cases', ORDER,
                    postgresql_where=sa.text(OPEN), sqlite_where=sa.text(OPEN))
    op.create_index('ix_cases_open_grid', 'cases', ['grid_id'],
                    postgresql_where=sa.text(OPEN), sqlite_where=sa.text(OPEN))
    op.drop_index('ix_cases_awaiting_grid', table_name='cases')
