"""ScraperSky settings: everything comes from the environment (see .env.example).

Defaults are the embedded ones: a SQLite file in the project, django-q2's ORM
broker and the bundled sandbox, so `make run` needs nothing but Python.
"""
from __future__ import annotations

import os
import secrets
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    if value.lower() in {"1", "true", "yes", "on"}:
        return True
    if value.lower() in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (1/0, true/false), got {value!r}")


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    try:
        return int(value)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} must be an integer, got {value!r}") from exc


def env_list(name: str, default: list[str]) -> list[str]:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


DEBUG = env_bool("DEBUG", True)


def _secret_key() -> str:
    key = os.environ.get("SECRET_KEY", "")
    if key:
        return key
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")
    # Development only: generate once and keep it beside the project (gitignored),
    # so sessions and tokens survive a restart of `make run`.
    key_file = BASE_DIR / ".secret_key"
    if not key_file.exists():
        key_file.write_text(secrets.token_urlsafe(50))
    return key_file.read_text().strip()


SECRET_KEY = _secret_key()
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework_simplejwt",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_q",
    "curation",
    "places",
    "pages",
    "contacts",
    "scrapersky.sandbox",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
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
DATABASE_URL = os.environ.get("DATABASE_URL") or f"sqlite:///{BASE_DIR / 'db.sqlite3'}"
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
ATOMIC_REQUESTS = False  # services own their transactions

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = os.environ.get("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"

CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- API ----------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework_simplejwt.authentication.JWTAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["scrapersky.permissions.ReadAuthenticatedWriteModelPermissions"],
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
}
SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=env_int("JWT_ACCESS_MINUTES", 30)),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=env_int("JWT_REFRESH_DAYS", 1)),
    "AUTH_HEADER_TYPES": ("Bearer",),
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

# --- Background work (django-q2) ----------------------------------------------
REDIS_URL = os.environ.get("REDIS_URL", "")
Q_CLUSTER = {
    "name": os.environ.get("Q_CLUSTER_NAME", "scrapersky"),  # Redis list key: one per deployment sharing a Redis
    "workers": env_int("Q_WORKERS", 2),
    "timeout": env_int("Q_TIMEOUT", 240),  # hard stop of one workflow run
    "retry": env_int("Q_TIMEOUT", 240) + 60,  # must exceed timeout, or a slow run is redelivered
    "max_attempts": 1,  # per-row retries live in curation.engine
    "ack_failures": True,
    "catch_up": False,  # never replay missed polling ticks after downtime
    "queue_limit": 4,
    "poll": float(os.environ.get("Q_POLL", "0.5")),  # idle broker poll (seconds): bounds wake-up latency
    "save_limit": env_int("Q_SAVE_LIMIT", 500),  # successful task results kept (0 = all)
    "recycle": 500,
    "label": "Task queue",
}
if REDIS_URL:
    Q_CLUSTER["redis"] = REDIS_URL
else:
    Q_CLUSTER["orm"] = "default"  # same alias as the app (django-q2 #293)

# --- Curation engine ------------------------------------------------------------
CURATION_MAX_BATCH = env_int("CURATION_MAX_BATCH", 10_000)
# Queueing rows wakes a worker at once (on commit) instead of waiting for the schedule.
CURATION_WAKE_ON_QUEUE = env_bool("CURATION_WAKE_ON_QUEUE", True)

# --- Admin account created by `make run` ----------------------------------------
ADMIN_USERNAME = os.environ.get("ADMIN_USERNAME", "admin")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "INFO"}},
}

# --- Per-app settings (HackSoft "components"): each app's integrations ----------
from scrapersky.components.places import *  # noqa: E402,F401,F403
from scrapersky.components.pages import *  # noqa: E402,F401,F403
from scrapersky.components.contacts import *  # noqa: E402,F401,F403
