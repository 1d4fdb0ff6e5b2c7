"""sessions: reminders outbox

Revision ID: a6c44e6b1815
Revises: 01f9a4c58934
Create Date: 2026-11-23 18:14:11.941530

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a6c44e6b1815'
down_revision = '01f9a4c58934'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('outbox_messages',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('session_id', sa.Integer(), nullable=True),
    sa.Column('participant_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('channel', sa.Enum('email', 'sms', name='channel', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('recipient', sa.String(length=200), nullable=False),
    sa.Column('subject', sa.String(length=200), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('status', sa.Enum('pending', 'sent', 'failed', 'cancelled', name='status', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('exported_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['participant_id'], ['session_participants.id'], name=op.f('fk_outbox_messages_participant_id_session_participants'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['session_id'], ['mediation_sessions.id'], name=op.f('fk_outbox_messages_session_id_mediation_sessions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outbox_messages')),
    sa.UniqueConstraint('participant_id', 'kind', 'due_at', name=op.f('uq_outbox_messages_participant_id_kind_due_at'))
    )
    with op.batch_alter_table('outbox_messages', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_outbox_messages_session_id'), ['session_id'], unique=False)
        batch_op.create_index('ix_outbox_messages_status_due_at', ['status', 'due_at'], unique=False)


def downgrade():
    with op.batch_alter_table('outbox_messages', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_messages_status_due_at')
        batch_op.drop_index(batch_op.f('ix_outbox_messages_session_id'))

    op.drop_table('outbox_messages')
