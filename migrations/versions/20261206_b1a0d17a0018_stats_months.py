"""statistics kept per month and day: the dashboard's counts without reading every case

At a city's size a year holds hundreds of thousands of cases, so the statistics keep what
the dashboard counts of them (mediation/stats/aggregates.py):

- stats_counts: per month and per day (local dates), per community: the cases received,
  concluded by outcome, settled by level, escalated, and the ratings given;
- stats_category_counts: the same spans per street and category: received, concluded,
  settled, failed;
- stats_open: the open cases per community and the first day they are overdue;
- stats_handling: per month, district and concluding level, the mediated cases by whole
  days from report to outcome (to find the median and 90th percentile's day, whose cases
  the index ix_cases_handling then ranks exactly).

Triggers keep all four exact in the same transaction as every write to a case, a level
move on its timeline or a rating, whoever writes it: each change subtracts the row's old
contribution and adds its new one with an upsert, so concurrent writers add up.
``flask stats-rebuild`` (aggregates.rebuild) makes them again from the records.

Revision ID: b1a0d17a0018
Revises: b1a0d17a0017
Create Date: 2026-12-06
"""
import sqlalchemy as sa
from alembic import op

revision = 'b1a0d17a0018'
down_revision = 'b1a0d17a0017'
branch_labels = None
depends_on = None

# As mediation.stats.aggregates at this revision. For a concluded case R, each outcome
# count's condition:
OUTCOME_COUNTS = {
    'concluded': "TRUE",
    'settled': "R.outcome IN ('settled', 'partly_settled')",
    'partly_settled': "R.outcome = 'partly_settled'",
    'settled_grid': "R.outcome IN ('settled', 'partly_settled') AND R.settled_level = 'grid'",
    'settled_community': "R.outcome IN ('settled', 'partly_settled') "
                         "AND R.settled_level = 'community'",
    'settled_street': "R.outcome IN ('settled', 'partly_settled') "
                      "AND R.settled_level = 'street'",
    'failed': "R.outcome = 'failed'",
    'withdrawn': "R.outcome = 'withdrawn'",
    'declined': "R.outcome = 'declined'",
    'referred_out': "R.outcome = 'referred_out'",
}
MOVES = {
    'escalated_grid_community': ('grid', 'community'),
    'escalated_community_street': ('community', 'street'),
    'escalated_grid_street': ('grid', 'street'),
}
RATINGS = {'rated_satisfied': 'satisfied', 'rated_fairly_satisfied': 'fairly_satisfied',
           'rated_unsatisfied': 'unsatisfied'}
COUNTS = ['received', *OUTCOME_COUNTS, *MOVES, *RATINGS]
CATEGORY_COUNTS = ['received', 'concluded', 'settled', 'failed']
SPANS = ('month', 'day')
OPEN = "('reported', 'accepted', 'in_mediation')"
MEDIATED = "('settled', 'partly_settled', 'failed')"
NEVER = "'9999-12-31'"  # the overdue day of an open case without deadlines


def _start(dialect: str, span: str, column: str) -> str:
    """The local (Asia/Shanghai) day, or its month's first day, of a timestamp."""
    if dialect == 'postgresql':
        local = f"timezone('Asia/Shanghai', {column})"
        return f"date_trunc('month', {local})::date" if span == 'month' else f"{local}::date"
    return f"date({column}, '+8 hours'{', ' + repr('start of month') if span == 'month' else ''})"


def _days(dialect: str, row: str) -> str:
    """A mediated case's whole days from report to outcome (its row in stats_handling)."""
    if dialect == 'postgresql':
        return f"floor(extract(epoch FROM {row}.outcome_at - {row}.reported_at) / 86400)::int"
    return f"CAST(julianday({row}.outcome_at) - julianday({row}.reported_at) AS INTEGER)"


def _level(row: str) -> str:
    """The level that concluded a case: the settling one, else where it stood."""
    return (f"CASE WHEN {row}.outcome IN ('settled', 'partly_settled') "
            f"THEN {row}.settled_level ELSE {row}.level END")


def _least(dialect: str, row: str) -> str:
    """The first day an open case is overdue: its earlier deadline's next day, as a date
    compared with today (overdue: a deadline before today)."""
    a, b = f"{row}.level_deadline", f"{row}.overall_deadline"
    if dialect == 'postgresql':
        return f"COALESCE(LEAST({a}, {b}), DATE {NEVER})"
    return f"COALESCE(min(COALESCE({a}, {b}), COALESCE({b}, {a})), {NEVER})"


# Where a case counts, from its grid (a): its community, street, district.
COMMUNITY = ("COALESCE(a.parent_id, a.id)", "area_nodes a", [])
STREET = ("c.parent_id", "area_nodes a, area_nodes c", ["c.id = a.parent_id",
                                                        "c.parent_id IS NOT NULL"])
DISTRICT = ("s.parent_id", "area_nodes a, area_nodes c, area_nodes s",
            ["c.id = a.parent_id", "s.id = c.parent_id", "s.parent_id IS NOT NULL"])


class Part:
    """One kind of contribution to a table: the key's columns (SQL over the row R, the
    grid a and, for moves and ratings, the joined row), the counts, the tables read and
    the conditions."""

    def __init__(self, table, key, counts, tables="", where=()):
        self.table, self.key, self.counts = table, key, counts
        self.tables, self.where = tables, list(where)

    def select(self, area, row: str, sign: str, every: list[str] | None = None) -> str:
        """The contribution of ``row`` (NEW, OLD, or every case R: ``every`` then names all
        the table's counts, those of other parts as 0)."""
        column, areas, joins = area
        key = [k.replace('AREA', column).replace('R.', row + '.') for k in self.key]
        counts = {c: v.replace('SIGN', sign).replace('R.', row + '.')
                  for c, v in self.counts.items()}
        where = [f"a.id = {row}.grid_id", *joins,
                 *(w.replace('R.', row + '.') for w in self.where)]
        grouped = any(c.startswith('sum(') for c in counts.values())
        if every is None:
            values, source = key + list(counts.values()), ""
        else:
            values = [f"{k} AS {name}" for k, name in zip(key, KEYS[self.table], strict=True)]
            values += [f"{counts.get(c, '0')} AS {c}" for c in every]
            source = f"cases {row}, "
        return (f"SELECT {', '.join(values)} FROM {source}{areas}{self.tables} "
                f"WHERE {' AND '.join(where)}"
                + (f" GROUP BY {', '.join(str(n + 1) for n in range(len(key)))}"
                   if grouped else ""))

    def upsert(self, area, row: str, sign: str) -> str:
        # SQLite reads ON after a FROM without WHERE as a join's: every SELECT has a WHERE.
        key = ", ".join(KEYS[self.table])
        return (f"INSERT INTO {self.table} ({key}, {', '.join(self.counts)}) "
                f"{self.select(area, row, sign)} ON CONFLICT ({key}) DO UPDATE SET "
                + ", ".join(f"{c} = {self.table}.{c} + excluded.{c}" for c in self.counts))


TABLE_COUNTS = {'stats_counts': COUNTS, 'stats_category_counts': CATEGORY_COUNTS,
                'stats_open': ['open'], 'stats_handling': ['cases']}
KEYS = {
    'stats_counts': ['span', 'start', 'community_id'],
    'stats_category_counts': ['span', 'start', 'street_id', 'category_id'],
    'stats_open': ['community_id', 'overdue_from'],
    'stats_handling': ['month', 'district_id', 'level', 'days'],
}


def _is_move(e: str) -> str:
    return f"{e}.kind = 'level' AND (" + " OR ".join(
        f"({e}.from_level = '{a}' AND {e}.to_level = '{b}')" for a, b in MOVES.values()) + ")"


def case_parts(dialect: str) -> dict[str, list[tuple[Part, tuple]]]:
    """A case's contributions, by the group of fields whose change moves them."""
    counts, categories = [], []
    for span in SPANS:
        received = [f"'{span}'", _start(dialect, span, 'R.reported_at'), 'AREA']
        concluded = [f"'{span}'", _start(dialect, span, 'R.outcome_at'), 'AREA']
        outcome = {c: f"CASE WHEN {cond} THEN SIGN ELSE 0 END"
                   for c, cond in OUTCOME_COUNTS.items()}
        counts += [(Part('stats_counts', received, {'received': 'SIGN'}), COMMUNITY),
                   (Part('stats_counts', concluded, outcome, where=["R.outcome_at IS NOT NULL"]),
                    COMMUNITY)]
        categories += [
            (Part('stats_category_counts', [*received, 'R.category_id'], {'received': 'SIGN'}),
             STREET),
            (Part('stats_category_counts', [*concluded, 'R.category_id'],
                  {c: outcome[c] for c in CATEGORY_COUNTS[1:]},
                  where=["R.outcome_at IS NOT NULL"]), STREET)]
    return {
        'counts': counts + categories,
        'handling': [(Part('stats_handling', [_start(dialect, 'month', 'R.outcome_at'), 'AREA',
                                              _level('R'), _days(dialect, 'R')],
                           {'cases': 'SIGN'},
                           where=[f"R.outcome IN {MEDIATED}", "R.outcome_at IS NOT NULL"]),
                      DISTRICT)],
        'open': [(Part('stats_open', ['AREA', _least(dialect, 'R')], {'open': 'SIGN'},
                       where=[f"R.state IN {OPEN}"]), COMMUNITY)],
        'timeline': [(part, COMMUNITY) for span in SPANS
                     for part in _joined_parts(dialect, span, 'R', grouped=True)],
    }


def _joined_parts(dialect: str, span: str, case: str, grouped: bool,
                  moves: str = 'e', ratings: str = 'g') -> list[Part]:
    """The level moves and ratings of case ``case``, from their own rows (``moves``,
    ``ratings``): summed over a case's rows (grouped), or one row's own (from its trigger)."""
    def one(value):
        return f"sum({value})" if grouped else value
    move_counts = {c: one(f"CASE WHEN {moves}.from_level = '{a}' AND {moves}.to_level = '{b}' "
                          "THEN SIGN ELSE 0 END") for c, (a, b) in MOVES.items()}
    rating_counts = {c: one(f"CASE WHEN {ratings}.satisfaction = '{s}' THEN SIGN ELSE 0 END")
                     for c, s in RATINGS.items()}
    tables = {'e': ", case_events e", 'g': ", ratings g"}
    return [
        Part('stats_counts', [f"'{span}'", _start(dialect, span, f'{moves}.at'), 'AREA'],
             move_counts, tables.get(moves, ""),
             [_is_move(moves), *([f"{moves}.case_id = {case}.id"] if grouped else [])]),
        Part('stats_counts', [f"'{span}'", _start(dialect, span, f'{ratings}.rated_at'), 'AREA'],
             rating_counts, tables.get(ratings, ""),
             [f"{ratings}.case_id = {case}.id"] if grouped else []),
    ]


# The fields each group of a case's contributions reads.
CASE_FIELDS = {
    'counts': ['reported_at', 'outcome', 'outcome_at', 'settled_level', 'grid_id',
               'category_id'],
    'handling': ['reported_at', 'outcome', 'outcome_at', 'settled_level', 'level', 'grid_id'],
    'open': ['state', 'level_deadline', 'overall_deadline', 'grid_id'],
    'timeline': ['grid_id'],  # moves and ratings count in the case's community
}
EVENT_FIELDS = ['case_id', 'kind', 'at', 'from_level', 'to_level']
RATING_FIELDS = ['case_id', 'satisfaction', 'rated_at']


def _statements(parts, row: str, sign: str) -> list[str]:
    return [part.upsert(area, row, sign) for part, area in parts]


def _own_row_statements(dialect: str, table: str, row: str, sign: str) -> list[str]:
    """What one timeline entry or rating (``row``) counts, in its case's community (none
    once the case is gone: its deletion took them away)."""
    statements = []
    for span in SPANS:
        moves, ratings = _joined_parts(dialect, span, 'r', grouped=False,
                                       moves=row if table == 'case_events' else 'e',
                                       ratings=row if table == 'ratings' else 'g')
        part = moves if table == 'case_events' else ratings
        part.tables = ", cases r"
        part.where.append(f"r.id = {row}.case_id")
        # The case's grid, not the row's: a is the case's.
        statements.append(part.upsert(COMMUNITY, 'r', sign))
    return statements


def _changed(fields: list[str], dialect: str) -> str:
    differs = "IS DISTINCT FROM" if dialect == 'postgresql' else "IS NOT"
    return "(" + " OR ".join(f"OLD.{f} {differs} NEW.{f}" for f in fields) + ")"


def _postgresql() -> list[str]:
    pg = 'postgresql'
    parts = case_parts(pg)

    def body(statements, indent="        "):
        return "".join(f"{indent}{s};\n" for s in statements)

    every = [p for group in parts.values() for p in group]
    update = "".join(
        f"        IF {_changed(CASE_FIELDS[name], pg)} THEN\n"
        + body(_statements(group, 'OLD', '-1') + _statements(group, 'NEW', '1'),
               "            ") + "        END IF;\n"
        for name, group in parts.items())
    own = {table: (_own_row_statements(pg, table, 'OLD', '-1'),
                   _own_row_statements(pg, table, 'NEW', '1'))
           for table in ('case_events', 'ratings')}
    functions = [
        f"""CREATE FUNCTION stats_cases_count() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
{body(_statements(every, 'OLD', '-1'))}        RETURN OLD;
    ELSIF TG_OP = 'UPDATE' THEN
{update}    ELSE
{body(_statements([p for name, g in parts.items() if name != 'timeline' for p in g],
                  'NEW', '1'))}    END IF;
    RETURN NULL;
END $$"""]
    for table, (old, new) in own.items():
        functions.append(
            f"""CREATE FUNCTION stats_{table}_count() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
{body(old)}    END IF;
    IF TG_OP IN ('UPDATE', 'INSERT') THEN
{body(new)}    END IF;
    RETURN NULL;
END $$""")
    all_fields = sorted({f for fields in CASE_FIELDS.values() for f in fields})
    return functions + [
        # A deleted case takes its moves and ratings along: counted off before they go.
        "CREATE TRIGGER stats_cases_delete BEFORE DELETE ON cases "
        "FOR EACH ROW EXECUTE FUNCTION stats_cases_count()",
        "CREATE TRIGGER stats_cases_insert AFTER INSERT ON cases "
        "FOR EACH ROW EXECUTE FUNCTION stats_cases_count()",
        f"CREATE TRIGGER stats_cases_update AFTER UPDATE OF {', '.join(all_fields)} ON cases "
        f"FOR EACH ROW WHEN {_changed(all_fields, pg)} EXECUTE FUNCTION stats_cases_count()",
        *(statement for table, fields in (('case_events', EVENT_FIELDS),
                                          ('ratings', RATING_FIELDS))
          for statement in (
              f"CREATE TRIGGER stats_{table}_insert_delete AFTER INSERT OR DELETE ON {table} "
              f"FOR EACH ROW EXECUTE FUNCTION stats_{table}_count()",
              f"CREATE TRIGGER stats_{table}_update AFTER UPDATE OF {', '.join(fields)} "
              f"ON {table} FOR EACH ROW WHEN {_changed(fields, pg)} "
              f"EXECUTE FUNCTION stats_{table}_count()")),
    ]


def _sqlite() -> list[str]:
    lite = 'sqlite'
    parts = case_parts(lite)

    def trigger(name, when, statements, condition=None):
        return (f"CREATE TRIGGER {name} {when}" + (f" WHEN {condition}" if condition else "")
                + " BEGIN\n" + "".join(f"    {s};\n" for s in statements) + "END")
    triggers = [
        trigger("stats_cases_delete", "BEFORE DELETE ON cases FOR EACH ROW",
                _statements([p for g in parts.values() for p in g], 'OLD', '-1')),
        trigger("stats_cases_insert", "AFTER INSERT ON cases FOR EACH ROW",
                _statements([p for name, g in parts.items() if name != 'timeline' for p in g],
                            'NEW', '1')),
    ]
    for name, group in parts.items():
        fields = CASE_FIELDS[name]
        triggers.append(trigger(
            f"stats_cases_update_{name}", f"AFTER UPDATE OF {', '.join(fields)} ON cases "
            "FOR EACH ROW", _statements(group, 'OLD', '-1') + _statements(group, 'NEW', '1'),
            _changed(fields, lite)))
    for table, fields in (('case_events', EVENT_FIELDS), ('ratings', RATING_FIELDS)):
        old = _own_row_statements(lite, table, 'OLD', '-1')
        new = _own_row_statements(lite, table, 'NEW', '1')
        triggers += [
            trigger(f"stats_{table}_insert", f"AFTER INSERT ON {table} FOR EACH ROW", new),
            trigger(f"stats_{table}_delete", f"AFTER DELETE ON {table} FOR EACH ROW", old),
            trigger(f"stats_{table}_update",
                    f"AFTER UPDATE OF {', '.join(fields)} ON {table} FOR EACH ROW",
                    old + new, _changed(fields, lite)),
        ]
    return triggers


TRIGGERS = {  # by table, for the downgrade
    'cases': ['stats_cases_delete', 'stats_cases_insert', 'stats_cases_update',
              *(f'stats_cases_update_{name}' for name in CASE_FIELDS)],
    'case_events': ['stats_case_events_insert_delete', 'stats_case_events_insert',
                    'stats_case_events_delete', 'stats_case_events_update'],
    'ratings': ['stats_ratings_insert_delete', 'stats_ratings_insert', 'stats_ratings_delete',
                'stats_ratings_update'],
}


def _count_columns(names):
    return [sa.Column(name, sa.Integer(), server_default=sa.text('0'), nullable=False)
            for name in names]


def _area_key(column: str, table: str) -> list:
    return [sa.Column(column, sa.Integer(), nullable=False),
            sa.ForeignKeyConstraint([column], ['area_nodes.id'],
                                    name=op.f(f'fk_{table}_{column}_area_nodes'),
                                    ondelete='CASCADE')]


def upgrade():
    def span():
        return [sa.Column('span', sa.String(length=5), nullable=False),
                sa.Column('start', sa.Date(), nullable=False)]
    op.create_table('stats_counts', *span(),
                    *_area_key('community_id', 'stats_counts'), *_count_columns(COUNTS),
                    sa.PrimaryKeyConstraint(*KEYS['stats_counts'],
                                            name=op.f('pk_stats_counts')))
    op.create_table('stats_category_counts', *span(),
                    *_area_key('street_id', 'stats_category_counts'),
                    sa.Column('category_id', sa.Integer(), nullable=False),
                    *_count_columns(CATEGORY_COUNTS),
                    sa.ForeignKeyConstraint(
                        ['category_id'], ['categories.id'],
                        name=op.f('fk_stats_category_counts_category_id_categories'),
                        ondelete='CASCADE'),
                    sa.PrimaryKeyConstraint(*KEYS['stats_category_counts'],
                                            name=op.f('pk_stats_category_counts')))
    op.create_table('stats_open', *_area_key('community_id', 'stats_open'),
                    sa.Column('overdue_from', sa.Date(), nullable=False),
                    *_count_columns(['open']),
                    sa.PrimaryKeyConstraint(*KEYS['stats_open'], name=op.f('pk_stats_open')))
    op.create_table('stats_handling', sa.Column('month', sa.Date(), nullable=False),
                    *_area_key('district_id', 'stats_handling'),
                    sa.Column('level', sa.String(length=20), nullable=False),
                    sa.Column('days', sa.Integer(), nullable=False),
                    *_count_columns(['cases']),
                    sa.PrimaryKeyConstraint(*KEYS['stats_handling'],
                                            name=op.f('pk_stats_handling')))
    bind = op.get_bind()
    if bind.dialect.name == 'postgresql':
        # The cases of one concluding level and whole day, in a period: the handling time's
        # exact rank within its day (queries.handling_times), read from the index alone.
        op.execute(f"CREATE INDEX ix_cases_handling ON cases (({_level('cases')}), "
                   f"({_days('postgresql', 'cases')}), outcome_at) "
                   "INCLUDE (reported_at, outcome, settled_level, level, grid_id, id) "
                   f"WHERE outcome IN {MEDIATED}")
        # A jurisdiction's mediated cases of a period, grid by grid, from the index alone.
        op.execute("CREATE INDEX ix_cases_grid_mediated ON cases (grid_id, outcome_at) "
                   f"INCLUDE (reported_at, outcome, settled_level, level) "
                   f"WHERE outcome IN {MEDIATED}")
        # A jurisdiction's case ids from its grids alone; the terms and instalments due in a
        # period, and the agreements in force, for the performance of terms.
        op.execute("CREATE INDEX ix_cases_grid_case ON cases (grid_id, id)")
        op.execute("CREATE INDEX ix_agreement_terms_due_on ON agreement_terms (due_on)")
        op.execute("CREATE INDEX ix_agreement_instalments_due_on "
                   "ON agreement_instalments (due_on)")
        op.execute("CREATE INDEX ix_agreements_in_force ON agreements (id) INCLUDE (case_id) "
                   "WHERE status = 'issued' AND effective_on IS NOT NULL")
    for statement in _postgresql() if bind.dialect.name == 'postgresql' else _sqlite():
        op.execute(statement)
    fill(bind)


def fill(connection) -> None:
    """Every table counted from the records, in the triggers' SQL (aggregates.rebuild at
    this revision)."""
    pieces: dict[str, list[str]] = {}
    for group in case_parts(connection.dialect.name).values():
        for part, area in group:
            every = TABLE_COUNTS[part.table]
            pieces.setdefault(part.table, []).append(part.select(area, 'R', '1', every))
    for table, selects in pieces.items():
        key, counts = ", ".join(KEYS[table]), TABLE_COUNTS[table]
        connection.execute(sa.text(
            f"INSERT INTO {table} ({key}, {', '.join(counts)}) "
            f"SELECT {key}, {', '.join(f'sum({c})' for c in counts)} FROM ("
            + " UNION ALL ".join(selects) + f") AS contributions GROUP BY {key} "
            f"ORDER BY {key}"))  # stored in the order the pages read them


def downgrade():
    bind = op.get_bind()
    for table, names in TRIGGERS.items():
        for name in names:
            op.execute(f"DROP TRIGGER IF EXISTS {name}"
                       + (f" ON {table}" if bind.dialect.name == 'postgresql' else ""))
    if bind.dialect.name == 'postgresql':
        for function in ('stats_cases_count', 'stats_case_events_count', 'stats_ratings_count'):
            op.execute(f"DROP FUNCTION {function}()")
        for index in ('ix_agreements_in_force', 'ix_agreement_instalments_due_on',
                      'ix_agreement_terms_due_on', 'ix_cases_grid_case',
                      'ix_cases_grid_mediated'):
            op.execute(f"DROP INDEX {index}")
        op.execute("DROP INDEX ix_cases_handling")
    for table in ('stats_handling', 'stats_open', 'stats_category_counts', 'stats_counts'):
        op.drop_table(table)
