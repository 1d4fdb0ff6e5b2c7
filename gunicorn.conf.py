"""gunicorn's settings for the app: ``gunicorn wsgi:app`` run from the checkout reads them.

Each app server runs one gunicorn; several of them stand behind the reverse proxy and
share PostgreSQL and Redis (README, "Production: a city's deployment"). Everything here
can be set from the environment, the same on every server:

``GUNICORN_BIND``          where to listen, comma-separated (``127.0.0.1:8000``)
``WEB_CONCURRENCY``        worker processes (2 × cores + 1, at most 8)
``GUNICORN_THREADS``       threads per worker (2)
``GUNICORN_TIMEOUT``       seconds a request may take before its worker is restarted (60)
``GUNICORN_MAX_REQUESTS``  requests a worker serves before it is replaced (1000, ±10 %)
``GUNICORN_ACCESS_LOG``    the access log's file, ``-`` for standard output (``-``)
``GUNICORN_PRELOAD``       ``0``: import the app in each worker rather than once (``1``)
``TRUSTED_PROXIES``        as for the app: 0 trusts no ``X-Forwarded-*`` header at all
``FORWARDED_ALLOW_IPS``    with TRUSTED_PROXIES: the proxies' addresses (any: ``*``)

The app refuses to start in production when more than one process would count the rate
limits in its own memory (``memory://``): see ``on_starting``.
"""

import os

_env = os.environ


def _number(name: str, default: int) -> int:
    value = _env.get(name, "").strip()
    return int(value) if value else default


# More workers than this only add database connections (each worker keeps a pool) and
# memory (a password hash takes 64 MiB while it runs); add app servers instead.
MAX_WORKERS = 8

bind = [address.strip() for address in _env.get("GUNICORN_BIND", "127.0.0.1:8000").split(",")
        if address.strip()]
workers = _number("WEB_CONCURRENCY", min(2 * (os.cpu_count() or 1) + 1, MAX_WORKERS))
# Threads let a worker answer another request while one waits on the database; argon2
# and the database driver release the GIL. More than one makes the worker class gthread.
threads = _number("GUNICORN_THREADS", 2)
# Long enough for an agreement's PDF or a year's export; a worker stuck beyond it is
# killed and replaced.
timeout = _number("GUNICORN_TIMEOUT", 60)
# On SIGTERM (a restart, a new release) requests under way get this long to finish.
graceful_timeout = 30
# Behind the reverse proxy: how long an idle upstream connection stays open.
keepalive = 5
# Workers are replaced now and then (memory a long-lived process gathers), not all at once.
max_requests = _number("GUNICORN_MAX_REQUESTS", 1000)
max_requests_jitter = max_requests // 10
# The app is imported once, before the workers fork: they start quickly and share its
# memory, and a configuration the app refuses stops the master at once with the reason.
# A new release therefore needs a restart (systemctl restart), not a HUP.
preload_app = _env.get("GUNICORN_PRELOAD", "1").strip().lower() not in {"0", "false", "no", "off"}

accesslog = _env.get("GUNICORN_ACCESS_LOG", "-")
# The client as the proxy reports it, the worker's pid, the request without its query
# string (searches carry names and phone numbers), status, bytes and the time taken.
access_log_format = ('%(h)s %({x-forwarded-for}i)s %(p)s %(t)s "%(m)s %(U)s %(H)s" '
                     '%(s)s %(B)s %(M)sms "%(a)s"')
errorlog = "-"

# The app (ProxyFix) believes X-Forwarded-For/-Proto/-Host only when TRUSTED_PROXIES says
# proxies stand in front; gunicorn believes X-Forwarded-Proto on the same terms.
if _number("TRUSTED_PROXIES", 0) > 0:
    forwarded_allow_ips = _env.get("FORWARDED_ALLOW_IPS", "*")
else:
    forwarded_allow_ips = ""


def on_starting(server):
    """Tell the app how many workers answer, and refuse a preloaded app whose limits each
    worker would count alone (without preloading, each worker's app refuses itself)."""
    os.environ["MEDIATION_WORKERS"] = str(server.cfg.workers)
    app = server.app.callable if server.cfg.preload_app else None
    config = getattr(app, "config", None)
    if config is not None:
        from mediation.core.ratelimit import check_counts_are_shared

        check_counts_are_shared(config, workers=server.cfg.workers)


def post_fork(server, worker):
    """A forked worker opens database connections of its own, never the master's."""
    app = server.app.callable if server.cfg.preload_app else None
    if getattr(app, "extensions", {}).get("sqlalchemy") is None:
        return
    from mediation.extensions import db

    with app.app_context():
        for engine in db.engines.values():
            engine.dispose(close=False)
