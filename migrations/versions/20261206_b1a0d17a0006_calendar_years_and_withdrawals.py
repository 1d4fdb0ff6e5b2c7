"""calendar years marked complete; deadlines moved by the calendar: timeline kind
'deadline', proposals 'withdrawn', supervision notices withdrawn

Revision ID: b1a0d17a0006
Revises: b1a0d17a0005
Create Date: 2026-12-06
"""
import warnings

from alembic import op
import sqlalchemy as sa

revision = 'b1a0d17a0006'
down_revision = 'b1a0d17a0005'
branch_labels = None
depends_on = None

EVENT_KINDS = ('state', 'level', 'note', 'opinion', 'proposal', 'supervision', 'help',
               'assignment', 'party', 'attachment', 'follow_up', 'session', 'agreement')
PROPOSAL_STATUSES = ('open', 'confirmed', 'dismissed')


def _batch(table):
    """Batch mode (SQLite recreates the table, reflecting it and the tables it refers to;
    the users table's expression index cannot be reflected and is not needed)."""
    warnings.filterwarnings("ignore", "Skipped unsupported reflection")
    return op.batch_alter_table(table, schema=None)


def _checks(kinds, statuses):
    """Both are CHECK constraints: replace them."""
    with _batch('case_events') as batch_op:
        batch_op.drop_constraint(op.f('ck_case_events_kind'), type_='check')
        batch_op.create_check_constraint('kind', sa.column('kind').in_(kinds))
    with _batch('escalation_proposals') as batch_op:
        batch_op.drop_constraint(op.f('ck_escalation_proposals_status'), type_='check')
        batch_op.create_check_constraint('status', sa.column('status').in_(statuses))


def _auto_notices_index(where):
    """One automatic notice per case, level and deadline: withdrawn ones do not count."""
    op.drop_index('uq_supervision_notices_auto', table_name='supervision_notices')
    op.create_index('uq_supervision_notices_auto', 'supervision_notices',
                    ['case_id', 'level', 'deadline'], unique=True,
                    sqlite_where=sa.text(where), postgresql_where=sa.text(where))


def upgrade():
    with warnings.catch_warnings():
        _upgrade()


def downgrade():
    with warnings.catch_warnings():
        _downgrade()


def _upgrade():
    op.create_table(
        'calendar_years',
        sa.Column('year', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('marked_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('marked_by_id', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['marked_by_id'], ['users.id'],
                                name=op.f('fk_calendar_years_marked_by_id_users'),
                                ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('year', name=op.f('pk_calendar_years')),
    )
    with _batch('supervision_notices') as batch_op:
        batch_op.add_column(sa.Column('withdrawn_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('withdrawn_reason', sa.Text(), nullable=True))
    _checks(EVENT_KINDS + ('deadline',), PROPOSAL_STATUSES + ('withdrawn',))
    _auto_notices_index("automatic AND withdrawn_at IS NULL")


def _downgrade():
    # The moves stay on the timelines as notes; what was withdrawn goes (the timelines
    # keep its record), rather than passing for a person's dismissal or an open notice.
    op.execute("UPDATE case_events SET kind = 'note' WHERE kind = 'deadline'")
    op.execute("DELETE FROM escalation_proposals WHERE status = 'withdrawn'")
    op.execute("DELETE FROM supervision_notices WHERE withdrawn_at IS NOT NULL")
    _auto_notices_index("automatic")
    _checks(EVENT_KINDS, PROPOSAL_STATUSES)
    with _batch('supervision_notices') as batch_op:
        batch_op.drop_column('withdrawn_reason')
        batch_op.drop_column('withdrawn_at')
    op.drop_table('calendar_years')
