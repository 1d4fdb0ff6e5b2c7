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
from flask_migrate import upgrade

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


class Database:
    """One migrated schema for the run; a clean copy (SQLite) or a truncated one (PG) per test."""

    def __init__(self, tmp: Path):
        self.tmp = tmp
        if PG_URL:
            self.schema = f"mt_{uuid.uuid4().hex[:12]}"
            base = normalise_database_url(PG_URL)
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


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def demo_city(app):
    """The demo city with one account per role (password DEMO_PASSWORD)."""
    demo.seed()
    db.session.commit()
    return app


def csrf_from(html: str) -> str:
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html)
    assert match, "no CSRF token on the page"
    return match.group(1)


class Auth:
    """Log in and out through the real pages (with their CSRF tokens)."""

    def __init__(self, client):
        self.client = client

    def token(self, url: str = "/login") -> str:
        return csrf_from(self.client.get(url, follow_redirects=True).get_data(as_text=True))

    def login(self, username: str, password: str = DEMO_PASSWORD, **kwargs):
        return self.client.post("/login", data={"csrf_token": self.token(), "username": username,
                                                "password": password}, **kwargs)

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
