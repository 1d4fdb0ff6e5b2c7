"""sessions: minutes

Revision ID: 01f9a4c58934
Revises: 666318c29c5f
Create Date: 2026-11-23 18:12:49.336512

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '01f9a4c58934'
down_revision = '666318c29c5f'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('session_minutes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('session_id', sa.Integer(), nullable=False),
    sa.Column('recorder_id', sa.Integer(), nullable=True),
    sa.Column('matter', sa.Text(), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('outcome', sa.Enum('settled', 'partly', 'adjourned', 'failed', name='outcome', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('next_date', sa.Date(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['recorder_id'], ['users.id'], name=op.f('fk_session_minutes_recorder_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['session_id'], ['mediation_sessions.id'], name=op.f('fk_session_minutes_session_id_mediation_sessions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_session_minutes')),
    sa.UniqueConstraint('session_id', name=op.f('uq_session_minutes_session_id'))
    )


def downgrade():
    op.drop_table('session_minutes')
