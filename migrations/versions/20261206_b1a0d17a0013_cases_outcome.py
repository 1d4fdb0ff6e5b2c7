"""cases.outcome: which outcome a case had, kept through follow-up and closure

Until now a case in follow-up or closed no longer said whether it had been settled, partly
settled, failed, withdrawn, declined or referred out (only settled_level hinted at it);
the statistics count by outcome. The upgrade fills the column from each case's timeline
(its latest change of state into an outcome) and, for a case still in its outcome state,
from the state itself; then two CHECKs hold it: the outcome is one of the six, and it is
recorded exactly when its time is (outcome_at).

SQLite adds the column with ALTER TABLE ADD COLUMN (its CHECK on the column; every existing
row starts NULL): copying the cases table would cascade to its children. The two table
CHECKs are written into the stored CREATE TABLE under writable_schema after the backfill,
as b1a0d17a0010 does (https://sqlite.org/lang_altertable.html, "making other kinds of
table schema changes"): SQLite does not check existing rows then, so the upgrade checks
them itself first.

Revision ID: b1a0d17a0013
Revises: b1a0d17a0012
Create Date: 2026-12-06
"""
import sqlalchemy as sa
from alembic import op

revision = 'b1a0d17a0013'
down_revision = 'b1a0d17a0012'
branch_labels = None
depends_on = None

STATES = ('reported', 'accepted', 'declined', 'in_mediation', 'settled', 'partly_settled',
          'failed', 'withdrawn', 'referred_out', 'follow_up', 'closed')
OUTCOMES = ('settled', 'partly_settled', 'failed', 'withdrawn', 'declined', 'referred_out')
LISTED_OUTCOMES = ", ".join(f"'{state}'" for state in OUTCOMES)
# The table CHECKs, named as the models' naming convention names them (ck_cases_<name>).
CHECKS = {
    'ck_cases_outcome_is_an_outcome': f"outcome IS NULL OR outcome IN ({LISTED_OUTCOMES})",
    'ck_cases_outcome_iff_outcome_at': "(outcome IS NULL) = (outcome_at IS NULL)",
}
SQLITE_CHECKS = "".join(f", CONSTRAINT {name} CHECK ({condition})"
                        for name, condition in CHECKS.items())


def _sqlite_table_sql(change) -> None:
    """Replace the cases table's stored definition by ``change(sql)``, under writable_schema."""
    bind = op.get_bind()
    sql = bind.execute(sa.text("SELECT sql FROM sqlite_master "
                               "WHERE type = 'table' AND name = 'cases'")).scalar_one()
    new_sql = change(sql)
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


def _with_checks(sql: str) -> str:
    # The column list ends the statement (ADD COLUMN put outcome last among the columns,
    # before the table constraints): the CHECKs join the table constraints at the end.
    body = sql.rstrip()
    if not body.endswith(")") or "ck_cases_outcome_is_an_outcome" in body:
        raise RuntimeError("The cases table's definition is not as the migrations made it; "
                           "nothing was changed.")
    return body[:-1] + SQLITE_CHECKS + ")"


def _without_checks(sql: str) -> str:
    if sql.count(SQLITE_CHECKS) != 1:
        raise RuntimeError("The cases table's outcome CHECKs are not as this revision wrote "
                           "them; nothing was changed. Remove them by hand.")
    return sql.replace(SQLITE_CHECKS, "")


def _refuse_rows_the_checks_would_refuse() -> None:
    bad = op.get_bind().execute(sa.text(
        "SELECT number FROM cases WHERE NOT ("
        + " AND ".join(f"({condition})" for condition in CHECKS.values())
        + ") ORDER BY id LIMIT 10")).scalars().all()
    if bad:
        raise RuntimeError(
            "These cases have an outcome time but no outcome on their timeline: "
            f"{', '.join(bad)}. Set cases.outcome for them by hand (one of {LISTED_OUTCOMES}) "
            "and upgrade again; nothing was changed.")


def upgrade():
    listed = ", ".join(f"'{state}'" for state in STATES)
    sqlite = op.get_bind().dialect.name == 'sqlite'
    if sqlite:
        op.execute("ALTER TABLE cases ADD COLUMN outcome VARCHAR(20) CONSTRAINT "
                   f"ck_cases_outcome CHECK (outcome IN ({listed}))")
    else:
        op.add_column('cases', sa.Column('outcome', sa.String(length=20)))
        op.create_check_constraint(op.f('ck_cases_outcome'), 'cases',
                                   sa.column('outcome').in_(STATES))
    op.execute(
        "UPDATE cases SET outcome = COALESCE("
        "(SELECT e.to_state FROM case_events AS e WHERE e.case_id = cases.id "
        f"AND e.kind = 'state' AND e.to_state IN ({LISTED_OUTCOMES}) "
        "ORDER BY e.id DESC LIMIT 1), "
        f"CASE WHEN state IN ({LISTED_OUTCOMES}) THEN state END) "
        "WHERE outcome_at IS NOT NULL")
    _refuse_rows_the_checks_would_refuse()
    if sqlite:
        _sqlite_table_sql(_with_checks)
    else:
        for name, condition in CHECKS.items():
            op.create_check_constraint(op.f(name), 'cases', sa.text(condition))
    op.create_index(op.f('ix_cases_outcome_at'), 'cases', ['outcome_at'])


def downgrade():
    op.drop_index(op.f('ix_cases_outcome_at'), table_name='cases')
    if op.get_bind().dialect.name == 'sqlite':
        _sqlite_table_sql(_without_checks)
        op.execute("ALTER TABLE cases DROP COLUMN outcome")  # SQLite 3.35+: no copy
    else:
        for name in CHECKS:
            op.drop_constraint(op.f(name), 'cases', type_='check')
        op.drop_constraint(op.f('ck_cases_outcome'), 'cases', type_='check')
        op.drop_column('cases', 'outcome')
