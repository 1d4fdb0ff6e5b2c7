"""Rate limits count in a store every worker and app server shares: the app's database by
default, Redis when RATELIMIT_STORAGE_URI says so."""

import os
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import timedelta
from http.cookies import SimpleCookie
from pathlib import Path

import pytest
from api_helpers import API, PROBLEM, bearer, cli_token
from conftest import Auth, csrf_from
from cryptography.fernet import Fernet
from gunicorn_helpers import WSGI, call, gunicorn_process, serving_port
from sqlalchemy import create_engine, select, update

from mediation import demo
from mediation.core.db import utcnow
from mediation.core.ratelimit import DatabaseStorage, RateLimitCounter
from mediation.extensions import db

REDIS_URL = "redis://127.0.0.1:6379/0"


# ---- under gunicorn with four workers ---------------------------------------------------

@contextmanager
def gunicorn(tmp_path: Path, database_url: str, **env):
    """`gunicorn -w 4` as the README deploys it (the app imported once, before the workers
    fork, to start quickly: each worker still counts in its own memory unless the store is
    shared); yields its port and access log (each line: the answering worker's pid, the
    method, the path, the status)."""
    errors, access = tmp_path / "gunicorn.log", tmp_path / "access.log"
    (tmp_path / "limits_wsgi.py").write_text(WSGI)
    environment = {
        **os.environ,
        "MEDIATION_CONFIG": "production",
        "SECRET_KEY": "s" * 48,
        "AUDIT_KEY": "a" * 48,
        "FIELD_ENCRYPTION_KEY": Fernet.generate_key().decode(),
        "PUBLIC_BASE_URL": "https://tiaojie.example.gov.cn",
        "SESSION_COOKIE_SECURE": "0",  # plain http on the loopback
        "MEDIATION_INSTANCE_PATH": str(tmp_path / "instance"),
        "DATABASE_URL": database_url,
        **env,
    }
    with gunicorn_process(
            ["--workers", "4", "--bind", "127.0.0.1:0", "--preload",
             "--access-logfile", str(access), "--access-logformat", "%(p)s %(m)s %(U)s %(s)s",
             "limits_wsgi:app"], environment, errors, tmp_path) as process:
        yield serving_port(process, errors), access


def _visitor(port: int) -> tuple[str, str]:
    """A browser that opened the login page: its session cookie and the form's CSRF token."""
    status, set_cookie, page, _location = call(port, "GET", "/login")
    assert status == 200
    return f"mediation_session={SimpleCookie(set_cookie)['mediation_session'].value}", \
        csrf_from(page)


def _login(port: int, visitor: tuple[str, str], n: int) -> int:
    cookie, token = visitor
    return call(port, "POST", "/login", cookie=cookie, form={
        "csrf_token": token, "username": f"nobody{n}", "password": "Whatever-password-1"})[0]


def _assert_login_limit_holds(port: int, access: Path) -> None:
    visitors = [_visitor(port) for _ in range(25)]
    # 24 logins, eight at a time, so that several workers answer them.
    with ThreadPoolExecutor(max_workers=8) as pool:
        codes = list(pool.map(lambda n: _login(port, visitors[n], n), range(24)))
    assert sorted(codes) == [200] * 20 + [429] * 4, access.read_text()
    assert _login(port, visitors[24], 24) == 429  # still refused, whichever worker answers
    workers = {line.split()[0] for line in access.read_text().splitlines()
               if " POST /login " in line}
    assert len(workers) > 1, "one worker answered every login: nothing was shared"


def test_login_limit_holds_across_gunicorn_workers_in_the_database(database, tmp_path):
    url = database.fresh_uri(f"gunicorn_{uuid.uuid4().hex[:6]}")
    with gunicorn(tmp_path, url, LOGIN_RATE_LIMIT="20 per minute",
                  RATELIMIT_STORAGE_URI="database://") as (port, access):
        _assert_login_limit_holds(port, access)
    assert any("users-limited" in key for key in _counters_in(url))


def test_login_limit_holds_across_gunicorn_workers_in_redis(database, tmp_path):
    redis = pytest.importorskip("redis")
    try:
        redis.Redis.from_url(REDIS_URL, socket_timeout=1).ping()
    except redis.RedisError:
        pytest.skip(f"no Redis at {REDIS_URL}")
    url = database.fresh_uri(f"gunicorn_{uuid.uuid4().hex[:6]}")
    # A prefix of its own: runs at the same time, or other apps, share this Redis.
    with gunicorn(tmp_path, url, LOGIN_RATE_LIMIT="20 per minute",
                  RATELIMIT_STORAGE_URI=REDIS_URL,
                  RATELIMIT_KEY_PREFIX=f"test-{uuid.uuid4().hex}") as (port, access):
        _assert_login_limit_holds(port, access)
    assert _counters_in(url) == []


def _counters_in(url: str) -> list[str]:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return list(connection.scalars(select(RateLimitCounter.key)))
    finally:
        engine.dispose()


# ---- in the app ---------------------------------------------------------------------------

def test_the_429_page_is_in_the_readers_language(app_factory):
    app = app_factory(RATELIMIT_ENABLED=True, VERIFY_RATE_LIMIT="2 per minute")
    client = app.test_client()
    assert [client.get("/verify").status_code for _ in range(2)] == [200, 200]
    refused = client.get("/verify")
    page = refused.get_data(as_text=True)
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0
    assert "请求过于频繁" in page and "请稍候再试。" in page and "per 1 minute" not in page

    Auth(client).post("/language", {"lang": "en", "next": "/"}, form_url="/login")
    page = client.get("/verify").get_data(as_text=True)
    assert "Too many requests" in page and "Please wait a moment and try again." in page


def test_refused_api_calls_count_and_the_429_is_a_problem(app_factory):
    """The count is committed apart from the call's own transaction, which rolls back."""
    app = app_factory(RATELIMIT_ENABLED=True, API_RATE_LIMIT="2 per minute")
    with app.app_context():
        demo.seed()
        db.session.commit()
        token = bearer(cli_token(app, "mediator"))
    client = app.test_client()
    codes = [client.post(f"{API}/cases", json={}, headers=token).status_code for _ in range(2)]
    assert codes == [422, 422]
    refused = client.post(f"{API}/cases", json={}, headers=token)
    assert refused.status_code == 429 and refused.mimetype == PROBLEM
    assert refused.get_json()["title"] == "请求过于频繁"
    english = client.get(f"{API}/cases", headers={**token, "Accept-Language": "en"})
    assert english.status_code == 429 and english.get_json()["title"] == "Too many requests"


def test_made_up_tokens_count_as_their_address_and_add_no_rows(app_factory):
    """A token nobody issued is no key of its own: random ones neither escape the limit nor
    fill the counters table."""
    app = app_factory(RATELIMIT_ENABLED=True, API_RATE_LIMIT="3 per minute")
    with app.app_context():
        demo.seed()
        db.session.commit()
        real = bearer(cli_token(app, "mediator"))
    client = app.test_client()
    codes = [client.get(f"{API}/cases", headers=bearer(f"mtk_made_up_{n}")).status_code
             for n in range(6)]
    assert codes == [401, 401, 401, 429, 429, 429]
    assert client.get(f"{API}/cases", headers=real).status_code == 200  # a count of its own
    with app.app_context():
        keys = db.session.scalars(select(RateLimitCounter.key)).all()
    assert len(keys) == 2, keys


def test_a_signed_in_user_is_counted_before_the_request_touches_the_database(app_factory):
    """On SQLite a signed-in POST holds the write lock once its user is loaded; a limit
    checked after that would wait for it (and fail) to write its count."""
    app = app_factory(RATELIMIT_ENABLED=True, VERIFY_RATE_LIMIT="1 per minute")
    with app.app_context():
        demo.seed()
        db.session.commit()
    client = app.test_client()
    auth = Auth(client)
    assert auth.login("mediator").status_code == 302
    started = time.monotonic()
    first = auth.post("/verify", {"code": "NOSUCHCODE"}, form_url="/")
    second = auth.post("/verify", {"code": "NOSUCHCODE"}, form_url="/")
    assert (first.status_code, second.status_code) == (302, 429)
    assert time.monotonic() - started < 5


def test_a_counter_starts_again_when_its_window_has_ended(app):
    storage, key = DatabaseStorage(), "LIMITER/127.0.0.1/users.login/3/1/minute"
    assert [storage.incr(key, 60) for _ in range(3)] == [1, 2, 3]
    assert storage.get(key) == 3
    assert time.time() < storage.get_expiry(key) <= time.time() + 60
    with db.engine.begin() as connection:
        connection.execute(update(RateLimitCounter)
                           .values(expires_at=utcnow() - timedelta(seconds=1)))
    assert storage.get(key) == 0
    assert storage.incr(key, 60) == 1
    storage.clear(key)
    assert storage.get(key) == 0


def test_prune_removes_the_counters_of_ended_windows(app, runner):
    now = utcnow()
    db.session.add_all([
        RateLimitCounter(key="ended", hits=20, expires_at=now - timedelta(seconds=1)),
        RateLimitCounter(key="current", hits=3, expires_at=now + timedelta(minutes=1)),
    ])
    db.session.commit()
    result = runner.invoke(args=["prune"])
    assert result.exit_code == 0, result.output
    assert "Removed 1 expired rate-limit counters." in result.output
    assert set(db.session.scalars(select(RateLimitCounter.key))) == {"current"}
