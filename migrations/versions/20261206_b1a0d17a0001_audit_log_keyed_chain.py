"""Audit log: keyed chain, TRUNCATE refused

Entries written so far keep their plain SHA-256 (hash_scheme 'sha256'); new ones are
HMAC-SHA256 under AUDIT_KEY, the first of them a marker (audit.keyed) that signs the last
old hash. No row is rewritten: the table refuses UPDATE, and the old hashes must stay as
they are to verify. Plain ALTER TABLE (no batch copy on SQLite), so
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
    # The entries so far are signed over by a marker: a signed entry that follows unsigned
    # ones without it was appended to a log rewritten without the key.
    from flask import current_app

    from mediation.core import audit

    key = current_app.config.get("AUDIT_KEY")
    has_entries = op.get_bind().scalar(sa.text("SELECT count(*) FROM audit_log"))
    if has_entries and not key:
        raise RuntimeError("Set AUDIT_KEY before upgrading: the audit log's entries so far "
                           "are signed over now.")
    if has_entries:
        audit.mark_keyed(op.get_bind(), key.encode("utf-8"))
    if op.get_bind().dialect.name == "postgresql":
        # Row triggers do not see TRUNCATE; a statement trigger does. (SQLite has no
        # TRUNCATE: its DELETE without WHERE already meets the row trigger.)
        op.execute("""
            CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
            FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only()
        """)


def downgrade():
    # The code before this revision knows only plain SHA-256: it would call every signed
    # entry broken, and with the column gone no entry could say how it was signed.
    signed = op.get_bind().scalar(sa.text(
        "SELECT count(*) FROM audit_log WHERE hash_scheme = 'hmac-sha256'"))
    if signed:
        raise RuntimeError(
            f"Refusing to downgrade: the audit log holds {signed} entries signed with "
            "AUDIT_KEY (hmac-sha256), which the code before this revision cannot verify. "
            "Stay on this revision or later.")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_truncate ON audit_log")
    op.drop_column('audit_log', 'hash_scheme')
