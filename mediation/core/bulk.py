"""Many rows into one table at once, for the nightly jobs: COPY on PostgreSQL, one
executemany elsewhere. The rows go through the columns' own types (enums, JSON, UTC
timestamps) exactly as an ORM insert sends them, in the session's transaction."""

from sqlalchemy import insert

from mediation.extensions import db


def insert_rows(model, rows: list[dict]) -> int:
    """Insert ``rows`` (dicts by column, every row with the same keys) into ``model``'s table;
    columns left out get their Python-side default (``utcnow``…) or the database's. Nothing
    comes back (no ids): for rows nobody reads in the same step. Returns how many."""
    if not rows:
        return 0
    connection = db.session.connection()
    dialect = connection.dialect
    table = model.__table__
    given = list(rows[0])
    defaults = {column.key: column.default for column in table.columns
                if column.key not in rows[0] and column.default is not None
                and (column.default.is_scalar or column.default.is_callable)}
    if defaults:
        rows = [{**row, **{key: default.arg(None) if default.is_callable else default.arg
                           for key, default in defaults.items()}} for row in rows]
    columns = [table.columns[key] for key in [*given, *defaults]]
    if dialect.name != "postgresql":
        connection.execute(insert(table), rows)
        return len(rows)
    processors = [(column.key, column.type.dialect_impl(dialect).bind_processor(dialect))
                  for column in columns]
    quote = dialect.identifier_preparer
    names = ", ".join(quote.quote(column.name) for column in columns)
    with connection.connection.cursor() as cursor, cursor.copy(
            f"COPY {quote.format_table(table)} ({names}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row([row[key] if process is None or row[key] is None
                            else process(row[key]) for key, process in processors])
    return len(rows)
