"""sessions: legal-aid volunteers' duty hours

Revision ID: 3f9e25722e16
Revises: a6c44e6b1815
Create Date: 2026-11-23 18:24:59.474666

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '3f9e25722e16'
down_revision = 'a6c44e6b1815'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('volunteer_duties',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('centre_id', sa.Integer(), nullable=False),
    sa.Column('weekday', sa.Integer(), nullable=False),
    sa.Column('starts_at', sa.Time(), nullable=False),
    sa.Column('ends_at', sa.Time(), nullable=False),
    sa.CheckConstraint('ends_at > starts_at', name=op.f('ck_volunteer_duties_ends_after_start')),
    sa.CheckConstraint('weekday BETWEEN 0 AND 6', name=op.f('ck_volunteer_duties_weekday_range')),
    sa.ForeignKeyConstraint(['centre_id'], ['centres.id'], name=op.f('fk_volunteer_duties_centre_id_centres'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_volunteer_duties_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_volunteer_duties'))
    )
    with op.batch_alter_table('volunteer_duties', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_volunteer_duties_centre_id'), ['centre_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_volunteer_duties_user_id'), ['user_id'], unique=False)



def downgrade():
    with op.batch_alter_table('volunteer_duties', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_volunteer_duties_user_id'))
        batch_op.drop_index(batch_op.f('ix_volunteer_duties_centre_id'))

    op.drop_table('volunteer_duties')
