"""Audit log: keyed chain, TRUNCATE refused

Entries written so far keep their plain SHA-256 (hash_scheme 'sha256'); new ones are
HMAC-SHA256 under AUDIT_KEY. No row is rewritten: the table refuses UPDATE, and the old
hashes must stay as they are to verify. Plain ALTER TABLE (no batch copy on SQLite), so
the append-only triggers stay in place.

Revision ID: b1a0d17a0001
Revises: 9c4d1e7f2b63
Create Date: 2026-12-06
"""
from alembic import op
import sqlalchemy as sa

revision = 'b1a0d17a0001'
down_revision = '9c4d1e7f2b63'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('audit_log', sa.Column('hash_scheme', sa.String(length=16),
                                         server_default='sha256', nullable=False))
    if op.get_bind().dialect.name == "postgresql":
        # Row triggers do not see TRUNCATE; a statement trigger does. (SQLite has no
        # TRUNCATE: its DELETE without WHERE already meets the row trigger.)
        op.execute("""
            CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
            FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only()
        """)


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_truncate ON audit_log")
    op.drop_column('audit_log', 'hash_scheme')
