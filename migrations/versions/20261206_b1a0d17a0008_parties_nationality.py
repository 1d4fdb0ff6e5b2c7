"""parties: nationality, a passport's issuing country, a Hong Kong/Macao/Taiwan home region

Foreign parties read as "美国国籍" instead of an ethnicity in the agreement; residents of Hong
Kong, Macao and Taiwan as "香港特别行政区居民". The region is read off the document number
when it is saved; numbers already recorded are encrypted, so only the Taiwan travel permit
(always Taiwan) is filled in here.

Revision ID: b1a0d17a0008
Revises: b1a0d17a0007
Create Date: 2026-12-06
"""
import sqlite3

import sqlalchemy as sa
from alembic import op

revision = 'b1a0d17a0008'
down_revision = 'b1a0d17a0007'
branch_labels = None
depends_on = None

parties = sa.table("parties", sa.column("id_type", sa.String(30)),
                   sa.column("home_region", sa.String(20)))

# The CHECK constraints, named as the models name them (ck_%(table_name)s_%(constraint_name)s).
ISSUING_COUNTRY_CHECK = "id_issuing_country IS NULL OR id_type = 'passport'"
HOME_REGIONS = ('hong_kong', 'macao', 'taiwan')


def _sqlite() -> bool:
    return op.get_bind().dialect.name == 'sqlite'


def upgrade():
    if _sqlite():
        # Batch mode would copy parties to a new table and drop the old one: with foreign
        # keys on, that drop deletes the session participants cascading from the parties
        # (and fails once an agreement names them). SQLite adds a column with its own
        # CHECK in place instead (a column's CHECK may name other columns).
        regions = ", ".join(f"'{region}'" for region in HOME_REGIONS)
        op.execute("ALTER TABLE parties ADD COLUMN nationality VARCHAR(40)")
        op.execute("ALTER TABLE parties ADD COLUMN id_issuing_country VARCHAR(40) "
                   "CONSTRAINT ck_parties_issuing_country_of_passports "
                   f"CHECK ({ISSUING_COUNTRY_CHECK})")
        op.execute("ALTER TABLE parties ADD COLUMN home_region VARCHAR(20) "
                   f"CONSTRAINT ck_parties_home_region CHECK (home_region IN ({regions}))")
    else:
        with op.batch_alter_table('parties', schema=None) as batch_op:
            batch_op.add_column(sa.Column('nationality', sa.String(length=40), nullable=True))
            batch_op.add_column(sa.Column('id_issuing_country', sa.String(length=40),
                                          nullable=True))
            batch_op.add_column(sa.Column('home_region', sa.Enum(
                *HOME_REGIONS, name='home_region', native_enum=False,
                create_constraint=True, length=20), nullable=True))
            batch_op.create_check_constraint('issuing_country_of_passports',
                                             ISSUING_COUNTRY_CHECK)
    op.execute(parties.update().where(parties.c.id_type == 'taiwan_permit')
               .values(home_region='taiwan'))


def downgrade():
    if _sqlite():
        # In place as well (no copy of parties, see upgrade): DROP COLUMN, SQLite 3.35 on.
        # A column's own CHECK goes with it.
        if sqlite3.sqlite_version_info < (3, 35):
            raise RuntimeError(f"Going below {revision} on SQLite needs SQLite 3.35 or later "
                               f"(ALTER TABLE DROP COLUMN); this is {sqlite3.sqlite_version}.")
        for column in ('home_region', 'id_issuing_country', 'nationality'):
            op.execute(f"ALTER TABLE parties DROP COLUMN {column}")
        return
    with op.batch_alter_table('parties', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_parties_issuing_country_of_passports'),
                                 type_='check')
        batch_op.drop_constraint(op.f('ck_parties_home_region'), type_='check')
        batch_op.drop_column('home_region')
        batch_op.drop_column('id_issuing_country')
        batch_op.drop_column('nationality')
