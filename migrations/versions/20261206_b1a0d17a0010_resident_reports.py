"""resident reports: the case source 'resident_report' (居民线上申请)

cases.source is a VARCHAR with a CHECK listing the sources. PostgreSQL replaces the CHECK.
SQLite cannot alter a CHECK but by copying the table, and the copy's DROP TABLE cases would
delete every row cascading from the cases (parties, timelines, sessions, agreements...):
foreign keys are on for every connection, and PRAGMA foreign_keys cannot be switched off
inside the migration's transaction. Widening a CHECK changes nothing on disk, so SQLite's
documented way for it is taken instead (https://sqlite.org/lang_altertable.html, "making
other kinds of table schema changes"): the CREATE TABLE text in sqlite_schema is edited
under writable_schema, the schema version raised, and the schema checked.

Revision ID: b1a0d17a0010
Revises: b1a0d17a0009
Create Date: 2026-12-06
"""
import re

import sqlalchemy as sa
from alembic import op

revision = 'b1a0d17a0010'
down_revision = 'b1a0d17a0009'
branch_labels = None
depends_on = None

SOURCES = ('party_application', 'committee_initiative', 'grid_patrol', 'walk_in', 'hotline',
           'police_referral', 'court_referral')
NEW = 'resident_report'
# What a resident's report counts as at the older revision: the party's own application.
OLDER = 'party_application'
CHECK = re.compile(r"CONSTRAINT ck_cases_source CHECK \(source IN \([^()]*\)\)")


def _sqlite_check(sources) -> None:
    """Put the source CHECK listing ``sources`` into the cases table's stored definition."""
    bind = op.get_bind()
    sql = bind.execute(sa.text("SELECT sql FROM sqlite_master "
                               "WHERE type = 'table' AND name = 'cases'")).scalar_one()
    listed = ", ".join(f"'{source}'" for source in sources)
    new_sql, found = CHECK.subn(
        f"CONSTRAINT ck_cases_source CHECK (source IN ({listed}))", sql)
    if found != 1:
        raise RuntimeError("The cases table's source CHECK is not as the migrations made it; "
                           "nothing was changed. Change it by hand (see this revision's "
                           "docstring).")
    version = bind.exec_driver_sql("PRAGMA schema_version").scalar_one()
    bind.exec_driver_sql("PRAGMA writable_schema = ON")
    try:
        bind.execute(sa.text("UPDATE sqlite_master SET sql = :sql "
                             "WHERE type = 'table' AND name = 'cases'"), {"sql": new_sql})
        bind.exec_driver_sql(f"PRAGMA schema_version = {int(version) + 1}")
    finally:
        bind.exec_driver_sql("PRAGMA writable_schema = OFF")
    problems = [row[0] for row in bind.exec_driver_sql("PRAGMA integrity_check")]
    if problems != ["ok"]:
        raise RuntimeError(f"The schema check failed after the change: {problems[:5]}")


def _check(sources) -> None:
    if op.get_bind().dialect.name == 'sqlite':
        _sqlite_check(sources)
        return
    op.drop_constraint(op.f('ck_cases_source'), 'cases', type_='check')
    op.create_check_constraint(op.f('ck_cases_source'), 'cases',
                               sa.column('source').in_(sources))


def upgrade():
    _check(SOURCES + (NEW,))


def downgrade():
    op.execute(sa.text("UPDATE cases SET source = :older WHERE source = :new")
               .bindparams(older=OLDER, new=NEW))
    _check(SOURCES)
