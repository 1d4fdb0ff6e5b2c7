"""case_search: one searchable text per case, indexed for substrings on PostgreSQL

A search looks for its words anywhere in a case's number, title, narrative or address and in
its parties' names, phones and addresses. Each case's text is kept, lower-cased, in
case_search.body (mediation/cases/search.py keeps it current). On PostgreSQL the body's
distinct character bigrams are stored beside it (a generated column) with a GIN index that
answers two-character queries, and pg_trgm's GIN index over the body answers longer ones; SQLite
reads the one column. The case's grid is repeated beside it, so that a jurisdiction's
search is answered from this table's indexes.

Revision ID: b1a0d17a0016
Revises: b1a0d17a0015
Create Date: 2026-12-06
"""
import sqlalchemy as sa
from alembic import op

revision = 'b1a0d17a0016'
down_revision = 'b1a0d17a0015'
branch_labels = None
depends_on = None

BATCH = 5000


def _document(parts) -> str:
    # As mediation.cases.search.document at this revision.
    return "\n".join(part for part in parts if part).lower()


def _backfill(connection) -> None:
    cases = sa.table("cases", sa.column("id"), sa.column("grid_id"), sa.column("number"),
                     sa.column("title"), sa.column("narrative"), sa.column("address"))
    parties = sa.table("parties", sa.column("id"), sa.column("case_id"), sa.column("name"),
                       sa.column("phone"), sa.column("address"))
    search = sa.table("case_search", sa.column("case_id"), sa.column("grid_id"),
                      sa.column("body"))
    last = 0
    while True:
        rows = connection.execute(sa.select(cases).where(cases.c.id > last)
                                  .order_by(cases.c.id).limit(BATCH)).all()
        if not rows:
            return
        ids = [row.id for row in rows]
        people: dict[int, list] = {}
        for party in connection.execute(sa.select(parties).where(parties.c.case_id.in_(ids))
                                        .order_by(parties.c.id)):
            people.setdefault(party.case_id, []).extend([party.name, party.phone,
                                                         party.address])
        connection.execute(search.insert(), [
            {"case_id": row.id, "grid_id": row.grid_id,
             "body": _document([row.number, row.title, row.narrative, row.address,
                                *people.get(row.id, [])])}
            for row in rows])
        last = ids[-1]


def upgrade():
    op.create_table(
        'case_search',
        sa.Column('case_id', sa.Integer(), nullable=False),
        sa.Column('grid_id', sa.Integer(), nullable=False),
        sa.Column('body', sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(['case_id'], ['cases.id'],
                                name=op.f('fk_case_search_case_id_cases'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('case_id', name=op.f('pk_case_search')),
    )
    if op.get_bind().dialect.name == 'postgresql':
        # The body's distinct character pairs, kept beside it (the server computes them on
        # every write): a two-character query is one array element, found through the GIN
        # index and checked on a row without recomputing anything.
        op.execute("""
            CREATE FUNCTION mediation_bigrams(body text) RETURNS text[]
            LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
                SELECT coalesce(array_agg(DISTINCT pg_catalog.substr(body, i, 2)), '{}')
                FROM pg_catalog.generate_series(1, pg_catalog.char_length(body) - 1) AS i
            $$""")
        op.execute("ALTER TABLE case_search ADD COLUMN bigrams text[] "
                   "GENERATED ALWAYS AS (mediation_bigrams(body)) STORED")
    op.create_index(op.f('ix_case_search_grid_id'), 'case_search', ['grid_id'])
    _backfill(op.get_bind())
    if op.get_bind().dialect.name == 'postgresql':
        op.execute("CREATE INDEX ix_case_search_bigrams ON case_search USING gin (bigrams)")
        # pg_trgm is a trusted extension (PostgreSQL 13+): the database's owner may add it.
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA public")
        op.execute("CREATE INDEX ix_case_search_trigrams ON case_search "
                   "USING gin (body public.gin_trgm_ops)")


def downgrade():
    op.drop_table('case_search')
    if op.get_bind().dialect.name == 'postgresql':
        op.execute("DROP FUNCTION mediation_bigrams(text)")
