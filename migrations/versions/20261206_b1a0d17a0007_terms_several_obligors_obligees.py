"""terms several obligors obligees: agreement_term_parties (a party per row, as obligor
or obligee, an obligor's share) and agreement_terms.liability (joint or by shares); the
single obligor_id/obligee_id columns move into the new table and are dropped

Revision ID: b1a0d17a0007
Revises: b1a0d17a0006
Create Date: 2026-12-06
"""
from contextlib import contextmanager

import sqlalchemy as sa
from alembic import op

revision = 'b1a0d17a0007'
down_revision = 'b1a0d17a0006'
branch_labels = None
depends_on = None

# The tables whose rows cascade from agreement_terms.
CHILDREN = ('agreement_instalments', 'agreement_term_parties')


@contextmanager
def _recreating_terms():
    """SQLite changes agreement_terms by copying it to a new table and dropping the old one;
    with foreign keys on, that drop deletes the rows cascading from it (instalments, bound
    parties). Keep them aside meanwhile and put them back."""
    sqlite = op.get_bind().dialect.name == 'sqlite'
    kept = [name for name in CHILDREN if sqlite and sa.inspect(op.get_bind()).has_table(name)]
    for name in kept:
        op.execute(f'CREATE TEMP TABLE keep_{name} AS SELECT * FROM {name}')
    # Reflecting only this table: the tables it refers to lead on to users, whose expression
    # index SQLite's reflection cannot read (and warns about).
    with op.batch_alter_table('agreement_terms', schema=None,
                              reflect_kwargs={'resolve_fks': False}) as batch_op:
        yield batch_op
    for name in kept:
        op.execute(f'DELETE FROM {name}')
        op.execute(f'INSERT INTO {name} SELECT * FROM temp.keep_{name}')
        op.execute(f'DROP TABLE temp.keep_{name}')


def upgrade():
    op.create_table(
        'agreement_term_parties',
        sa.Column('term_id', sa.Integer(), nullable=False),
        sa.Column('party_id', sa.Integer(), nullable=False),
        sa.Column('side', sa.Enum('obligor', 'obligee', name='side', native_enum=False,
                                  create_constraint=True, length=20), nullable=False),
        sa.Column('position', sa.Integer(), nullable=False),
        sa.Column('share_fen', sa.BigInteger(), nullable=True),
        sa.CheckConstraint("share_fen IS NULL OR (share_fen > 0 AND side = 'obligor')",
                           name=op.f('ck_agreement_term_parties_share_of_an_obligor')),
        sa.ForeignKeyConstraint(['party_id'], ['parties.id'],
                                name=op.f('fk_agreement_term_parties_party_id_parties'),
                                ondelete='RESTRICT'),
        sa.ForeignKeyConstraint(['term_id'], ['agreement_terms.id'],
                                name=op.f('fk_agreement_term_parties_term_id_agreement_terms'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('term_id', 'party_id', name=op.f('pk_agreement_term_parties')),
    )
    with op.batch_alter_table('agreement_term_parties', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_agreement_term_parties_party_id'), ['party_id'],
                              unique=False)

    # Every existing term had one obligor and at most one obligee: move them over.
    op.execute("INSERT INTO agreement_term_parties (term_id, party_id, side, position) "
               "SELECT id, obligor_id, 'obligor', 0 FROM agreement_terms "
               "WHERE obligor_id IS NOT NULL")
    op.execute("INSERT INTO agreement_term_parties (term_id, party_id, side, position) "
               "SELECT id, obligee_id, 'obligee', 1 FROM agreement_terms "
               "WHERE obligee_id IS NOT NULL "
               "AND (obligor_id IS NULL OR obligee_id <> obligor_id)")

    with _recreating_terms() as batch_op:
        batch_op.add_column(sa.Column('liability', sa.String(length=20), nullable=True))
        batch_op.create_check_constraint('liability',
                                         sa.column('liability').in_(('joint', 'several')))
        batch_op.drop_constraint(batch_op.f('fk_agreement_terms_obligor_id_parties'),
                                 type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_agreement_terms_obligee_id_parties'),
                                 type_='foreignkey')
        batch_op.drop_column('obligee_id')
        batch_op.drop_column('obligor_id')


def downgrade():
    """Back to one obligor and one obligee per term: the first of each is kept, the others
    and the liability are lost."""
    with _recreating_terms() as batch_op:
        batch_op.add_column(sa.Column('obligor_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('obligee_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_agreement_terms_obligor_id_parties'),
                                    'parties', ['obligor_id'], ['id'], ondelete='RESTRICT')
        batch_op.create_foreign_key(batch_op.f('fk_agreement_terms_obligee_id_parties'),
                                    'parties', ['obligee_id'], ['id'], ondelete='RESTRICT')
    for side in ('obligor', 'obligee'):
        op.execute(
            f"UPDATE agreement_terms SET {side}_id = ("
            "SELECT p.party_id FROM agreement_term_parties p "
            f"WHERE p.term_id = agreement_terms.id AND p.side = '{side}' "
            "ORDER BY p.position, p.party_id LIMIT 1)")
    with _recreating_terms() as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_agreement_terms_liability'), type_='check')
        batch_op.drop_column('liability')
    with op.batch_alter_table('agreement_term_parties', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_agreement_term_parties_party_id'))
    op.drop_table('agreement_term_parties')
