"""Configuration classes. Values from the environment are read in ``create_app``, not here."""

from datetime import timedelta


class Config:
    """Defaults shared by every environment."""

    ENV_NAME = "base"
    SECRET_KEY: str | None = None
    SQLALCHEMY_DATABASE_URI: str | None = None  # instance/mediation.sqlite3 unless DATABASE_URL
    SQLALCHEMY_ENGINE_OPTIONS: dict = {"pool_pre_ping": True}

    # Sessions: signed cookie + a server-side record that can be revoked.
    SESSION_COOKIE_NAME = "mediation_session"
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = True
    SESSION_IDLE_TIMEOUT = timedelta(minutes=30)
    SESSION_ABSOLUTE_TIMEOUT = timedelta(hours=12)
    PERMANENT_SESSION_LIFETIME = timedelta(hours=12)
    REMEMBER_COOKIE_DURATION = timedelta(seconds=0)

    # Login lockout: after this many failures in a row the account is locked for a while.
    LOGIN_MAX_FAILURES = 5
    LOGIN_LOCKOUT = timedelta(minutes=15)
    # Each further lockout before a successful login lasts twice as long, up to this.
    LOGIN_LOCKOUT_MAX = timedelta(hours=24)
    PASSWORD_MIN_LENGTH = 12
    # A new password may not be any of the account's last five (the current one included).
    PASSWORD_HISTORY = 5
    # Words besides the product's and the area tree's names that make a password weak,
    # e.g. the city's name in pinyin ("dongying", "donghu").
    PASSWORD_WEAK_WORDS: tuple[str, ...] = ()
    # Roles that must sign in with a second factor (TOTP); others may choose it.
    TWO_FACTOR_ROLES: tuple[str, ...] = ("admin", "coordinator")
    TWO_FACTOR_ISSUER = "人民调解"  # the name shown in the authenticator app
    # Time to give the code (or to enrol) after the right password.
    LOGIN_SECOND_STEP_TIMEOUT = timedelta(minutes=10)
    # Logins per client address, on top of the per-account lockout (password spraying).
    LOGIN_RATE_LIMIT = "20 per minute; 200 per day"
    # Where the limits count, shared by every worker and app server: the app's own database
    # (mediation/core/ratelimit.py), or Redis ("redis://127.0.0.1:6379/0"). REDIS_URL, when
    # set and RATELIMIT_STORAGE_URI is not, puts them in that Redis.
    RATELIMIT_STORAGE_URI = "database://"
    RATELIMIT_HEADERS_ENABLED = True
    REDIS_URL: str | None = None
    # How many processes answer requests: worker processes on this server (gunicorn.conf.py
    # says how many it started) and app servers behind the reverse proxy. More than one
    # means nothing shared may live in a process's memory or on one server's disk.
    WORKERS = 1
    APP_SERVERS = 1
    # The public verification page: enough for people checking a few agreements.
    VERIFY_RATE_LIMIT = "30 per minute; 300 per day"
    # Residents' reports sent from one address (a form sent back with a mistake counts too;
    # neighbours on one mobile network may share an address).
    REPORT_RATE_LIMIT = "10 per hour; 40 per day"
    # Wrong case-number/access-code pairs on the residents' "check my case" page, per client
    # address and per case number (only failures count; the right pair is then refused too).
    PORTAL_ADDRESS_RATE_LIMIT = "10 per hour"
    PORTAL_CASE_RATE_LIMIT = "20 per day"
    # How long a party's view stays open after the right pair, without a new entry.
    PORTAL_VIEW_MINUTES = 30
    # Per API token (per address for the public endpoints).
    API_RATE_LIMIT = "120 per minute"
    # How long a client may retry a creating call with the same Idempotency-Key, and how
    # long ended logins stay listed on an account's page (`flask prune` removes older).
    IDEMPOTENCY_KEY_DAYS = 7
    LOGIN_RECORD_DAYS = 90
    # The address printed under an agreement's QR code; without it, the address the issuing
    # mediator used (set it when the app sits behind a proxy or on an intranet name).
    PUBLIC_BASE_URL = None
    # Default numbering of agreements; a committee may set its own.
    AGREEMENT_NUMBER_PATTERN = "（{year}）{short_name}人调字第{n}号"

    BABEL_DEFAULT_LOCALE = "zh"
    BABEL_DEFAULT_TIMEZONE = "Asia/Shanghai"
    LANGUAGES = {"zh": "中文", "en": "English"}

    WTF_CSRF_TIME_LIMIT = None  # the token lives as long as the session
    PAGE_SIZE = 50
    CALENDAR_UID_DOMAIN = "mediation.local"  # stable .ics UIDs, whatever host name is used
    MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024
    MAX_CONTENT_LENGTH = 12 * 1024 * 1024
    ATTACHMENT_DIR: str | None = None  # default: <instance>/attachments, outside the web root
    # Subsets of the Chinese font cut once for fast, small PDFs (mediation/core/pdf.py);
    # made on first use, safe to delete.
    PDF_FONT_CACHE_DIR: str | None = None  # default: <instance>/font-cache
    FIELD_ENCRYPTION_KEY: str | None = None
    # Signs the audit log's chain (HMAC-SHA256); kept outside the database, never changed.
    AUDIT_KEY: str | None = None
    # Where `flask audit-anchor` appends the signed head: a file the app may only append to
    # (default <instance>/audit-anchors.log), and syslog too when an address is set
    # ("/dev/log", or "loghost.internal:514" over UDP).
    AUDIT_ANCHOR_FILE: str | None = None
    AUDIT_ANCHOR_SYSLOG: str | None = None
    TRUSTED_PROXIES = 0  # reverse proxies in front of the app whose X-Forwarded-* to trust
    DEMO_PASSWORD = "Tiaojie-Demo-2026"

    # Reminders by email (flask send-reminders); without MAIL_SERVER all of them wait in
    # the outbox for the staff's SMS gateway / for a mail server.
    MAIL_SERVER: str | None = None
    MAIL_PORT = 587
    MAIL_USERNAME: str | None = None
    MAIL_PASSWORD: str | None = None
    MAIL_USE_TLS = True  # STARTTLS
    MAIL_SENDER: str | None = None  # the From address; default MAIL_USERNAME if it is one

    # Webhooks go only to public addresses, and to these networks (comma-separated in the
    # environment, e.g. "10.20.0.0/16,192.168.8.5"): the hotline's platform on the
    # government network, say. Never the server itself unless listed (mediation/webhooks/
    # addresses.py).
    WEBHOOK_ALLOWED_NETWORKS: tuple[str, ...] = ()


class DevelopmentConfig(Config):
    ENV_NAME = "development"
    DEBUG = True
    SESSION_COOKIE_SECURE = False
    # No SECRET_KEY here: create_app makes a random one in instance/ for this checkout.
    WEBHOOK_ALLOWED_NETWORKS = ("127.0.0.0/8", "::1/128")  # a receiver on this computer


class TestingConfig(Config):
    ENV_NAME = "testing"
    TESTING = True
    SESSION_COOKIE_SECURE = False
    SECRET_KEY = "testing-secret-key"
    AUDIT_KEY = "testing-audit-key"
    WTF_CSRF_ENABLED = True
    RATELIMIT_ENABLED = False  # switched on by the test that checks it
    # Cheap hashing keeps the suite fast; production uses argon2's defaults.
    ARGON2_TIME_COST = 1
    ARGON2_MEMORY_COST = 8 * 1024
    WEBHOOK_ALLOWED_NETWORKS = ("127.0.0.0/8", "::1/128")  # the tests' receivers


class ProductionConfig(Config):
    ENV_NAME = "production"
    DEBUG = False


CONFIGS = {
    "development": DevelopmentConfig,
    "testing": TestingConfig,
    "production": ProductionConfig,
}
