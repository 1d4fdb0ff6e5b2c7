"""sessions: mediation sessions, participants; centre opening hours

Revision ID: 666318c29c5f
Revises: 40e4b6f4b78c
Create Date: 2026-11-23 18:01:57.518401

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '666318c29c5f'
down_revision = '40e4b6f4b78c'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('mediation_sessions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('starts_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ends_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('place_kind', sa.Enum('room', 'on_site', 'video', name='place_kind', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('room_id', sa.Integer(), nullable=True),
    sa.Column('address', sa.String(length=200), nullable=True),
    sa.Column('video_link', sa.String(length=300), nullable=True),
    sa.Column('purpose', sa.Text(), nullable=False),
    sa.Column('status', sa.Enum('planned', 'held', 'adjourned', 'cancelled', name='status', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('override_reason', sa.Text(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('cancelled_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('cancel_reason', sa.Text(), nullable=True),
    sa.Column('version', sa.Integer(), server_default=sa.text('1'), nullable=False),
    sa.CheckConstraint("(place_kind = 'room') = (room_id IS NOT NULL)", name=op.f('ck_mediation_sessions_room_iff_room')),
    sa.CheckConstraint("(status = 'cancelled') = (cancelled_at IS NOT NULL)", name=op.f('ck_mediation_sessions_cancelled_at_iff_cancelled')),
    sa.CheckConstraint('ends_at > starts_at', name=op.f('ck_mediation_sessions_ends_after_start')),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_mediation_sessions_case_id_cases'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_mediation_sessions_created_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['room_id'], ['rooms.id'], name=op.f('fk_mediation_sessions_room_id_rooms'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_mediation_sessions'))
    )
    with op.batch_alter_table('mediation_sessions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_mediation_sessions_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_mediation_sessions_room_id'), ['room_id'], unique=False)
        batch_op.create_index('ix_mediation_sessions_time', ['starts_at', 'ends_at'], unique=False)

    op.create_table('session_participants',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('session_id', sa.Integer(), nullable=False),
    sa.Column('role', sa.Enum('party', 'agent', 'lead_mediator', 'co_mediator', 'legal_aid', 'invited', name='role', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('party_id', sa.Integer(), nullable=True),
    sa.Column('name', sa.String(length=120), nullable=True),
    sa.Column('organisation', sa.String(length=120), nullable=True),
    sa.Column('attendance', sa.Enum('invited', 'confirmed', 'declined', 'attended', 'absent', name='attendance', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('consent_recorded', sa.Boolean(), nullable=False),
    sa.CheckConstraint('user_id IS NOT NULL OR party_id IS NOT NULL OR name IS NOT NULL', name=op.f('ck_session_participants_who')),
    sa.ForeignKeyConstraint(['party_id'], ['parties.id'], name=op.f('fk_session_participants_party_id_parties'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['session_id'], ['mediation_sessions.id'], name=op.f('fk_session_participants_session_id_mediation_sessions'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_session_participants_user_id_users'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_session_participants'))
    )
    with op.batch_alter_table('session_participants', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_session_participants_party_id'), ['party_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_session_participants_session_id'), ['session_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_session_participants_user_id'), ['user_id'], unique=False)

    with op.batch_alter_table('centres', schema=None) as batch_op:
        batch_op.add_column(sa.Column('opens_at', sa.Time(), server_default='08:30:00', nullable=False))
        batch_op.add_column(sa.Column('closes_at', sa.Time(), server_default='17:30:00', nullable=False))



def downgrade():
    with op.batch_alter_table('centres', schema=None) as batch_op:
        batch_op.drop_column('closes_at')
        batch_op.drop_column('opens_at')

    with op.batch_alter_table('session_participants', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_session_participants_user_id'))
        batch_op.drop_index(batch_op.f('ix_session_participants_session_id'))
        batch_op.drop_index(batch_op.f('ix_session_participants_party_id'))

    op.drop_table('session_participants')
    with op.batch_alter_table('mediation_sessions', schema=None) as batch_op:
        batch_op.drop_index('ix_mediation_sessions_time')
        batch_op.drop_index(batch_op.f('ix_mediation_sessions_room_id'))
        batch_op.drop_index(batch_op.f('ix_mediation_sessions_case_id'))

    op.drop_table('mediation_sessions')
