"""Fixtures: an app on a freshly migrated database per test, a client, a CLI runner, logins.

The suite runs on SQLite by default and on PostgreSQL when TEST_DATABASE_URL is set
(e.g. postgresql+psycopg://postgres@127.0.0.1:5432/test).  On PostgreSQL every run
gets its own schema, dropped at the end, so a shared database is never touched.
"""

import os
import re
import shutil
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import g, has_app_context
from flask.testing import FlaskClient
from flask_babel import force_locale
from flask_migrate import upgrade
from two_factor_helpers import Device, keyring, recovery_codes_from, secret_from

from mediation import create_app, demo, normalise_database_url
from mediation.extensions import db

PG_URL = os.environ.get("TEST_DATABASE_URL")
DEMO_PASSWORD = "Tiaojie-Demo-2026"


def pytest_report_header(config):
    return f"database: {'PostgreSQL ' + PG_URL if PG_URL else 'SQLite'}"


class RequestClient(FlaskClient):
    """A test client whose every request starts with an empty ``g``.

    Tests keep an app context open (to use ``db.session`` between requests); Flask then
    reuses it for the client's requests, so ``g`` (Flask-Login's cached user, the CSRF
    token) would leak from one request to the next as it never does in production.
    """

    def open(self, *args, **kwargs):
        if has_app_context():
            g.__dict__.clear()
        return super().open(*args, **kwargs)


def _make_app(uri: str, **overrides):
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=uri, DEMO_PASSWORD=DEMO_PASSWORD,
                     **overrides)
    app.test_client_class = RequestClient
    return app


def _worker_database(url: str) -> str:
    """Under pytest-xdist each process gets a database of its own (made once, kept): the
    app's advisory locks (audit appends, bookings) are per database, not per schema, and
    processes sharing one would wait on, even deadlock with, each other's tests."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not worker:
        return url
    parsed = sa.make_url(url)
    name = f"{parsed.database}_{worker}"
    engine = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        if conn.execute(sa.text("SELECT 1 FROM pg_database WHERE datname = :name"),
                        {"name": name}).first() is None:
            try:
                conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
            except sa.exc.ProgrammingError:  # made meanwhile by another run
                pass
    engine.dispose()
    return parsed.set(database=name).render_as_string(hide_password=False)


class Database:
    """One migrated schema for the run; a clean copy (SQLite) or a truncated one (PG) per test."""

    def __init__(self, tmp: Path):
        self.tmp = tmp
        if PG_URL:
            self.schema = f"mt_{uuid.uuid4().hex[:12]}"
            base = _worker_database(normalise_database_url(PG_URL))
            engine = sa.create_engine(base)
            with engine.begin() as conn:
                conn.exec_driver_sql(f'CREATE SCHEMA "{self.schema}"')
            engine.dispose()
            sep = "&" if "?" in base else "?"
            self.uri = f"{base}{sep}options=-csearch_path%3D{self.schema}"
            self._admin_url = base
        else:
            self.template = tmp / "template.sqlite3"
            self.uri = f"sqlite:///{self.template}"
        app = _make_app(self.uri)
        with app.app_context():
            upgrade()
            self.tables = [t.name for t in reversed(db.metadata.sorted_tables)]
            # The rows the migrations seed (categories, level rules), put back after a TRUNCATE.
            with db.engine.connect() as conn:
                self.seeded = [(t, rows) for t in db.metadata.sorted_tables
                               if (rows := [dict(r._mapping) for r in conn.execute(t.select())])]
            db.engine.dispose()

    def fresh_uri(self, name: str) -> str:
        if PG_URL:
            engine = sa.create_engine(self.uri)
            with engine.begin() as conn:
                # The audit log refuses TRUNCATE by trigger; replica mode skips triggers for
                # this transaction only (the test user is a superuser).
                conn.exec_driver_sql("SET LOCAL session_replication_role = replica")
                conn.exec_driver_sql(
                    "TRUNCATE " + ", ".join(f'"{t}"' for t in self.tables)
                    + " RESTART IDENTITY CASCADE")
                for table, rows in self.seeded:
                    conn.execute(table.insert(), rows)
                    if "id" in table.c:  # the next id follows the seeded ones
                        conn.exec_driver_sql(
                            f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                            f'(SELECT max(id) FROM "{table.name}"))')
            engine.dispose()
            return self.uri
        target = self.tmp / f"{name}.sqlite3"
        shutil.copyfile(self.template, target)
        return f"sqlite:///{target}"

    def snapshot(self, engine) -> list[tuple]:
        """Every table's rows (e.g. the demo city just seeded), to put in another test's
        fresh database with ``restore`` instead of seeding it again (0.6 s a test on SQLite,
        2.5 s on PostgreSQL: a quarter of the suite)."""
        with engine.connect() as conn:
            return [(table, [dict(row._mapping) for row in conn.execute(table.select())])
                    for table in db.metadata.sorted_tables]

    def restore(self, engine, snapshot: list[tuple]) -> None:
        """Make a fresh database (``fresh_uri``'s) hold exactly ``snapshot``'s rows."""
        with engine.begin() as conn:
            if PG_URL:  # as in fresh_uri: no triggers (nor foreign-key checks) meanwhile
                conn.exec_driver_sql("SET LOCAL session_replication_role = replica")
            for table, _rows in reversed(self.seeded):  # all a fresh database holds
                conn.execute(table.delete())
            for table, rows in snapshot:
                if rows:
                    conn.execute(table.insert(), rows)
                if PG_URL and rows and "id" in table.c and isinstance(table.c.id.type,
                                                                      sa.Integer):
                    conn.exec_driver_sql(
                        f"SELECT setval(seq, (SELECT max(id) FROM \"{table.name}\")) FROM "
                        f"(SELECT pg_get_serial_sequence('{table.name}', 'id') AS seq) AS s "
                        "WHERE seq IS NOT NULL")

    def drop(self):
        if PG_URL:
            engine = sa.create_engine(self._admin_url)
            with engine.begin() as conn:
                conn.exec_driver_sql(f'DROP SCHEMA "{self.schema}" CASCADE')
            engine.dispose()


@pytest.fixture(scope="session")
def database(tmp_path_factory):
    database = Database(tmp_path_factory.mktemp("db"))
    yield database
    database.drop()


@pytest.fixture
def app(database, request):
    name = re.sub(r"\W+", "_", request.node.name)[:60] + "_" + uuid.uuid4().hex[:6]
    app = _make_app(database.fresh_uri(name))
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def app_factory(database, request):
    """Build extra apps (another config) on a fresh database; their connections are closed."""
    made = []

    def make(config: str = "testing", **overrides):
        name = re.sub(r"\W+", "_", request.node.name)[:50] + f"_{len(made)}"
        app = create_app(config, SQLALCHEMY_DATABASE_URI=database.fresh_uri(name),
                         DEMO_PASSWORD=DEMO_PASSWORD, **overrides)
        app.test_client_class = RequestClient
        made.append(app)
        return app

    yield make
    for extra in made:
        with extra.app_context():
            db.session.remove()
            db.engine.dispose()


@pytest.fixture(scope="module")
def bare_app():
    """An app without a database, for the rules that only translate their messages."""
    return create_app("testing", SQLALCHEMY_DATABASE_URI="sqlite://")


@pytest.fixture
def english(bare_app):
    """Rules' messages in English, without a database."""
    with bare_app.app_context(), force_locale("en"):
        yield


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def demo_city(app, database):
    """The demo city with one account per role (password DEMO_PASSWORD): seeded once per
    test process, then put back from its snapshot."""
    if getattr(database, "demo_rows", None) is None:
        demo.seed()
        db.session.commit()
        database.demo_rows = database.snapshot(db.engine)
    else:
        db.session.remove()
        database.restore(db.engine, database.demo_rows)
    return app


def csrf_from(html: str) -> str:
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html)
    assert match, "no CSRF token on the page"
    return match.group(1)


class Auth:
    """Log in and out through the real pages (with their CSRF tokens).

    Accounts that sign in with two factors give the code of the tests' authenticator app
    (``two_factor_helpers``); one that has not set it up yet enrols through the pages on
    its first login, as a person would, and the app keeps the secret for later logins.
    """

    def __init__(self, client):
        self.client = client

    @property
    def devices(self) -> dict[str, Device]:
        return keyring(self.client.application)

    def token(self, url: str = "/login") -> str:
        return csrf_from(self.client.get(url, follow_redirects=True).get_data(as_text=True))

    def login(self, username: str, password: str = DEMO_PASSWORD, *, code: str | None = None,
              next: str | None = None, follow_redirects: bool = False):
        """The password, then the second factor if one is asked: the last step's response.

        ``code`` gives that factor instead of the app (a wrong one, a recovery code);
        ``next`` is where the login page was asked to go afterwards.
        """
        response = self.client.post("/login", query_string={"next": next} if next else None,
                                    data={"csrf_token": self.token(), "username": username,
                                          "password": password})
        location = response.headers.get("Location", "")
        if location.startswith("/login/enrol"):
            response = self.enrol(username)
        elif location.startswith("/login/code"):
            device = self.devices.get(username.lower())
            assert code or device, f"{username} has set up two-factor sign-in elsewhere"
            response = self.post("/login/code", {"code": code or device.next_code()})
        if follow_redirects and response.status_code == 302:
            response = self.client.get(response.headers["Location"], follow_redirects=True)
        return response

    def enrol(self, username: str):
        """Set up the authenticator app on the login's enrolment page, keep the recovery
        codes it shows, and finish the login."""
        page = self.client.get("/login/enrol").get_data(as_text=True)
        device = Device(secret_from(page))
        shown = self.client.post("/login/enrol", data={"csrf_token": csrf_from(page),
                                                       "code": device.next_code()})
        assert shown.status_code == 200, "the first code was refused"
        html = shown.get_data(as_text=True)
        device.recovery_codes = recovery_codes_from(html)
        self.devices[username.lower()] = device
        return self.client.post("/login/finish", data={"csrf_token": csrf_from(html)})

    def logout(self):
        return self.client.post("/logout", data={"csrf_token": self.token("/")})

    def post(self, url: str, data: dict | None = None, *, form_url: str | None = None, **kw):
        """POST ``data`` to ``url`` with a CSRF token taken from ``form_url`` (default: url)."""
        payload = {"csrf_token": self.token(form_url or url), **(data or {})}
        return self.client.post(url, data=payload, **kw)


@pytest.fixture
def auth(client):
    return Auth(client)


pytest_plugins = ["browser"]
