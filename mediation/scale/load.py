"""Writing rows in bulk: COPY on PostgreSQL, executemany batches on SQLite.

Rows are tuples of plain values (int, str, bytes, None); booleans are 0/1, dates are
``YYYY-MM-DD`` and timestamps come from ``Target.ts``, in the form each database keeps them
(timestamptz text on PostgreSQL; SQLAlchemy's naive UTC text on SQLite).

The secondary indexes of the big tables are dropped before the load and made again after it
from their saved definitions, which is several times faster than keeping them up to date
row by row; their statements are also written to a file first, so that a load that dies
half-way can be finished by hand.
"""

import queue
import threading
import time
from datetime import date, timedelta
from pathlib import Path

DAY = 86400
# Local time in China is UTC+8 all year: a moment's local day is (t + OFFSET) // DAY.
OFFSET = 8 * 3600


class _Clock:
    """Day and time strings for epoch seconds, precomputed: millions of timestamps."""

    def __init__(self, first_day: int, last_day: int, time_suffix: str):
        self.first = first_day
        epoch = date(1970, 1, 1)
        self.days = [(epoch + timedelta(days=d)).isoformat()
                     for d in range(first_day, last_day + 1)]
        self.times = [f" {s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}{time_suffix}"
                      for s in range(DAY)]

    def ts(self, t: int) -> str:
        d, s = divmod(t, DAY)
        return self.days[d - self.first] + self.times[s]

    def day(self, d: int) -> str:
        return self.days[d - self.first]


class Target:
    """One database being loaded; ``write`` appends rows to a table."""

    dialect = ""
    time_suffix = ""

    def __init__(self, engine, index_file: Path, log):
        self.engine = engine
        self.index_file = index_file
        self.log = log
        self.raw = engine.raw_connection()
        self.driver = self.raw.driver_connection
        self.saved_indexes: list[tuple[str, str, str]] = []  # (table, name, definition)

    def clock(self, first_day: int, last_day: int) -> _Clock:
        return _Clock(first_day, last_day, self.time_suffix)

    # -- reading ------------------------------------------------------------------------
    def scalar(self, sql: str, params=()):
        cursor = self.driver.cursor()
        try:
            cursor.execute(sql, params)
            row = cursor.fetchone()
            return row[0] if row else None
        finally:
            cursor.close()

    def rows(self, sql: str, params=()) -> list:
        cursor = self.driver.cursor()
        try:
            cursor.execute(sql, params)
            return cursor.fetchall()
        finally:
            cursor.close()

    def execute(self, sql: str, params=()) -> None:
        cursor = self.driver.cursor()
        try:
            cursor.execute(sql, params)
        finally:
            cursor.close()

    def max_id(self, table: str) -> int:
        return self.scalar(f'SELECT coalesce(max(id), 0) FROM "{table}"') or 0

    def _save_index_file(self) -> None:
        self.index_file.parent.mkdir(parents=True, exist_ok=True)
        self.index_file.write_text(
            "-- Indexes flask seed-scale dropped for its load and makes again at its end.\n"
            + "".join(f"{definition};\n" for _t, _n, definition in self.saved_indexes),
            encoding="utf-8")

    def read_indexes(self, tables: list[str]) -> None:
        """Before anything else: the secondary indexes ``prepare_bulk`` will drop."""

    def _took(self, name: str, began: float) -> None:
        seconds = time.perf_counter() - began
        if seconds >= 1:
            self.log(f"Index {name} made again in {seconds:.0f} s.")

    def close(self) -> None:
        self.raw.close()


class PostgresTarget(Target):
    """One transaction for the whole load (a failure leaves the database as it was); the big
    tables are emptied in it so that COPY may write their rows already frozen, which spares
    the first readers (and VACUUM) from rewriting every page.
    """

    dialect = "postgresql"
    time_suffix = "+00"
    placeholder = "%s"

    def __init__(self, engine, index_file: Path, log):
        super().__init__(engine, index_file, log)
        self.freeze: set[str] = set()
        self.superuser = bool(self.scalar(
            "SELECT rolsuper FROM pg_roles WHERE rolname = current_user"))
        self.driver.commit()

    def read_indexes(self, tables: list[str]) -> None:
        """Read (and commit) the definitions of the indexes to drop before the load's
        transaction: reading them locks the tables, which the load will empty."""
        self.saved_indexes = [tuple(row) for row in self.rows(
            """SELECT c.relname, i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid)
               FROM pg_index i
               JOIN pg_class c ON c.oid = i.indrelid
               JOIN pg_namespace n ON n.oid = c.relnamespace
               WHERE n.nspname = current_schema() AND c.relname = ANY(%s)
                 AND NOT i.indisprimary
                 AND NOT EXISTS (SELECT 1 FROM pg_constraint k
                                 WHERE k.conindid = i.indexrelid AND k.conrelid = c.oid
                                   AND k.contype IN ('p', 'u', 'x'))
               ORDER BY 1, 2""", (tables,))]
        self.driver.commit()

    def begin(self) -> None:
        self.driver.execute("SET LOCAL synchronous_commit = off")
        # Foreign keys are checked by triggers, one lookup per row: a superuser skips them
        # for this load (the rows are made consistent); anyone else keeps them.
        if self.superuser:
            self.driver.execute("SET LOCAL session_replication_role = replica")
        # Someone else's transaction on these tables: say so rather than wait for ever.
        self.driver.execute("SET LOCAL lock_timeout = '60s'")

    def prepare_bulk(self, tables: list[str]) -> None:
        """Empty the (empty) big tables in their transaction, for COPY FREEZE, and drop their
        secondary indexes (kept: primary keys and the indexes of UNIQUE constraints)."""
        group = self._referencing(tables)
        if not any(self.scalar(f'SELECT EXISTS (SELECT 1 FROM "{t}")') for t in group):
            self.execute("TRUNCATE " + ", ".join(f'"{t}"' for t in group))
            self.freeze.update(group)
        self._save_index_file()
        for _table, name, _definition in self.saved_indexes:
            self.execute(f"DROP INDEX {name}")

    def _referencing(self, tables: list[str]) -> list[str]:
        """``tables`` and every table that refers to one of them, however indirectly (a
        TRUNCATE must name them all)."""
        found = list(tables)
        while True:
            more = [name for (name,) in self.rows(
                """SELECT DISTINCT c.relname FROM pg_constraint k
                   JOIN pg_class c ON c.oid = k.conrelid
                   JOIN pg_class r ON r.oid = k.confrelid
                   JOIN pg_namespace n ON n.oid = c.relnamespace
                   WHERE k.contype = 'f' AND n.nspname = current_schema()
                     AND r.relname = ANY(%s) AND NOT c.relname = ANY(%s)""",
                (found, found))]
            if not more:
                return found
            found += more

    def write(self, table: str, columns: tuple[str, ...], rows: list) -> None:
        if not rows:
            return
        freeze = " WITH (FREEZE)" if table in self.freeze else ""
        statement = (f'COPY "{table}" (' + ", ".join(f'"{c}"' for c in columns)
                     + f") FROM STDIN{freeze}")
        with self.driver.cursor() as cursor, cursor.copy(statement) as copy:
            write_row = copy.write_row
            for row in rows:
                write_row(row)

    def batch(self):
        return _NoBatch()

    def commit(self) -> None:
        self.driver.commit()

    def rollback(self) -> None:
        self.driver.rollback()

    def set_sequences(self, tables: list[str]) -> None:
        for table in tables:
            self.execute(
                f"SELECT setval(pg_get_serial_sequence('\"{table}\"', 'id'), "
                f'coalesce((SELECT max(id) FROM "{table}"), 1), '
                f'(SELECT max(id) FROM "{table}") IS NOT NULL)')

    def finish(self, tables: list[str]) -> tuple[float, float]:
        """Make the dropped indexes again and ANALYZE, two statements at a time (one per core:
        a GIN build is single-threaded); a table is analysed once its indexes are made (the
        statistics of an expression index need the index).  The seconds of each part."""
        started = time.perf_counter()
        # The longest first: the GIN indexes (text search), then the biggest tables'.
        order = {table: rank for rank, table in enumerate(tables)}
        pending = sorted(self.saved_indexes, key=lambda item: (
            "USING gin" not in item[2], -len(item[2]) if "USING gin" in item[2] else 0,
            order.get(item[0], len(order))))
        tasks = [("index", table, name, definition) for table, name, definition in pending]
        tasks += [("analyze", table, table, f'ANALYZE "{table}"') for table in tables]
        busy: set[str] = set()  # tables with an index being made
        lock = threading.Lock()
        errors: list[BaseException] = []
        finished = {"index": 0.0}

        def runnable():
            waiting = {task[1] for task in tasks if task[0] == "index"} | busy
            for i, task in enumerate(tasks):
                if task[0] == "index" or task[1] not in waiting:
                    return tasks.pop(i)
            return None

        def work():
            raw = self.engine.raw_connection()
            try:
                driver = raw.driver_connection
                driver.autocommit = True
                driver.execute("SET maintenance_work_mem = '1GB'")
                while True:
                    with lock:
                        task = runnable() if not errors else None
                        if task is None and tasks and not errors:
                            task = ("wait", "", "", "")
                        elif task is not None and task[0] == "index":
                            busy.add(task[1])
                    if task is None:
                        return
                    kind, table, name, statement = task
                    if kind == "wait":  # the other worker still makes this table's index
                        time.sleep(0.2)
                        continue
                    began = time.perf_counter()
                    driver.execute(statement)
                    with lock:
                        if kind == "index":
                            busy.discard(table)
                            finished["index"] = time.perf_counter() - started
                    if kind == "index":
                        self._took(name, began)
            except BaseException as error:  # reported by the caller
                errors.append(error)
            finally:
                raw.driver_connection.autocommit = False
                raw.close()

        workers = [threading.Thread(target=work) for _i in range(2)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        if errors:
            raise RuntimeError(
                f"Making the indexes again failed ({errors[0]}); the statements are in "
                f"{self.index_file}: run the missing ones by hand, then ANALYZE.") \
                from errors[0]
        self.index_file.unlink(missing_ok=True)
        total = time.perf_counter() - started
        return finished["index"], total - finished["index"]


class _NoBatch:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


class SqliteTarget(Target):
    """executemany in batches, one transaction each, with synchronous writes off meanwhile."""

    dialect = "sqlite"
    time_suffix = ".000000"
    placeholder = "?"

    def begin(self) -> None:
        self.freeze = set()
        # The connection runs in autocommit (the app begins its transactions itself).
        self.driver.execute("PRAGMA synchronous = OFF")
        self.driver.execute("PRAGMA foreign_keys = OFF")
        self.driver.execute("BEGIN IMMEDIATE")

    def prepare_bulk(self, tables: list[str]) -> None:
        """Drop the big tables' secondary indexes, and their triggers (the statistics' counts,
        which ``mediation.stats.aggregates.rebuild`` makes again after the load, as
        PostgreSQL's load skips them)."""
        marks = ", ".join("?" * len(tables))
        self.saved_indexes = [tuple(row) for row in self.rows(
            f"SELECT tbl_name, name, sql FROM sqlite_master WHERE type IN ('index', 'trigger') "
            f"AND sql IS NOT NULL AND tbl_name IN ({marks}) ORDER BY type, tbl_name, name",
            tables)]
        self._save_index_file()
        for _table, name, definition in self.saved_indexes:
            kind = "TRIGGER" if definition.upper().startswith("CREATE TRIGGER") else "INDEX"
            self.driver.execute(f'DROP {kind} "{name}"')
        self.commit()

    def write(self, table: str, columns: tuple[str, ...], rows: list) -> None:
        if rows:
            self.driver.executemany(
                f'INSERT INTO "{table}" (' + ", ".join(f'"{c}"' for c in columns)
                + ") VALUES (" + ", ".join("?" * len(columns)) + ")", rows)

    def batch(self):
        return _SqliteBatch(self)

    def commit(self) -> None:
        if self.driver.in_transaction:
            self.driver.execute("COMMIT")

    def rollback(self) -> None:
        if self.driver.in_transaction:
            self.driver.execute("ROLLBACK")

    def set_sequences(self, tables: list[str]) -> None:
        """SQLite's INTEGER PRIMARY KEY takes max(id) + 1 by itself."""

    def restore_indexes(self) -> None:
        """After a failed load: the indexes back, whatever else is missing."""
        self.rollback()
        for _table, _name, definition in self.saved_indexes:
            for made in ("CREATE INDEX", "CREATE UNIQUE INDEX", "CREATE TRIGGER"):
                if definition.startswith(made + " "):
                    definition = definition.replace(made, made + " IF NOT EXISTS", 1)
            self.driver.execute(definition)

    def finish(self, tables: list[str]) -> tuple[float, float]:
        started = time.perf_counter()
        self.commit()
        self.driver.execute("BEGIN IMMEDIATE")
        for _table, name, definition in self.saved_indexes:
            began = time.perf_counter()
            self.driver.execute(definition)
            self._took(name, began)
        self.driver.execute("COMMIT")
        indexed = time.perf_counter() - started
        started = time.perf_counter()
        self.driver.execute("ANALYZE")
        self.driver.execute("PRAGMA synchronous = NORMAL")
        self.driver.execute("PRAGMA foreign_keys = ON")
        self.index_file.unlink(missing_ok=True)
        return indexed, time.perf_counter() - started


class _SqliteBatch:
    def __init__(self, target: SqliteTarget):
        self.target = target

    def __enter__(self):
        if not self.target.driver.in_transaction:
            self.target.driver.execute("BEGIN IMMEDIATE")
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc_type is None:
            self.target.commit()
        return False


def target_for(engine, index_file: Path, log) -> Target:
    if engine.dialect.name == "postgresql":
        return PostgresTarget(engine, index_file, log)
    if engine.dialect.name == "sqlite":
        return SqliteTarget(engine, index_file, log)
    raise RuntimeError(f"seed-scale loads PostgreSQL or SQLite, not {engine.dialect.name}.")


class Writer:
    """Writes chunks of rows while the next chunk is being made: on PostgreSQL in a thread
    (the server parses the COPY on the other core meanwhile), elsewhere in line."""

    def __init__(self, target: Target, columns: dict[str, tuple]):
        self.target = target
        self.columns = columns
        self.error: BaseException | None = None
        self.thread: threading.Thread | None = None
        if target.dialect == "postgresql":
            self.inbox: queue.Queue = queue.Queue(maxsize=1)
            self.thread = threading.Thread(target=self._run, daemon=True)
            self.thread.start()

    def _write(self, rows: dict[str, list]) -> None:
        with self.target.batch():
            for table, columns in self.columns.items():
                self.target.write(table, columns, rows[table])

    def _run(self) -> None:
        while True:
            rows = self.inbox.get()
            if rows is None:
                return
            if self.error is None:
                try:
                    self._write(rows)
                except BaseException as error:  # raised in the caller's thread
                    self.error = error

    def put(self, rows: dict[str, list]) -> None:
        if self.thread is None:
            self._write(rows)
            return
        if self.error is not None:
            raise self.error
        self.inbox.put(rows)

    def close(self) -> None:
        """Wait for the last chunk; raise what went wrong while writing."""
        if self.thread is not None:
            self.inbox.put(None)
            self.thread.join()
        if self.error is not None:
            raise self.error
