"""Fixtures: a Places sandbox on a free loopback port, spoken to over real HTTP.

One server runs for the session (stopping one costs half a second); each test
gets a fresh sandbox app behind it, with an empty request log and hook state.
"""
from __future__ import annotations

from dataclasses import dataclass

import pytest

from scrapersky.sandbox.places_api import SANDBOX_API_KEY, PlacesSandbox, load_dataset, make_app
from scrapersky.sandbox.server import serve_in_thread


class _Switch:
    """A WSGI app forwarding to whichever sandbox app the current test installed."""

    app: PlacesSandbox | None = None

    def __call__(self, environ, start_response):
        return self.app(environ, start_response)


@dataclass
class Sandbox:
    app: PlacesSandbox
    base_url: str


@pytest.fixture(scope="session")
def _places_server():
    switch = _Switch()
    running = serve_in_thread(switch, port=0)
    yield switch, running.base_url, load_dataset()
    running.stop()


@pytest.fixture
def sandbox(_places_server):
    switch, base_url, dataset = _places_server
    switch.app = make_app(dataset, slow_seconds=30.0)
    return Sandbox(app=switch.app, base_url=base_url)


@pytest.fixture
def sleeps():
    """A recording sleeper: retries are checked without spending wall-clock time."""
    return []


@pytest.fixture
def make_client(sandbox, sleeps):
    from places.google import PlacesClient

    clients = []

    def factory(**kwargs):
        options = {"base_url": sandbox.base_url, "api_key": SANDBOX_API_KEY, "timeout": 30.0}
        options.update(kwargs)
        client = PlacesClient(**options)
        clients.append(client)
        return client

    yield factory
    for client in clients:
        client.close()


@pytest.fixture
def google(sandbox, settings):
    """Point the app's Google client (places.google.get_client) at the sandbox, over real HTTP.

    Tests switch keys to force failures: `settings.GOOGLE_MAPS_API_KEY = places_api.KEY_DENIED`.
    """
    settings.SANDBOX_ENABLED = True
    settings.GOOGLE_PLACES_BASE_URL = sandbox.base_url
    settings.GOOGLE_MAPS_API_KEY = SANDBOX_API_KEY
    settings.GOOGLE_PLACES_TIMEOUT = 30.0  # issue #10: a timeout that must not fire is generous; the suite runs on a loaded machine
    settings.GOOGLE_PLACES_LANGUAGE = "en"
    settings.GOOGLE_PLACES_REGION = ""
    settings.GOOGLE_PLACES_DAILY_LIMIT = 1000
    return sandbox


@pytest.fixture(scope="session")
def _dense_city():
    from scrapersky.sandbox.places_api import load_dense_city

    return load_dense_city()


@pytest.fixture
def dense_google(google, _places_server, _dense_city):
    """`google`, with the sandbox serving the dense city (1,200 dentists in Quillhaven) and the localities."""
    switch, _base_url, dataset = _places_server
    switch.app = make_app(dataset + _dense_city["places"], localities=_dense_city["localities"], slow_seconds=30.0)
    google.app = switch.app
    return google
