"""access codes: one per party, only a keyed hash kept

Revision ID: b1a0d17a0009
Revises: b1a0d17a0008
Create Date: 2026-12-06
"""
from alembic import op
import sqlalchemy as sa

revision = 'b1a0d17a0009'
down_revision = 'b1a0d17a0008'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'access_codes',
        sa.Column('party_id', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('code_hash', sa.String(length=64), nullable=False),
        sa.Column('issued_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('issued_by_id', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['party_id'], ['parties.id'],
                                name=op.f('fk_access_codes_party_id_parties'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['issued_by_id'], ['users.id'],
                                name=op.f('fk_access_codes_issued_by_id_users'),
                                ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('party_id', name=op.f('pk_access_codes')),
    )
    op.create_index(op.f('ix_access_codes_code_hash'), 'access_codes', ['code_hash'])


def downgrade():
    op.drop_index(op.f('ix_access_codes_code_hash'), table_name='access_codes')
    op.drop_table('access_codes')
