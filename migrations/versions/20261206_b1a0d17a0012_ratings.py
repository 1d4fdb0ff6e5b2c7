"""ratings: each party's rating of the service after its case's outcome (满意度评价)

Revision ID: b1a0d17a0012
Revises: b1a0d17a0011
Create Date: 2026-12-06
"""
from alembic import op
import sqlalchemy as sa

revision = 'b1a0d17a0012'
down_revision = 'b1a0d17a0011'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'ratings',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('case_id', sa.Integer(), nullable=False),
        sa.Column('party_id', sa.Integer(), nullable=False),
        sa.Column('satisfaction', sa.Enum('satisfied', 'fairly_satisfied', 'unsatisfied',
                                          name='satisfaction', native_enum=False,
                                          create_constraint=True, length=20),
                  nullable=False),
        sa.Column('comment', sa.Text(), nullable=True),
        sa.Column('rated_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['case_id'], ['cases.id'],
                                name=op.f('fk_ratings_case_id_cases'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['party_id'], ['parties.id'],
                                name=op.f('fk_ratings_party_id_parties'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_ratings')),
        sa.UniqueConstraint('party_id', name=op.f('uq_ratings_party_id')),
    )
    op.create_index(op.f('ix_ratings_case_id'), 'ratings', ['case_id'])


def downgrade():
    op.drop_index(op.f('ix_ratings_case_id'), table_name='ratings')
    op.drop_table('ratings')
