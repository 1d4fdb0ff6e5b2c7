"""parties: nationality, a passport's issuing country, a Hong Kong/Macao/Taiwan home region

Foreign parties read as "美国国籍" instead of an ethnicity in the agreement; residents of Hong
Kong, Macao and Taiwan as "香港特别行政区居民". The region is read off the document number
when it is saved; numbers already recorded are encrypted, so only the Taiwan travel permit
(always Taiwan) is filled in here.

Revision ID: b1a0d17a0008
Revises: b1a0d17a0007
Create Date: 2026-12-06
"""
import warnings

from alembic import op
import sqlalchemy as sa

revision = 'b1a0d17a0008'
down_revision = 'b1a0d17a0007'
branch_labels = None
depends_on = None

parties = sa.table("parties", sa.column("id_type", sa.String(30)),
                   sa.column("home_region", sa.String(20)))


def _batch():
    """Batch mode (SQLite rebuilds the table from its reflection; the users table's
    expression index, reached through the foreign keys, cannot be reflected and is not
    needed)."""
    warnings.filterwarnings("ignore", "Skipped unsupported reflection")
    return op.batch_alter_table('parties', schema=None)


def upgrade():
    with warnings.catch_warnings(), _batch() as batch_op:
        batch_op.add_column(sa.Column('nationality', sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column('id_issuing_country', sa.String(length=40),
                                      nullable=True))
        batch_op.add_column(sa.Column('home_region', sa.Enum(
            'hong_kong', 'macao', 'taiwan', name='home_region', native_enum=False,
            create_constraint=True, length=20), nullable=True))
        batch_op.create_check_constraint(
            'issuing_country_of_passports',
            "id_issuing_country IS NULL OR id_type = 'passport'")
    op.execute(parties.update().where(parties.c.id_type == 'taiwan_permit')
               .values(home_region='taiwan'))


def downgrade():
    with warnings.catch_warnings(), _batch() as batch_op:
        batch_op.drop_constraint(op.f('ck_parties_issuing_country_of_passports'),
                                 type_='check')
        batch_op.drop_constraint(op.f('ck_parties_home_region'), type_='check')
        batch_op.drop_column('home_region')
        batch_op.drop_column('id_issuing_country')
        batch_op.drop_column('nationality')
