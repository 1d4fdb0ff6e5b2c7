"""an invited guest's phone: what the clash check knows a guest by

Invited guests (a doctor, a village head, a lawyer asked to explain the law) were not
checked for clashes: one person could be booked into two sessions at the same hour. A
guest is now known by a phone number where one is given (like a party's agent), else by
name and organisation; the phone is personal data like a party's, shown masked.

Revision ID: b1a0d17a0021
Revises: b1a0d17a0020
Create Date: 2026-12-07
"""
import sqlalchemy as sa
from alembic import op

revision = 'b1a0d17a0021'
down_revision = 'b1a0d17a0020'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('session_participants', sa.Column('phone', sa.String(length=20),
                                                    nullable=True))
    op.create_index('ix_session_participants_phone', 'session_participants', ['phone'])


def downgrade():
    op.drop_index('ix_session_participants_phone', table_name='session_participants')
    op.drop_column('session_participants', 'phone')
