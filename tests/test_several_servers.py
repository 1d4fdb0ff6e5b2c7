"""Several app servers behind one reverse proxy: two gunicorn instances, each started with
the repository's gunicorn.conf.py, share one database and one Redis. A login made through
one works through the other, a logout through either ends it on both, and the login limit
counts the attempts made through both. And production refuses limits counted in a
process's own memory once more than one process answers."""

import os
import subprocess
import sys
import uuid
from contextlib import ExitStack, contextmanager
from http.cookies import SimpleCookie
from pathlib import Path

import pytest
from cases_helpers import make_city
from conftest import PG_URL, csrf_from
from cryptography.fernet import Fernet
from flask import Flask
from gunicorn_helpers import WSGI, call, gunicorn_process, serving_port
from sqlalchemy import create_engine, func, select

from mediation import create_app, load_config
from mediation.core.ratelimit import RateLimitCounter, check_counts_are_shared
from mediation.extensions import db
from mediation.users.passwords import hash_password

ROOT = Path(__file__).resolve().parent.parent
REDIS_URL = "redis://127.0.0.1:6379/5"  # this suite's Redis database
PASSWORD = "Qingshui-Hetang-2026"
# The environment every app server of one city shares.
CITY = {
    "MEDIATION_CONFIG": "production",
    "SECRET_KEY": "s" * 48,
    "AUDIT_KEY": "a" * 48,
    "PUBLIC_BASE_URL": "https://tiaojie.example.gov.cn",
    "SESSION_COOKIE_SECURE": "0",  # plain http on the loopback
    "TRUSTED_PROXIES": "1",  # the reverse proxy reports the client in X-Forwarded-For
    "LOGIN_RATE_LIMIT": "6 per hour",
    "WEB_CONCURRENCY": "2",
}


@pytest.fixture
def redis_prefix():
    """This run's own keys in Redis database 5, removed afterwards (only them)."""
    redis = pytest.importorskip("redis")
    client = redis.Redis.from_url(REDIS_URL, socket_timeout=2, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.RedisError as error:
        pytest.skip(f"Redis is unreachable at {REDIS_URL} ({error}): the app servers "
                    "would have nothing to share their rate limits in")
    prefix = f"several-servers-{uuid.uuid4().hex}"
    yield client, prefix
    keys = list(client.scan_iter(match=f"*{prefix}*"))
    if keys:
        client.delete(*keys)
    client.close()


@contextmanager
def app_server(name: str, tmp_path: Path, env: dict):
    """gunicorn with the repository's gunicorn.conf.py on a free port of the loopback, as
    one machine of the city runs it; yields a function that waits for its port."""
    home = tmp_path / name
    home.mkdir()
    (home / "city_wsgi.py").write_text(WSGI)
    errors = home / "gunicorn.log"
    environment = {key: value for key, value in os.environ.items()
                   if key not in {"RATELIMIT_STORAGE_URI", "REDIS_URL", "APP_SERVERS",
                                  "GUNICORN_CMD_ARGS", "MEDIATION_WORKERS"}}
    environment.update(env, GUNICORN_BIND="127.0.0.1:0",
                       GUNICORN_ACCESS_LOG=str(home / "access.log"),
                       MEDIATION_INSTANCE_PATH=str(home / "instance"))
    with gunicorn_process(["--config", "gunicorn.conf.py", "city_wsgi:app"],
                          environment, errors, home) as process:
        yield lambda: serving_port(process, errors)


class Browser:
    """One person's browser at ``address`` (as the reverse proxy reports it), keeping its
    session cookie whichever app server answers; each request on a new connection."""

    def __init__(self, address: str):
        self.address = address
        self.cookie: str | None = None

    def request(self, port: int, method: str, path: str, form: dict | None = None):
        reply = call(port, method, path, address=self.address, form=form,
                     cookie=f"mediation_session={self.cookie}" if self.cookie else None)
        sent = SimpleCookie(reply.set_cookie or "")
        if "mediation_session" in sent:
            self.cookie = sent["mediation_session"].value
        return reply.status, reply.location, reply.body

    def get(self, port: int, path: str):
        return self.request(port, "GET", path)

    def post(self, port: int, path: str, form: dict, *, token_from: str):
        """Send ``form`` with the CSRF token of the page at ``token_from`` on that server."""
        token = csrf_from(self.get(port, token_from)[2])
        return self.request(port, "POST", path, {"csrf_token": token, **form})


def _seed(url: str) -> str:
    """A mediator who signs in with a password alone; returns the username."""
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=url)
    with app.app_context():
        mediator = make_city().mediator
        mediator.password_hash = hash_password(PASSWORD)
        db.session.commit()
        username = mediator.username
        db.session.remove()
        db.engine.dispose()
    return username


def _counters_in_database(url: str) -> int:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return connection.scalar(select(func.count()).select_from(RateLimitCounter))
    finally:
        engine.dispose()


def test_two_app_servers_share_logins_logouts_and_the_login_limit(database, redis_prefix,
                                                                   tmp_path):
    redis, prefix = redis_prefix
    url = database.fresh_uri(f"several_servers_{uuid.uuid4().hex[:6]}")
    username = _seed(url)
    env = {**CITY, "DATABASE_URL": url, "REDIS_URL": REDIS_URL,
           "RATELIMIT_KEY_PREFIX": prefix,
           "FIELD_ENCRYPTION_KEY": Fernet.generate_key().decode()}
    if PG_URL:  # on other machines, as a city runs them: they say so, and share the files
        env.update(APP_SERVERS="2", ATTACHMENT_DIR=str(tmp_path / "shared-attachments"))
    with ExitStack() as stack:
        starting = [stack.enter_context(app_server(name, tmp_path, env)) for name in "ab"]
        a, b = (port() for port in starting)  # both start at once

        # Signed in through A, the same cookie works through B.
        clerk = Browser("203.0.113.10")
        status, location, _page = clerk.post(a, "/login", {"username": username,
                                                          "password": PASSWORD},
                                             token_from="/login")
        assert (status, location) == (302, "/")
        status, _location, page = clerk.get(b, "/cases/")
        assert status == 200 and "张志强" in page
        assert clerk.get(a, "/cases/")[0] == 200

        # Logged out through B: a copy of the cookie kept before is refused by A too.
        copy = Browser(clerk.address)
        copy.cookie = clerk.cookie
        status, location, _page = clerk.post(b, "/logout", {}, token_from="/cases/")
        assert (status, location) == (302, "/login")
        for port in (a, b):
            status, location, _page = copy.get(port, "/cases/")
            assert status == 302 and location.startswith("/login"), port

        # Failed logins from one address, three through each server, reach the limit of
        # six: the next is refused through either. Another address may still try.
        guesser = Browser("198.51.100.23")
        token = csrf_from(guesser.get(a, "/login")[2])

        def guess(port: int, n: int) -> int:
            return guesser.request(port, "POST", "/login", {
                "csrf_token": token, "username": f"nobody{n}",
                "password": "Wrong-password-1"})[0]

        assert [guess(port, n) for n, port in enumerate([a, b] * 3)] == [200] * 6
        assert guess(a, 6) == 429
        assert guess(b, 7) == 429
        other = Browser("198.51.100.24")
        status, _location, page = other.post(b, "/login", {"username": "nobody",
                                                          "password": "Wrong-password-1"},
                                             token_from="/login")
        assert status == 200 and "用户名或密码错误" in page

    # REDIS_URL alone put the counts in Redis, under this run's prefix, not in the database.
    assert list(redis.scan_iter(match=f"*{prefix}*"))
    assert _counters_in_database(url) == 0


# ---- refusing counts kept in a process's memory ----------------------------------------

def test_production_refuses_memory_counts_under_gunicorn_with_two_workers(tmp_path):
    """The app is built before gunicorn reads its command line; gunicorn.conf.py then
    tells it the workers started, and it refuses."""
    environment = {key: value for key, value in {**os.environ, **CITY}.items()
                   if key not in {"REDIS_URL", "WEB_CONCURRENCY", "GUNICORN_CMD_ARGS"}}
    environment.update(RATELIMIT_STORAGE_URI="memory://", GUNICORN_BIND="127.0.0.1:0",
                       FIELD_ENCRYPTION_KEY=Fernet.generate_key().decode(),
                       DATABASE_URL=f"sqlite:///{tmp_path / 'refused.sqlite3'}",
                       MEDIATION_INSTANCE_PATH=str(tmp_path / "instance"))
    try:
        result = subprocess.run(
            [sys.executable, "-m", "gunicorn", "--config", "gunicorn.conf.py",
             "--no-control-socket", "--workers", "2", "wsgi:app"],
            cwd=ROOT, env=environment, capture_output=True, text=True, timeout=60)
    except subprocess.TimeoutExpired:
        pytest.fail("gunicorn started (and served) with its limits in each worker's memory")
    assert result.returncode != 0
    assert "RATELIMIT_STORAGE_URI is 'memory://'" in result.stderr
    assert "2 workers" in result.stderr and "REDIS_URL" in result.stderr
    assert "Booting worker" not in result.stderr


def _config(tmp_path, config="production", **overrides) -> dict:
    app = Flask(__name__, instance_path=str(tmp_path))
    load_config(app, config, {"SQLALCHEMY_DATABASE_URI": "postgresql://db.internal/mediation",
                              "SECRET_KEY": "s" * 48, "AUDIT_KEY": "a" * 48,
                              "FIELD_ENCRYPTION_KEY": Fernet.generate_key().decode(),
                              "PUBLIC_BASE_URL": "https://tiaojie.example.gov.cn",
                              **overrides})
    return app.config


@pytest.fixture
def clean_environment(monkeypatch):
    for name in ("REDIS_URL", "RATELIMIT_STORAGE_URI", "APP_SERVERS", "WEB_CONCURRENCY",
                 "MEDIATION_WORKERS", "DATABASE_URL", "ATTACHMENT_DIR"):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_the_factory_refuses_memory_counts_for_several_workers_or_servers(clean_environment,
                                                                          tmp_path):
    clean_environment.setenv("WEB_CONCURRENCY", "4")
    with pytest.raises(RuntimeError, match=r"'memory://'.* 4 workers on each of 1 app server"):
        _config(tmp_path, RATELIMIT_STORAGE_URI="memory://")
    clean_environment.delenv("WEB_CONCURRENCY")
    clean_environment.setenv("APP_SERVERS", "3")
    with pytest.raises(RuntimeError, match=r"'memory://'.* 1 worker on each of 3 app servers"):
        _config(tmp_path, RATELIMIT_STORAGE_URI="memory://", ATTACHMENT_DIR="/srv/shared")
    # One process alone may count in its memory; development and the tests may too.
    clean_environment.delenv("APP_SERVERS")
    assert _config(tmp_path, RATELIMIT_STORAGE_URI="memory://")["WORKERS"] == 1
    check_counts_are_shared({"ENV_NAME": "development", "RATELIMIT_STORAGE_URI": "memory://",
                             "WORKERS": 4})
    # Shared stores are fine with any number.
    for uri in ("database://", "redis://redis.internal:6379/0"):
        check_counts_are_shared({"ENV_NAME": "production", "RATELIMIT_STORAGE_URI": uri},
                                workers=8)


def test_several_servers_need_a_shared_database_and_attachment_directory(clean_environment,
                                                                         tmp_path):
    clean_environment.setenv("APP_SERVERS", "2")
    with pytest.raises(RuntimeError, match="SQLite"):
        _config(tmp_path, SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'one.sqlite3'}",
                ATTACHMENT_DIR="/srv/shared")
    with pytest.raises(RuntimeError, match="ATTACHMENT_DIR"):
        _config(tmp_path)
    assert _config(tmp_path, ATTACHMENT_DIR="/srv/shared")["APP_SERVERS"] == 2


def test_redis_url_selects_redis_for_the_limits_unless_a_store_is_named(clean_environment,
                                                                        tmp_path):
    assert _config(tmp_path)["RATELIMIT_STORAGE_URI"] == "database://"
    clean_environment.setenv("REDIS_URL", "redis://redis.internal:6379/0")
    config = _config(tmp_path)
    assert config["RATELIMIT_STORAGE_URI"] == "redis://redis.internal:6379/0"
    assert config["RATELIMIT_STORAGE_OPTIONS"]["socket_timeout"] > 0
    clean_environment.setenv("RATELIMIT_STORAGE_URI", "database://")
    assert _config(tmp_path)["RATELIMIT_STORAGE_URI"] == "database://"
