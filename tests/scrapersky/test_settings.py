"""The settings layer: one typed parser, safe production defaults, `check --deploy` clean (issue #11)."""
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from scrapersky.env import Env, parse_network

BASE_DIR = Path(settings.BASE_DIR)
# The production environment docs/deployment.md §2 documents (values made up, same shape).
PRODUCTION_ENV = {
    "DEBUG": "0",
    "SECRET_KEY": "k" * 20 + "Zq8v-3xYpL0_wRt7NbHc5uJm2AeQ9sDf",
    "ALLOWED_HOSTS": "scrapersky.example.com",
    "CSRF_TRUSTED_ORIGINS": "https://scrapersky.example.com",
    "SECURE_PROXY_SSL_HEADER": "X-Forwarded-Proto",
    "NUM_PROXIES": "1",
    "SECURE_HSTS_PRELOAD": "1",
    "DATABASE_URL": "postgres://scrapersky:secret@db.internal:5432/scrapersky",
    "GOOGLE_MAPS_API_KEY": "AIza-made-up",
    "SANDBOX": "0",
}


def manage(*args, env: dict[str, str]) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items()
             if k not in ("DEBUG", "SECRET_KEY", "SANDBOX", "GOOGLE_MAPS_API_KEY", "DATABASE_URL", "REDIS_URL")}
    return subprocess.run([sys.executable, str(BASE_DIR / "manage.py"), *args], cwd=BASE_DIR, capture_output=True,
                          text=True, timeout=120, env={**clean, "DJANGO_SETTINGS_MODULE": "scrapersky.settings", **env})


def test_check_deploy_with_the_documented_production_environment_gives_zero_warnings():
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=PRODUCTION_ENV)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout


def test_the_production_environment_is_documented_in_deployment_md():
    text = (BASE_DIR / "docs" / "deployment.md").read_text()
    for name in PRODUCTION_ENV:
        assert f"{name}=" in text, f"{name} missing from docs/deployment.md"


def test_debug_is_off_unless_set_and_secret_key_is_then_required():
    result = manage("check", env={"SECRET_KEY": ""})
    assert result.returncode != 0
    assert "SECRET_KEY must be set when DEBUG is off" in result.stderr


def test_make_run_and_make_demo_turn_debug_on_explicitly():
    makefile = (BASE_DIR / "Makefile").read_text()
    assert "run demo: export DEBUG := 1" in makefile


def test_malformed_values_stop_start_up_with_a_message_naming_the_variable():
    result = manage("check", env={**PRODUCTION_ENV, "Q_WORKERS": "two"})
    assert result.returncode != 0 and "Q_WORKERS must be an integer, got 'two'" in result.stderr
    result = manage("check", env={**PRODUCTION_ENV, "SANDBOX": "maybe"})
    assert "SANDBOX must be a boolean" in result.stderr


def test_the_running_settings_are_secure():
    # pytest-django runs with the test settings; what production relies on is still in place.
    assert settings.DEBUG is False
    assert settings.SESSION_COOKIE_SECURE and settings.CSRF_COOKIE_SECURE
    assert settings.SECURE_HSTS_SECONDS >= 31_536_000
    assert settings.X_FRAME_OPTIONS == "DENY"


@pytest.mark.parametrize("method, value, expected", [
    ("bool", "1", True), ("bool", "off", False), ("bool", " Yes ", True), ("bool", "", None),
    ("int", "42", 42), ("float", "2.5", 2.5), ("list", "a, b,,c", ["a", "b", "c"]),
    ("int_list", "3, 7", [3, 7]), ("host_map", "*=127.0.0.1:8102,a.test=[::1]:80",
                                   {"*": "127.0.0.1:8102", "a.test": "[::1]:80"}),
    ("rate", "10/min", "10/min"), ("choice", "warning", "WARNING"), ("header", "X-Forwarded-Proto", "X-Forwarded-Proto"),
    ("networks", "10.0.0.0/8,127.0.0.1:8102,[::1]:8102",
                                   ["10.0.0.0/8", "127.0.0.1:8102", "[::1]:8102"]),
])
def test_env_parses_each_type(method, value, expected):
    defaults = {"bool": (None,), "int": (0,), "float": (0.0,), "list": (), "int_list": (), "host_map": (),
                "rate": ("1/s",), "networks": (), "choice": ("INFO", ("INFO", "WARNING")), "header": ()}
    assert getattr(Env({"X": value}), method)("X", *defaults[method]) == expected


@pytest.mark.parametrize("method, value, message", [
    ("bool", "maybe", "X must be a boolean"), ("int", "1e3", "X must be an integer"),
    ("int", "-1", "X must be an integer >= 0"), ("float", "nan", "X must be a finite number"),
    ("float", "1,5", "X must be a number"), ("int_list", "3,x", "comma-separated integers"),
    ("host_map", "*=localhost:80", '"host=ip:port"'), ("host_map", "nope", '"host=ip:port"'),
    ("rate", "10 per minute", 'a rate like "10/min"'), ("networks", "127.0.0.1:http", "CIDRs"),
    ("url", "ftp://x", "X must be a URL"), ("choice", "loud", "X must be one of DEBUG, INFO"),
    ("header", "X Forwarded: Proto", "an HTTP header name"),
])
def test_env_refuses_malformed_values(method, value, message):
    kwargs = {"minimum": 0} if method == "int" else {}
    defaults = {"bool": (False,), "int": (0,), "float": (0.0,), "int_list": (), "host_map": (), "rate": ("1/s",),
                "networks": (), "url": ("",), "choice": ("INFO", ("DEBUG", "INFO")), "header": ()}
    with pytest.raises(ImproperlyConfigured, match=message.replace("(", r"\(").replace("[", r"\[")):
        getattr(Env({"X": value}), method)("X", *defaults[method], **kwargs)


def test_a_url_with_a_password_is_never_echoed_in_an_error():
    with pytest.raises(ImproperlyConfigured) as info:
        Env({"REDIS_URL": "http://u:hunter2@redis"}).url("REDIS_URL", schemes=("redis",))
    assert "hunter2" not in str(info.value)


def test_parse_network_with_and_without_port():
    assert parse_network("127.0.0.1:8102") == (parse_network("127.0.0.1/32")[0], 8102)
    assert parse_network("[::1]:8102")[1] == 8102 and parse_network("::1/128")[1] is None
    with pytest.raises(ValueError):
        parse_network("127.0.0.1:70000")


@pytest.mark.django_db
def test_migrate_creates_the_database_cache_table_the_throttles_use(settings):
    """Production without Redis counts throttles in the database: `migrate` alone must create the table."""
    from importlib import import_module

    from django.core.cache.backends.db import DatabaseCache
    from django.db import connection

    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.db.DatabaseCache",
                                   "LOCATION": "scrapersky_cache_test"}}
    migration = import_module("scrapersky.access.migrations.0002_cache_table")
    with connection.schema_editor() as editor:
        migration.create_cache_table(None, editor)
    assert "scrapersky_cache_test" in connection.introspection.table_names()
    cache = DatabaseCache("scrapersky_cache_test", {})
    cache.set("k", "v")
    assert cache.get("k") == "v"
