"""area nodes: address hints for picking a grid from an address

Revision ID: 40e4b6f4b78c
Revises: 0180e0aeb559
Create Date: 2026-11-23 17:41:45.667493

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '40e4b6f4b78c'
down_revision = '0180e0aeb559'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('area_nodes', schema=None) as batch_op:
        batch_op.add_column(sa.Column('address_hints', sa.Text(), nullable=True))



def downgrade():
    with op.batch_alter_table('area_nodes', schema=None) as batch_op:
        batch_op.drop_column('address_hints')

