"""search bigrams written by the application: a plain column instead of a generated one

The server computed ``case_search.bigrams`` with an SQL function whose ``substr`` over
multibyte text costs time in the square of the body's length (about half a millisecond a
body: nine of a million-case load's minutes). The application computes the same distinct
pairs in microseconds (mediation/cases/search.py, ``bigrams``) and now writes them with the
body; the column keeps its values, its GIN index, and must be given (NOT NULL).

PostgreSQL only: SQLite has no such column.

Revision ID: b1a0d17a0019
Revises: b1a0d17a0018
Create Date: 2026-12-07
"""
from alembic import op

revision = 'b1a0d17a0019'
down_revision = 'b1a0d17a0018'
branch_labels = None
depends_on = None


def upgrade():
    if op.get_bind().dialect.name != 'postgresql':
        return
    op.execute("ALTER TABLE case_search ALTER COLUMN bigrams DROP EXPRESSION")
    op.execute("ALTER TABLE case_search ALTER COLUMN bigrams SET NOT NULL")
    op.execute("DROP FUNCTION mediation_bigrams(text)")


def downgrade():
    if op.get_bind().dialect.name != 'postgresql':
        return
    op.execute("""
        CREATE FUNCTION mediation_bigrams(body text) RETURNS text[]
        LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
            SELECT coalesce(array_agg(DISTINCT pg_catalog.substr(body, i, 2)), '{}')
            FROM pg_catalog.generate_series(1, pg_catalog.char_length(body) - 1) AS i
        $$""")
    op.execute("ALTER TABLE case_search DROP COLUMN bigrams")
    op.execute("ALTER TABLE case_search ADD COLUMN bigrams text[] "
               "GENERATED ALWAYS AS (mediation_bigrams(body)) STORED")
    op.execute("CREATE INDEX ix_case_search_bigrams ON case_search USING gin (bigrams)")
