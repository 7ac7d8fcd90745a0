"""ScraperSky settings: everything comes from the environment (see .env.example, docs/settings.md).

Every value goes through one typed parser (scrapersky/env.py) that refuses a
malformed value at start-up. The defaults are safe for production (DEBUG off,
HTTPS only, secure cookies, HSTS) and otherwise the embedded ones: a SQLite
file, django-q2's ORM broker and, without a Google key, the bundled sandbox.
`make run` turns DEBUG on explicitly for local use.
"""
from __future__ import annotations

import os
import secrets
import sys
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from scrapersky.env import env

BASE_DIR = Path(__file__).resolve().parent.parent


# Read first: the sandbox switch decides which apps are installed (scrapersky/components/sandbox.py).
from scrapersky.components.sandbox import SANDBOX_ENABLED  # noqa: E402

# Off unless set: `make run` and `make demo` turn it on explicitly for local use.
DEBUG = env.bool("DEBUG", False)


def _secret_key() -> str:
    key = env.str("SECRET_KEY")
    if key:
        return key
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off (docs/deployment.md); "
                                   "for local use set DEBUG=1, as `make run` does.")
    # Development only: generate once and keep it beside the project (gitignored),
    # so sessions and tokens survive a restart of `make run`.
    key_file = BASE_DIR / ".secret_key"
    if not key_file.exists():
        key_file.write_text(secrets.token_urlsafe(50))
    return key_file.read_text().strip()


SECRET_KEY = _secret_key()
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS")

# --- HTTPS (docs/deployment.md §2): on whenever DEBUG is off ----------------------
# Behind a TLS-terminating proxy, name the header it sets (X-Forwarded-Proto) so that Django knows a request
# was HTTPS; the proxy must overwrite that header from clients. Empty: no proxy header is trusted.
_PROXY_SSL_HEADER = env.header("SECURE_PROXY_SSL_HEADER")
if _PROXY_SSL_HEADER:
    SECURE_PROXY_SSL_HEADER = ("HTTP_" + _PROXY_SSL_HEADER.upper().replace("-", "_"), "https")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", not DEBUG)
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31_536_000, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", False)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Error pages and reports never show a password, key or a URL's credentials (DATABASE_URL, REDIS_URL, ...).
DEFAULT_EXCEPTION_REPORTER_FILTER = "scrapersky.errors.SecretsFilter"

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework_simplejwt",
    "rest_framework_simplejwt.token_blacklist",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_q",
    "curation",
    "places",
    "pages",
    "contacts",
    "scrapersky.access",  # after the apps whose permissions its groups hold
    # The offline stand-ins and their commands (`sandbox`, `demo`): installed only when the sandbox is on.
    *(["scrapersky.sandbox"] if SANDBOX_ENABLED else []),
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",  # collected static files, served by the app server itself
    "scrapersky.errors.ApiJsonErrorsMiddleware",  # every error under /api/ is JSON, whatever DEBUG is
    "scrapersky.errors.RejectNulMiddleware",  # a NUL in the query string: 400, not a database error
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "scrapersky.urls"
WSGI_APPLICATION = "scrapersky.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "scrapersky.context_processors.banner",
            ],
        },
    },
]

# --- Database -----------------------------------------------------------------
DATABASE_URL = env.url("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
                       schemes=("sqlite", "postgres", "postgresql", "pgsql", "postgis"), require_host=False)
DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=0, conn_health_checks=True)}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL + busy timeout + immediate transactions: the web server and one worker
    # share the file without "database is locked" errors.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 30,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    # A file, not :memory:, so a qcluster subprocess in the tests sees the test database;
    # one per test run, so that two runs on one machine never share it.
    DATABASES["default"]["TEST"] = {"NAME": str(BASE_DIR / f".test-db-{os.getpid()}.sqlite3")}
else:
    # One test database per test run, so concurrent runs on one server never collide.
    DATABASES["default"]["TEST"] = {"NAME": f"test_{DATABASES['default']['NAME']}_{os.getpid()}"}
    # A psycopg pool per web process (docs/deployment.md §3). Not in qcluster: its worker processes are
    # forked from a parent that has used the database, and a pool's connections must never cross a fork.
    DATABASE_POOL_MAX_SIZE = env.int("DATABASE_POOL_MAX_SIZE", 0, minimum=0)
    if DATABASE_POOL_MAX_SIZE and "qcluster" not in sys.argv:
        DATABASES["default"]["CONN_MAX_AGE"] = 0  # Django's pool replaces persistent connections
        DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
            "min_size": env.int("DATABASE_POOL_MIN_SIZE", 0, minimum=0),
            "max_size": DATABASE_POOL_MAX_SIZE,
            "timeout": env.int("DATABASE_POOL_TIMEOUT", 10, minimum=1),  # seconds a request waits for a connection
        }
    if env.bool("DATABASE_DISABLE_SERVER_SIDE_CURSORS", False):  # behind pgbouncer in transaction mode
        DATABASES["default"]["DISABLE_SERVER_SIDE_CURSORS"] = True
ATOMIC_REQUESTS = False  # services own their transactions

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = env.str("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(env.str("STATIC_ROOT", str(BASE_DIR / "staticfiles")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    # Compressed copies (gzip/brotli) made by collectstatic; no manifest, so a missing collectstatic never
    # turns a page into a 500 (whitenoise then serves nothing and the proxy or runserver serves static).
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
# Admin change lists and API pages on big tables (curation/counting.py).
COUNT_TIMEOUT_MS = env.int("COUNT_TIMEOUT_MS", 150, minimum=1)
ADMIN_FACETS_MAX_ROWS = env.int("ADMIN_FACETS_MAX_ROWS", 50_000, minimum=0)

# --- Background work (django-q2) and cache ----------------------------------------
REDIS_URL = env.url("REDIS_URL", "", schemes=("redis", "rediss", "unix"))
# The cache holds the throttles' counters, so it is shared by every web process: Redis when configured,
# else a database table (created by `migrate`: scrapersky/access/migrations/0002_cache_table.py).
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL,
                          "KEY_PREFIX": env.str("Q_CLUSTER_NAME", "scrapersky")}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.db.DatabaseCache",
                          "LOCATION": "scrapersky_cache"}}

# --- API ----------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework_simplejwt.authentication.JWTAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["scrapersky.permissions.ModelPermissions"],
    "DEFAULT_PAGINATION_CLASS": "scrapersky.api.PagePagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.OrderingFilter",
        "rest_framework.filters.SearchFilter",
    ],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "scrapersky.api.exception_handler",
    "UNAUTHENTICATED_USER": None,
    # Per user on every endpoint; the token endpoints add per-IP and per-username throttles (scrapersky.auth).
    "DEFAULT_THROTTLE_CLASSES": ["scrapersky.throttles.ApiUserThrottle"],
    "DEFAULT_THROTTLE_RATES": {
        "user": env.rate("API_THROTTLE_USER", "600/min"),
        "login_ip": env.rate("LOGIN_THROTTLE_RATE", "10/min"),
        "login_username": env.rate("LOGIN_THROTTLE_RATE", "10/min"),
    },
    # Proxies in front of the app: the client address is taken that many hops back in X-Forwarded-For
    # (0: REMOTE_ADDR). Behind one nginx: 1. Wrong values let clients choose their own throttle key.
    "NUM_PROXIES": env.int("NUM_PROXIES", 0, minimum=0),
}
SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=env.int("JWT_ACCESS_MINUTES", 30, minimum=1)),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=env.int("JWT_REFRESH_DAYS", 1, minimum=1)),
    "AUTH_HEADER_TYPES": ("Bearer",),
    # A refresh returns a new refresh token and blacklists the old one; logout blacklists it too.
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    # Tokens carry a hash of the password they were issued under: a password change refuses them all.
    "CHECK_REVOKE_TOKEN": True,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "ScraperSky API",
    "DESCRIPTION": "Curation-driven lead generation: every stage is a workflow with a "
    "curation status (set by people) and a processing status (set by workers).",
    "VERSION": "3.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "TAGS": [{"name": "legacy (compatibility)", "description": "The original ScraperSky API kept for its own "
              "clients (the compatibility surface); new clients use the other endpoints. docs/api-compat.md"}],
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # One vocabulary per kind of status, shared by every workflow: one schema enum each.
    "ENUM_NAME_OVERRIDES": {
        "CurationStatus": "curation.choices.CurationStatus",
        "ProcessingStatus": "curation.choices.ProcessingStatus",
        "DomainSource": "pages.models.DomainSource",
        "DomainKind": "pages.models.DomainKind",
        "PageSource": "pages.models.PageSource",
        "ContactKind": "contacts.models.ContactKind",
        "SuppressionKind": "contacts.models.SuppressionKind",
    },
}

Q_CLUSTER = {
    "name": env.str("Q_CLUSTER_NAME", "scrapersky"),  # Redis list key: one per deployment sharing a Redis
    "workers": env.int("Q_WORKERS", 2, minimum=1),
    "timeout": env.int("Q_TIMEOUT", 240, minimum=1),  # hard stop of one workflow run
    "retry": env.int("Q_TIMEOUT", 240, minimum=1) + 60,  # must exceed timeout, or a slow run is redelivered
    "max_attempts": 1,  # per-row retries live in curation.engine
    "ack_failures": True,
    "catch_up": False,  # never replay missed polling ticks after downtime
    "queue_limit": 4,
    "poll": env.float("Q_POLL", 0.5, minimum=0.01),  # idle broker poll (seconds): bounds wake-up latency
    "save_limit": env.int("Q_SAVE_LIMIT", 500, minimum=0),  # successful task results kept (0 = all)
    "recycle": 500,
    "label": "Task queue",
}
if REDIS_URL:
    Q_CLUSTER["redis"] = REDIS_URL
else:
    Q_CLUSTER["orm"] = "default"  # same alias as the app (django-q2 #293)

# --- Curation engine ------------------------------------------------------------
CURATION_MAX_BATCH = env.int("CURATION_MAX_BATCH", 10_000, minimum=1)
# Queueing rows wakes a worker at once (on commit) instead of waiting for the schedule.
CURATION_WAKE_ON_QUEUE = env.bool("CURATION_WAKE_ON_QUEUE", True)
# At most one wake-up per workflow per this many seconds and process (plus one at the end of the window):
# a hook queueing the next stage row by row (page_scrape → contact_extraction) sends one task a second, not one a row.
CURATION_WAKE_COALESCE_SECONDS = env.float("CURATION_WAKE_COALESCE_SECONDS", 1.0, minimum=0)

# --- Admin account created by `make run` ----------------------------------------
ADMIN_USERNAME = env.str("ADMIN_USERNAME", "admin")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"],
             "level": env.choice("LOG_LEVEL", "INFO", ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"))},
    "loggers": {"django.db.backends": {"level": "INFO"}},
}

# --- Per-app settings (HackSoft "components"): each app's integrations ----------
from scrapersky.components.sandbox import *  # noqa: E402,F401,F403
from scrapersky.components.places import *  # noqa: E402,F401,F403
from scrapersky.components.pages import *  # noqa: E402,F401,F403
from scrapersky.components.contacts import *  # noqa: E402,F401,F403
