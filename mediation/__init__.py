"""People's-mediation case management (人民调解案件管理)."""

import os
import secrets
from datetime import timedelta
from pathlib import Path

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

import config as config_module

ROOT = Path(__file__).resolve().parent.parent


def create_app(config=None, **overrides) -> Flask:
    """Build the application; ``config`` is a name or class, ``overrides`` win over everything."""
    app = Flask(
        __name__,
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
        instance_path=os.environ.get("MEDIATION_INSTANCE_PATH") or str(ROOT / "instance"),
    )
    load_config(app, config, overrides)
    register_proxy(app)
    register_extensions(app)
    register_blueprints(app)
    register_request_hooks(app)
    register_error_handlers(app)
    register_template_helpers(app)
    register_cli(app)
    return app


def _env_bool(value: str) -> bool:
    return value.strip().lower() in {"1", "true", "yes", "on"}


def load_config(app: Flask, config, overrides: dict) -> None:
    """Class defaults, then environment variables, then explicit overrides."""
    if config is None:
        config = os.environ.get("MEDIATION_CONFIG", "production")
    if isinstance(config, str):
        try:
            config = config_module.CONFIGS[config]
        except KeyError:
            raise RuntimeError(
                f"Unknown MEDIATION_CONFIG {config!r}; use one of {sorted(config_module.CONFIGS)}"
            ) from None
    app.config.from_object(config)

    env = os.environ
    if env.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = env["SECRET_KEY"]
    if env.get("DATABASE_URL"):
        app.config["SQLALCHEMY_DATABASE_URI"] = env["DATABASE_URL"]
    if env.get("SESSION_COOKIE_SECURE"):
        app.config["SESSION_COOKIE_SECURE"] = _env_bool(env["SESSION_COOKIE_SECURE"])
    for name, key, unit in [
        ("SESSION_IDLE_MINUTES", "SESSION_IDLE_TIMEOUT", "minutes"),
        ("SESSION_ABSOLUTE_HOURS", "SESSION_ABSOLUTE_TIMEOUT", "hours"),
        ("LOGIN_LOCKOUT_MINUTES", "LOGIN_LOCKOUT", "minutes"),
    ]:
        if env.get(name):
            app.config[key] = timedelta(**{unit: float(env[name])})
    for name in ("LOGIN_MAX_FAILURES", "LOGIN_RECORD_DAYS", "IDEMPOTENCY_KEY_DAYS"):
        if env.get(name):
            app.config[name] = int(env[name])
    for name in ("FIELD_ENCRYPTION_KEY", "FIELD_ENCRYPTION_OLD_KEYS", "ATTACHMENT_DIR",
                 "RATELIMIT_STORAGE_URI", "RATELIMIT_KEY_PREFIX", "CALENDAR_UID_DOMAIN",
                 "PUBLIC_BASE_URL", "AGREEMENT_NUMBER_PATTERN", "LOGIN_RATE_LIMIT",
                 "VERIFY_RATE_LIMIT", "REPORT_RATE_LIMIT", "API_RATE_LIMIT",
                 "PORTAL_ADDRESS_RATE_LIMIT", "PORTAL_CASE_RATE_LIMIT"):
        if env.get(name):
            app.config[name] = env[name]
    for name in ("TWO_FACTOR_ROLES", "PASSWORD_WEAK_WORDS", "WEBHOOK_ALLOWED_NETWORKS"):
        if env.get(name) is not None:
            app.config[name] = tuple(w.strip() for w in env[name].split(",") if w.strip())
    if env.get("TWO_FACTOR_ISSUER"):
        app.config["TWO_FACTOR_ISSUER"] = env["TWO_FACTOR_ISSUER"]
    for name in ("AUDIT_KEY", "AUDIT_ANCHOR_FILE", "AUDIT_ANCHOR_SYSLOG"):
        if env.get(name):
            app.config[name] = env[name]
    if env.get("TRUSTED_PROXIES"):
        app.config["TRUSTED_PROXIES"] = int(env["TRUSTED_PROXIES"])
    if env.get("REDIS_URL"):
        app.config["REDIS_URL"] = env["REDIS_URL"]
    if env.get("APP_SERVERS"):
        app.config["APP_SERVERS"] = int(env["APP_SERVERS"])
    # The worker processes: what gunicorn.conf.py says it started, else what was asked for.
    workers = env.get("MEDIATION_WORKERS") or env.get("WEB_CONCURRENCY")
    if workers:
        app.config["WORKERS"] = int(workers)
    if env.get("DEMO_PASSWORD"):
        app.config["DEMO_PASSWORD"] = env["DEMO_PASSWORD"]
    for name in ("MAIL_SERVER", "MAIL_USERNAME", "MAIL_PASSWORD", "MAIL_SENDER"):
        if env.get(name):
            app.config[name] = env[name]
    if env.get("MAIL_PORT"):
        app.config["MAIL_PORT"] = int(env["MAIL_PORT"])
    if env.get("MAIL_USE_TLS"):
        app.config["MAIL_USE_TLS"] = _env_bool(env["MAIL_USE_TLS"])

    app.config.update(overrides)
    from mediation.webhooks.addresses import allowed_networks

    try:
        allowed_networks(app.config["WEBHOOK_ALLOWED_NETWORKS"])
    except ValueError as error:
        raise RuntimeError(f"WEBHOOK_ALLOWED_NETWORKS: {error} (give networks like "
                           "10.20.0.0/16 or addresses, comma-separated)") from None

    if app.config.get("REDIS_URL") and not (env.get("RATELIMIT_STORAGE_URI")
                                            or "RATELIMIT_STORAGE_URI" in overrides):
        app.config["RATELIMIT_STORAGE_URI"] = app.config["REDIS_URL"]
    if (app.config["RATELIMIT_STORAGE_URI"].startswith(("redis://", "rediss://"))
            and "RATELIMIT_STORAGE_OPTIONS" not in app.config):
        from mediation.core.ratelimit import REDIS_OPTIONS

        app.config["RATELIMIT_STORAGE_OPTIONS"] = dict(REDIS_OPTIONS)

    app.config["PERMANENT_SESSION_LIFETIME"] = app.config["SESSION_ABSOLUTE_TIMEOUT"]
    from mediation.users.roles import Role

    roles = {role.value for role in Role}
    unknown = set(app.config["TWO_FACTOR_ROLES"]) - roles
    if unknown:
        raise RuntimeError(f"TWO_FACTOR_ROLES names unknown roles {sorted(unknown)}; "
                           f"use some of {sorted(roles)}")
    if app.config["ENV_NAME"] == "production" and "admin" not in app.config["TWO_FACTOR_ROLES"]:
        raise RuntimeError("TWO_FACTOR_ROLES must include admin in production: administrators "
                           "sign in with two factors (MLPS 2.0 level 3)")
    if app.config["ENV_NAME"] == "production" and app.config["APP_SERVERS"] > 1:
        _check_shared_by_servers(app)  # before the defaults below fill in local places
    uri = app.config.get("SQLALCHEMY_DATABASE_URI")
    if not uri:
        Path(app.instance_path).mkdir(parents=True, exist_ok=True)
        uri = f"sqlite:///{Path(app.instance_path) / 'mediation.sqlite3'}"
    app.config["SQLALCHEMY_DATABASE_URI"] = normalise_database_url(uri)

    if app.config["ENV_NAME"] == "development" and not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = _instance_secret(Path(app.instance_path))
    if app.config["ENV_NAME"] == "development" and not app.config.get("AUDIT_KEY"):
        app.config["AUDIT_KEY"] = _instance_secret(Path(app.instance_path), "dev-audit-key")
    if not app.config.get("AUDIT_ANCHOR_FILE"):
        app.config["AUDIT_ANCHOR_FILE"] = str(Path(app.instance_path) / "audit-anchors.log")
    if not app.config.get("ATTACHMENT_DIR"):
        app.config["ATTACHMENT_DIR"] = str(Path(app.instance_path) / "attachments")

    if app.config["ENV_NAME"] == "production":
        app.config["DEBUG"] = False
        if not app.config.get("SECRET_KEY") or len(app.config["SECRET_KEY"]) < 32:
            raise RuntimeError(
                "SECRET_KEY must be set to a random string of at least 32 characters in "
                "production (e.g. python -c 'import secrets; print(secrets.token_urlsafe(48))')"
            )
        if not app.config.get("FIELD_ENCRYPTION_KEY"):
            raise RuntimeError(
                "FIELD_ENCRYPTION_KEY must be set in production: it encrypts ID numbers. "
                "Generate one with python -c 'from cryptography.fernet import Fernet; "
                "print(Fernet.generate_key().decode())' and keep it safe: without it the "
                "stored ID numbers cannot be read.")
        if not str(app.config.get("PUBLIC_BASE_URL") or "").startswith(("https://", "http://")):
            raise RuntimeError(
                "PUBLIC_BASE_URL must be set in production to the address residents and courts "
                "reach the verification page at (e.g. https://tiaojie.example.gov.cn): it is "
                "printed under every agreement's QR code, for good.")
        if len(app.config.get("AUDIT_KEY") or "") < 32:
            raise RuntimeError(
                "AUDIT_KEY must be set in production to a random string of at least 32 "
                "characters (python -c 'import secrets; print(secrets.token_urlsafe(48))'): it "
                "signs the audit log. Keep it outside the database and never change it: the "
                "entries signed with it verify only with it.")
        from mediation.core.ratelimit import check_counts_are_shared

        check_counts_are_shared(app.config)


def _check_shared_by_servers(app: Flask) -> None:
    """Several app servers: what one of them writes, the others must read."""
    servers = app.config["APP_SERVERS"]
    uri = str(app.config.get("SQLALCHEMY_DATABASE_URI") or "sqlite:")
    if uri.startswith("sqlite:"):
        raise RuntimeError(
            f"APP_SERVERS is {servers}, but the database is SQLite, a file on one machine: "
            "set DATABASE_URL to the PostgreSQL database every app server shares.")
    if not app.config.get("ATTACHMENT_DIR"):
        raise RuntimeError(
            f"APP_SERVERS is {servers}: set ATTACHMENT_DIR to a directory every app server "
            "mounts (NFS or the like). The default, instance/attachments, is on this server's "
            "own disk: a photo uploaded through one server could not be opened through another.")


def _instance_secret(instance: Path, name: str = "dev-secret-key") -> str:
    """A random key kept in instance/ for development: never a key known from the source."""
    path = instance / name
    if not path.exists():
        instance.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(48))
        path.chmod(0o600)
    return path.read_text().strip()


def normalise_database_url(uri: str) -> str:
    """Route every PostgreSQL URL through psycopg 3."""
    for prefix in ("postgres://", "postgresql://"):
        if uri.startswith(prefix):
            return "postgresql+psycopg://" + uri[len(prefix) :]
    return uri


def register_proxy(app: Flask) -> None:
    """Behind a reverse proxy, take the client's address from X-Forwarded-For (for the audit)."""
    hops = app.config.get("TRUSTED_PROXIES", 0)
    if hops:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)


def register_extensions(app: Flask) -> None:
    from mediation.core import i18n, ratelimit  # noqa: F401 (ratelimit: the storage)
    from mediation.extensions import babel, csrf, db, limiter, login_manager, migrate

    db.init_app(app)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"), render_as_batch=True)
    csrf.init_app(app)
    babel.init_app(app, locale_selector=i18n.select_locale)
    login_manager.init_app(app)
    limiter.init_app(app)  # "database://" is ratelimit.DatabaseStorage, registered on import
    # Flask-Limiter keeps one on/off switch for every app in the process, set by the last
    # one built; an app whose limits are off has no limiter hooks, so keep the switch on.
    limiter.enabled = True
    login_manager.login_view = "users.login"
    login_manager.session_protection = "basic"
    from mediation.users import auth

    auth.init_login_manager(login_manager)


def register_blueprints(app: Flask) -> None:
    from mediation.agreements.views import bp as agreements_bp
    from mediation.areas.views import bp as areas_bp
    from mediation.cases.settings_views import bp as settings_bp
    from mediation.cases.views import bp as cases_bp
    from mediation.core.views import bp as core_bp
    from mediation.sessions.views import bp as sessions_bp
    from mediation.stats.views import bp as stats_bp
    from mediation.users.views import bp as users_bp
    from mediation.webhooks.views import bp as webhooks_bp

    app.register_blueprint(core_bp)
    app.register_blueprint(users_bp)
    app.register_blueprint(areas_bp)
    app.register_blueprint(cases_bp)
    app.register_blueprint(settings_bp)
    app.register_blueprint(sessions_bp)
    app.register_blueprint(agreements_bp)
    app.register_blueprint(stats_bp)
    app.register_blueprint(webhooks_bp)
    from mediation.portal import display, report_views, views  # noqa: F401  (routes on portal_bp)
    from mediation.portal.blueprint import bp as portal_bp

    app.register_blueprint(portal_bp)
    from mediation import api

    api.init_app(app)


def register_request_hooks(app: Flask) -> None:
    from mediation.core import db as core_db
    from mediation.core import security
    from mediation.users import auth

    app.before_request(security.refuse_nul)
    app.before_request(core_db.declare_write_intent)
    app.before_request(auth.enforce_session_rules)
    app.after_request(security.add_security_headers)


def register_error_handlers(app: Flask) -> None:
    from mediation.core.views import register_error_pages

    register_error_pages(app)


def register_template_helpers(app: Flask) -> None:
    from mediation.core import templating

    templating.init_app(app)


def register_cli(app: Flask) -> None:
    from mediation import cli

    cli.init_app(app)
