"""``flask seed-scale``: a city-sized synthetic database, loaded in bulk, to measure the app at
the size of a real city (a million cases load on PostgreSQL in minutes).

It builds, on a migrated database without cases (the categories, level rules and holidays
the migrations seed are used as they are):

* a district tree of about 6,000 grids (5 districts × 8 streets × 6 communities × ~25
  grids), a committee for every community and street, one-stop centres with rooms, a court
  per district (``mediation.scale.city``);
* the staff, every account with the password ``DEMO_PASSWORD`` (hashed once and shared):
  ``scale-admin`` (the city's administrator), ``scale-coordinator`` (coordinator of the first
  street of the first district), ``scale-mediator`` (mediator of that street's first
  community), ``scale-gridworker`` (grid worker of that community's first three grids),
  ``scale-staff-1`` … ``scale-staff-60`` (mediators of sixty communities across the city),
  and a mediator for every other community and street, a coordinator for every street,
  grid workers for every grid and ten legal-aid volunteers (``scale-legalaid-N``).
  Administrators and coordinators set up their second factor at their first login;
* N cases over the last five years (``mediation.scale.disputes``): about 90% closed, 10%
  open at grid, community and street level (some overdue, some due soon), with their
  parties (some recur in thousands of cases), timelines, proposals, supervision notices,
  follow-up visits, sessions, written agreements (issued ones keep a one-page placeholder
  PDF saying no document was rendered), ratings, and a ``case_search`` row each;
* access codes with known values for the parties of about a thousand cases, written to
  ``instance/scale-access-codes.csv`` (case_number,code) for the residents' load test.

PostgreSQL is loaded with COPY in one transaction, its big tables emptied in it so that the
rows are written frozen, their secondary indexes dropped first and made again at the end
(two at a time), then ANALYZE; SQLite with executemany batches.  Deterministic for a given
``--seed`` (the encrypted ID numbers aside: Fernet tokens carry a random IV).
"""

import csv
import hashlib
import hmac
import importlib
import time
from dataclasses import dataclass, field
from pathlib import Path

from flask import current_app
from flask_babel import gettext

from mediation.cases.models import AssignmentRole
from mediation.cases.states import Level
from mediation.core import audit, crypto
from mediation.extensions import db
from mediation.portal import codes
from mediation.scale import city as city_module
from mediation.scale.city import City
from mediation.scale.disputes import (
    COLUMNS,
    ID_TABLES,
    TABLES,
    Disputes,
    FastRandom,
    Texts,
)
from mediation.scale.load import DAY, OFFSET, Writer, target_for
from mediation.scale.pools import placeholder_pdf
from mediation.users.passwords import hash_password

CITY_TABLES = ["area_nodes", "committees", "centres", "rooms", "courts", "users",
               "user_areas", "user_committees"]
ACCESS_CODES_FILE = "scale-access-codes.csv"


class Refused(Exception):
    """The database is not one seed-scale may fill."""


@dataclass
class Report:
    cases: int
    counts: dict[str, int]
    states: dict[str, int]
    seconds: dict[str, float] = field(default_factory=dict)
    access_codes: Path | None = None

    def summary(self) -> str:
        counts = self.counts
        return (f"Seeded {self.cases:,} cases in {self.seconds['total']:.0f} s (load "
                f"{self.seconds['load']:.0f} s, indexes {self.seconds['indexes']:.0f} s, "
                f"ANALYZE {self.seconds['analyze']:.0f} s): {counts.get('parties', 0):,} "
                f"parties, {counts.get('case_events', 0):,} events, "
                f"{counts.get('mediation_sessions', 0):,} sessions, "
                f"{counts.get('agreements', 0):,} agreements, "
                f"{counts.get('area_nodes', 0):,} areas, {counts.get('users', 0):,} accounts.")


def refusal() -> str | None:
    """Why this database may not be seeded, or None."""
    if current_app.config["ENV_NAME"] == "production":
        return "seed-scale refuses to run under the production config."
    if db.session.execute(db.text("SELECT 1 FROM cases LIMIT 1")).first() is not None:
        return ("The database already has cases: seed-scale builds a city from scratch on a "
                "freshly migrated database (create one and run `flask db upgrade`).")
    if db.session.execute(db.text("SELECT 1 FROM area_nodes LIMIT 1")).first() is not None:
        return ("The database already has an area tree: seed-scale builds its own city on a "
                "freshly migrated database (create one and run `flask db upgrade`).")
    if db.session.execute(db.text("SELECT 1 FROM users WHERE lower(username) = :name"),
                          {"name": city_module.ADMIN}).first() is not None:
        return (f"The account {city_module.ADMIN} exists already: this database was seeded "
                "before (a load that stopped half-way?). Start from a fresh database.")
    return None


def seed(cases: int, *, seed: int = 2026, chunk: int = 20_000, codes_file: Path | None = None,
         progress=None, log=print) -> Report:
    """Fill the database; see the module's docstring.  ``progress(n)`` after each chunk;
    the known access codes go to ``codes_file`` (default instance/scale-access-codes.csv)."""
    problem = refusal()
    if problem:
        raise Refused(problem)
    started = time.perf_counter()
    categories = [(row.id, row.code, {"grid": row.grid_days, "community": row.community_days,
                                      "street": row.street_days}, row.overall_days)
                  for row in db.session.execute(db.text(
                      "SELECT id, code, grid_days, community_days, street_days, overall_days "
                      "FROM categories WHERE active ORDER BY sort_order, id"))]
    level_rules = {row.level: (row.amount_limit_fen, row.warn_days_before)
                   for row in db.session.execute(db.text(
                       "SELECT level, amount_limit_fen, warn_days_before FROM level_rules"))}
    for level in Level:
        level_rules.setdefault(level.value, (None, 1))
    counters = dict(db.session.execute(db.text("SELECT year, last FROM case_counters")).all())
    texts = Texts(gettext, {level.value: str(level.title) for level in Level},
                  {role.value: str(role.title) for role in AssignmentRole})
    password_hash = hash_password(current_app.config["DEMO_PASSWORD"])
    pattern = current_app.config.get("AGREEMENT_NUMBER_PATTERN") or \
        "（{year}）{short_name}人调字第{n}号"
    encrypt, blind_index = _field_crypto()
    db.session.commit()
    db.session.close()

    instance = Path(current_app.instance_path)
    # What the load drops and makes again, for finishing by hand a load that died: one file
    # per database, as loads of several databases may run at once.
    name = Path(db.engine.url.database or "database").name
    target = target_for(db.engine, instance / f"seed-scale-{name}.sql", log)
    now = int(time.time())
    today = (now + OFFSET) // DAY
    clock = target.clock(today - 6 * 366, today + 400)
    rng = FastRandom(seed)
    report = Report(cases, {}, {})
    try:
        target.read_indexes(TABLES)
        ids = {table: target.max_id(table) + 1
               for table in [*CITY_TABLES[:6], *ID_TABLES]}
        target.begin()
        city = City(rng, ids, password_hash, clock.ts, clock.day,
                    created=now - 6 * 365 * DAY)
        with target.batch():
            for table, (columns, rows) in city.rows.items():
                target.write(table, columns, rows)
        target.prepare_bulk(TABLES)
        maker = Disputes(city, categories, level_rules, rng, now, clock, texts,
                         encrypt=encrypt, blind_index=blind_index,
                         code_hash=codes._hash, number_pattern=pattern,
                         pdf=placeholder_pdf(), ids=city.next, case_counters=counters,
                         total=cases, search_bigrams=target.dialect == "postgresql")
        maker.plan()
        columns = dict(COLUMNS)
        if maker.search_bigrams:
            columns["case_search"] += ("bigrams",)
        writer = Writer(target, columns)
        try:
            for count, rows in maker.chunks(chunk):
                writer.put(rows)
                if progress is not None:
                    progress(count)
        finally:
            writer.close()
        with target.batch():
            _counters(target, counters, maker)
            target.set_sequences([*CITY_TABLES[:6], *ID_TABLES])
        target.commit()
    except BaseException:
        target.rollback()
        if hasattr(target, "restore_indexes"):
            target.restore_indexes()
        else:
            target.index_file.unlink(missing_ok=True)
        target.close()
        raise
    report.seconds["load"] = time.perf_counter() - started
    try:
        report.seconds["indexes"], report.seconds["analyze"] = target.finish(
            [*CITY_TABLES, *TABLES])
    finally:
        target.close()
    report.counts = {**city.counts(), **maker.counts}
    report.states = dict(sorted(maker.states.items()))
    audit.record("seed.scale", object_type="Database", actor_name="seed-scale",
                 after={"cases": cases, "seed": seed, "counts": report.counts})
    db.session.commit()
    _rebuild_aggregates()
    report.access_codes = _write_codes(codes_file or instance / ACCESS_CODES_FILE,
                                       maker.access_codes)
    report.seconds["total"] = time.perf_counter() - started
    return report


def _field_crypto():
    """``crypto.encrypt`` and ``crypto.blind_index`` with their keys derived once: each call
    of those derives them again (tens of microseconds, hundreds of thousands of calls)."""
    keys = crypto._configured_keys()  # a missing or bad key fails here with its message
    fernet = crypto._build_fernet(keys)
    index_key = crypto._index_key(keys[0])

    def encrypt(text: str) -> str:
        return fernet.encrypt(text.encode("utf-8")).decode("ascii")

    def blind_index(text: str) -> str:
        return hmac.new(index_key, text.upper().encode("utf-8"), hashlib.sha256).hexdigest()

    sample = "37050219800101123X"  # what the loader indexes: ID numbers, no spaces
    if blind_index(sample) != crypto.blind_index(sample) or \
            crypto.decrypt(encrypt(sample)) != sample:
        raise RuntimeError("seed-scale's field encryption differs from the app's")
    return encrypt, blind_index


def _counters(target, counters: dict[int, int], maker: Disputes) -> None:
    """The case numbers' and the agreements' counters: the next intake gets a fresh number."""
    mark = target.placeholder
    for year, last in sorted(maker.seq.items()):
        if year in counters:
            target.execute(f"UPDATE case_counters SET last = {mark} WHERE year = {mark} "
                           f"AND last < {mark}", (last, year, last))
        else:
            target.execute(f"INSERT INTO case_counters (year, last) VALUES ({mark}, {mark})",
                           (year, last))
    target.write("agreement_counters", ("committee_id", "year", "last"),
                 [(committee, year, last)
                  for (committee, year), last in sorted(maker.agreement_seq.items())])


def _rebuild_aggregates() -> None:
    """Pre-aggregated statistics, where the app keeps any, are made again from the cases."""
    try:
        module = importlib.import_module("mediation.stats.aggregates")
    except ModuleNotFoundError as error:
        if error.name != "mediation.stats.aggregates":
            raise
        return
    rebuild = getattr(module, "rebuild", None)
    if callable(rebuild):
        rebuild()
        db.session.commit()


def _write_codes(path: Path, pairs: list[tuple[str, str]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["case_number", "code"])
        writer.writerows(pairs)
    return path
