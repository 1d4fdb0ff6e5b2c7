"""webhooks: subscribers, the outbox of events, deliveries and their attempts; the hotline's
ticket number on cases

Integrators (the 12345 hotline first) register as subscribers and are sent the events of
the cases in their area, signed with a secret kept encrypted; an event is written with the
change it reports and delivered at least once by ``flask deliver-webhooks``.

cases.hotline_ticket is the hotline's own ticket number (工单号), only on a case from the
hotline. SQLite adds it with ALTER TABLE ADD COLUMN and its CHECK as a column constraint
(it names source, which is fine for SQLite): copying the cases table would cascade to its
children (see b1a0d17a0013). Every existing row starts NULL, which the CHECK allows; the
downgrade drops the column, its constraint with it (SQLite 3.35+: no copy either).

Revision ID: b1a0d17a0022
Revises: b1a0d17a0021
Create Date: 2026-12-07
"""
import sqlalchemy as sa
from alembic import op

revision = 'b1a0d17a0022'
down_revision = 'b1a0d17a0021'
branch_labels = None
depends_on = None

EVENT_TYPES = ('case.created', 'case.accepted', 'case.declined', 'case.escalated',
               'case.settled', 'case.failed', 'case.closed', 'session.booked',
               'session.moved', 'session.cancelled', 'agreement.issued', 'confirmation.ruled')
TICKET_CHECK = "hotline_ticket IS NULL OR source = 'hotline'"


def upgrade():
    op.create_table(
        'webhook_subscribers',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=80), nullable=False),
        sa.Column('url', sa.String(length=500), nullable=False),
        sa.Column('event_types', sa.JSON(), nullable=False),
        sa.Column('area_id', sa.Integer(), nullable=True),
        sa.Column('secret_encrypted', sa.Text(), nullable=False),
        sa.Column('secret_set_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('consecutive_failures', sa.Integer(), nullable=False),
        sa.Column('paused_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('paused_by_id', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('created_by_id', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['area_id'], ['area_nodes.id'],
                                name=op.f('fk_webhook_subscribers_area_id_area_nodes'),
                                ondelete='RESTRICT'),
        sa.ForeignKeyConstraint(['created_by_id'], ['users.id'],
                                name=op.f('fk_webhook_subscribers_created_by_id_users'),
                                ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['paused_by_id'], ['users.id'],
                                name=op.f('fk_webhook_subscribers_paused_by_id_users'),
                                ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_webhook_subscribers')),
    )
    op.create_index(op.f('ix_webhook_subscribers_area_id'), 'webhook_subscribers', ['area_id'])

    op.create_table(
        'webhook_events',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('uuid', sa.String(length=36), nullable=False),
        sa.Column('type', sa.Enum(*EVENT_TYPES, name='type', native_enum=False,
                                  create_constraint=True, length=40), nullable=False),
        sa.Column('occurred_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('case_id', sa.Integer(), nullable=True),
        sa.Column('case_number', sa.String(length=16), nullable=False),
        sa.Column('body', sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(['case_id'], ['cases.id'],
                                name=op.f('fk_webhook_events_case_id_cases'), ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_webhook_events')),
        sa.UniqueConstraint('uuid', name=op.f('uq_webhook_events_uuid')),
    )
    op.create_index(op.f('ix_webhook_events_case_id'), 'webhook_events', ['case_id'])
    op.create_index(op.f('ix_webhook_events_occurred_at'), 'webhook_events', ['occurred_at'])

    op.create_table(
        'webhook_deliveries',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('event_id', sa.Integer(), nullable=False),
        sa.Column('subscriber_id', sa.Integer(), nullable=False),
        sa.Column('status', sa.Enum('pending', 'delivered', 'failed', name='status',
                                    native_enum=False, create_constraint=True, length=20),
                  nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('last_status_code', sa.Integer(), nullable=True),
        sa.Column('last_error', sa.String(length=300), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('delivered_at', sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("(status = 'delivered') = (delivered_at IS NOT NULL)",
                           name=op.f('ck_webhook_deliveries_delivered_at_iff_delivered')),
        sa.CheckConstraint("(status = 'pending') = (next_attempt_at IS NOT NULL)",
                           name=op.f('ck_webhook_deliveries_next_attempt_iff_pending')),
        sa.ForeignKeyConstraint(['event_id'], ['webhook_events.id'],
                                name=op.f('fk_webhook_deliveries_event_id_webhook_events'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(
            ['subscriber_id'], ['webhook_subscribers.id'],
            name=op.f('fk_webhook_deliveries_subscriber_id_webhook_subscribers'),
            ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_webhook_deliveries')),
        sa.UniqueConstraint('event_id', 'subscriber_id',
                            name=op.f('uq_webhook_deliveries_event_id_subscriber_id')),
    )
    op.create_index(op.f('ix_webhook_deliveries_created_at'), 'webhook_deliveries',
                    ['created_at'])
    op.create_index('ix_webhook_deliveries_status_next_attempt_at', 'webhook_deliveries',
                    ['status', 'next_attempt_at'])
    op.create_index(op.f('ix_webhook_deliveries_subscriber_id'), 'webhook_deliveries',
                    ['subscriber_id'])

    op.create_table(
        'webhook_attempts',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('delivery_id', sa.Integer(), nullable=False),
        sa.Column('attempted_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('status_code', sa.Integer(), nullable=True),
        sa.Column('error', sa.String(length=300), nullable=True),
        sa.Column('duration_ms', sa.Integer(), nullable=False),
        sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint('status_code IS NOT NULL OR error IS NOT NULL',
                           name=op.f('ck_webhook_attempts_has_outcome')),
        sa.ForeignKeyConstraint(['delivery_id'], ['webhook_deliveries.id'],
                                name=op.f('fk_webhook_attempts_delivery_id_webhook_deliveries'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_webhook_attempts')),
    )
    op.create_index(op.f('ix_webhook_attempts_delivery_id'), 'webhook_attempts',
                    ['delivery_id'])

    if op.get_bind().dialect.name == 'sqlite':
        op.execute("ALTER TABLE cases ADD COLUMN hotline_ticket VARCHAR(40) CONSTRAINT "
                   f"ck_cases_hotline_ticket_of_hotline CHECK ({TICKET_CHECK})")
    else:
        op.add_column('cases', sa.Column('hotline_ticket', sa.String(length=40)))
        op.create_check_constraint(op.f('ck_cases_hotline_ticket_of_hotline'), 'cases',
                                   sa.text(TICKET_CHECK))


def downgrade():
    if op.get_bind().dialect.name == 'sqlite':
        op.execute("ALTER TABLE cases DROP COLUMN hotline_ticket")
    else:
        op.drop_constraint(op.f('ck_cases_hotline_ticket_of_hotline'), 'cases', type_='check')
        op.drop_column('cases', 'hotline_ticket')
    op.drop_index(op.f('ix_webhook_attempts_delivery_id'), table_name='webhook_attempts')
    op.drop_table('webhook_attempts')
    for name in ('ix_webhook_deliveries_subscriber_id',
                 'ix_webhook_deliveries_status_next_attempt_at',
                 'ix_webhook_deliveries_created_at'):
        op.drop_index(op.f(name), table_name='webhook_deliveries')
    op.drop_table('webhook_deliveries')
    op.drop_index(op.f('ix_webhook_events_occurred_at'), table_name='webhook_events')
    op.drop_index(op.f('ix_webhook_events_case_id'), table_name='webhook_events')
    op.drop_table('webhook_events')
    op.drop_index(op.f('ix_webhook_subscribers_area_id'), table_name='webhook_subscribers')
    op.drop_table('webhook_subscribers')
