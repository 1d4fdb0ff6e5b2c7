"""users: lockouts since the last successful login, for lockouts that grow

Revision ID: b1a0d17a0005
Revises: b1a0d17a0004
Create Date: 2026-12-06
"""
from alembic import op
import sqlalchemy as sa

revision = 'b1a0d17a0005'
down_revision = 'b1a0d17a0004'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('users', sa.Column('lockouts', sa.Integer(), server_default='0',
                                     nullable=False))


def downgrade():
    op.drop_column('users', 'lockouts')
