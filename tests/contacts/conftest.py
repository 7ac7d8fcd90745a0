"""Fixtures of the contacts tests: the CRM + webhook sandbox over real HTTP."""
from __future__ import annotations

import httpx
import pytest

from scrapersky.sandbox import crm
from scrapersky.sandbox.server import serve_in_thread


class _Switch:
    """One server per module; each test installs a fresh sandbox app behind it."""

    app = None

    def __call__(self, environ, start_response):
        return self.app(environ, start_response)


class CrmSandboxHandle:
    def __init__(self, app: crm.CrmSandbox, base_url: str):
        self.app = app
        self.base_url = base_url
        self.brevo_url = f"{base_url}/brevo"
        self.hubspot_url = f"{base_url}/hubspot"

    def webhook_url(self, name: str = "sync") -> str:
        return f"{self.base_url}/webhook/{name}"

    def state(self) -> dict:
        """The sandbox's stored data, read over HTTP like the demo does."""
        response = httpx.get(f"{self.base_url}/_sandbox/state", timeout=30)
        response.raise_for_status()
        return response.json()

    def requests_to(self, prefix: str) -> list[dict]:
        return [r for r in self.state()["requests"] if r["path"].startswith(prefix)]


@pytest.fixture(scope="module")
def _crm_server():
    switch = _Switch()
    running = serve_in_thread(switch, port=0)
    yield switch, running.base_url
    running.stop()


@pytest.fixture
def crm_sandbox(_crm_server) -> CrmSandboxHandle:
    switch, base_url = _crm_server
    switch.app = crm.make_app(slow_seconds=30.0)  # far above the timeouts that must fire (tests use 3 s)
    return CrmSandboxHandle(switch.app, base_url)


class RecordingSleep:
    """A real sleep that remembers how long each wait was."""

    def __init__(self):
        self.waits: list[float] = []

    def __call__(self, seconds: float) -> None:
        import time

        self.waits.append(seconds)
        time.sleep(seconds)


@pytest.fixture
def recording_sleep() -> RecordingSleep:
    return RecordingSleep()
