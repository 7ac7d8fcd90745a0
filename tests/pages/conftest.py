"""Fixtures of the pages tests: the website sandbox over real HTTP on loopback."""
import pytest
from django.test import override_settings

from pages import fetch as fetch_module
from scrapersky.sandbox.server import serve_in_thread
from scrapersky.sandbox.websites import make_app


@pytest.fixture(scope="session")
def websites_server():
    app = make_app()
    server = serve_in_thread(app)
    server.app = app
    yield server
    server.stop()


# Timeouts that must not fire: generous, the suite runs on a loaded 2-core machine (issue #10). A test of a
# timeout sets its own, far below the sandbox's delay (slow- hosts answer after 5 s).
CONNECT_TIMEOUT, READ_TIMEOUT, TOTAL_TIMEOUT = 10, 30, 60


def sandbox_settings(server, **extra):
    """Settings that route every host to the sandbox and allow loopback (what the dev sandbox does)."""
    values = {
        "FETCH_HOST_MAP": {"*": f"127.0.0.1:{server.port}"},
        "FETCH_ALLOW_PRIVATE": ["127.0.0.0/8", "::1/128"],
        "FETCH_PER_HOST_DELAY": 0.0,
        "FETCH_PER_HOST_CONCURRENCY": 2,
        "FETCH_CONNECT_TIMEOUT": CONNECT_TIMEOUT,
        "FETCH_READ_TIMEOUT": READ_TIMEOUT,
        "FETCH_TOTAL_TIMEOUT": TOTAL_TIMEOUT,
        # the fetcher's own tests need no database; the shared backends have tests of their own
        "FETCH_POLITENESS_BACKEND": "local",
    }
    values.update(extra)
    return override_settings(**values)


@pytest.fixture
def sandbox(websites_server):
    """Route all hosts to the sandbox for the duration of a test; caches are cleared around it."""
    fetch_module.clear_caches()
    with sandbox_settings(websites_server):
        yield websites_server
    fetch_module.clear_caches()


@pytest.fixture
def configure(websites_server):
    """configure(**settings) -> a context manager with the sandbox settings plus overrides."""
    fetch_module.clear_caches()

    def make(**extra):
        fetch_module.clear_caches()
        return sandbox_settings(websites_server, **extra)

    yield make
    fetch_module.clear_caches()


@pytest.fixture
def websites(websites_server, settings):
    """The website sandbox behind the app's own fetcher (for the workflows' hooks), over real HTTP.

    Every host name resolves to the sandbox (FETCH_HOST_MAP {"*": ...}) and
    loopback passes the SSRF guard; robots.txt and per-host gates are
    forgotten before and after each test. Tests tighten limits through
    `settings` (pytest-django restores them).
    """
    fetch_module.clear_caches()
    settings.FETCH_HOST_MAP = {"*": f"127.0.0.1:{websites_server.port}"}
    settings.FETCH_ALLOW_PRIVATE = ["127.0.0.0/8", "::1/128"]
    settings.FETCH_PER_HOST_DELAY = 0.0
    settings.FETCH_PER_HOST_CONCURRENCY = 2
    settings.FETCH_CONNECT_TIMEOUT = CONNECT_TIMEOUT
    settings.FETCH_READ_TIMEOUT = READ_TIMEOUT
    settings.FETCH_TOTAL_TIMEOUT = TOTAL_TIMEOUT
    yield websites_server
    fetch_module.clear_caches()
