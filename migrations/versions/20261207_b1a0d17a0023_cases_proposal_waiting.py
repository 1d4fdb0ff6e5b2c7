"""cases: the mark of a waiting escalation proposal; one's own cases from indexes alone

- ``cases.proposal_waiting``, kept from the proposals (mediation/cases/waiting.py) and set
  here from those open now, with the open cases so marked by grid, carrying the queue's
  order: a street's proposals queue and badge read 900 index entries, not one lookup in the
  proposals per open case of the street (2,600);
- one's open cases ("mine") in the queue's order, carrying the grid, and one's cases by grid
  (the cases one handles outside one's jurisdiction), replacing the plain index on the
  handler: a coordinator who has handled 600 cases read them all from the table twice a
  page.

On SQLite the carried columns are trailing key columns (it has no INCLUDE).

Revision ID: b1a0d17a0023
Revises: b1a0d17a0022
Create Date: 2026-12-07
"""
import sqlalchemy as sa
from alembic import op

revision = 'b1a0d17a0023'
down_revision = 'b1a0d17a0022'
branch_labels = None
depends_on = None

OPEN = "state IN ('reported', 'accepted', 'in_mediation')"
ORDER = ['level_deadline', sa.text('reported_at DESC'), sa.text('id DESC')]


def _index(name: str, keys: list, carried: list[str], where: str) -> None:
    where = {"postgresql_where": sa.text(where), "sqlite_where": sa.text(where)}
    if op.get_bind().dialect.name == 'postgresql':
        op.create_index(name, 'cases', keys, postgresql_include=carried, **where)
    else:
        op.create_index(name, 'cases', [*keys, *carried], **where)


def upgrade():
    op.add_column('cases', sa.Column('proposal_waiting', sa.Boolean(), nullable=False,
                                     server_default=sa.false()))
    op.execute("UPDATE cases SET proposal_waiting = TRUE WHERE id IN "
               "(SELECT case_id FROM escalation_proposals WHERE status = 'open')")
    _index('ix_cases_proposals_grid', ['grid_id'], ['level_deadline', 'reported_at', 'id'],
           f"proposal_waiting AND {OPEN}")
    _index('ix_cases_handler_queue', ['handler_id', *ORDER], ['grid_id'], "state <> 'closed'")
    op.create_index('ix_cases_handler_grid', 'cases', ['handler_id', 'grid_id', 'id'])
    op.drop_index('ix_cases_handler_id', table_name='cases')


def downgrade():
    op.create_index('ix_cases_handler_id', 'cases', ['handler_id'])
    for name in ('ix_cases_handler_grid', 'ix_cases_handler_queue', 'ix_cases_proposals_grid'):
        op.drop_index(name, table_name='cases')
    if op.get_bind().dialect.name == 'sqlite':
        op.execute("ALTER TABLE cases DROP COLUMN proposal_waiting")
    else:
        op.drop_column('cases', 'proposal_waiting')
