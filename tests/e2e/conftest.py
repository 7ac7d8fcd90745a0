"""Fixtures of the end-to-end tests: the whole product against the offline sandbox.

- `sandboxes`: the three sandbox servers (Google Places API, business websites,
  CRMs + webhook receiver) in this process, each on a free loopback port.
- `pipeline_env`: the environment of the `qcluster` subprocesses, pointing
  every integration at those ports. Every value goes through the environment
  exactly as the settings modules read it (scrapersky/components/*.py), with
  one exception: `CONTACTS_DNS_RESOLVER_FACTORY` has no environment variable,
  so the workers run with DJANGO_SETTINGS_MODULE=tests.e2e.worker_settings,
  which reads it (tests/e2e/fake_dns.py: DNS is contact validation's network
  boundary and never reaches the internet).
- `pipeline_settings`: the same configuration in this process (pytest-django
  `settings`), built by evaluating the same settings modules under the same
  environment, so that the test's own API and admin requests (which check
  readiness and enqueue wake-ups) see what the workers see.

The configuration is the offline sandbox mode a newcomer gets from `make run`
(no GOOGLE_MAPS_API_KEY, SANDBOX=1: the admin shows its sandbox banner), with
the sandbox on free ports instead of 8101–8103, where a developer's `make run`
may be listening. Every URL is given explicitly (GOOGLE_PLACES_BASE_URL,
FETCH_HOST_MAP, BREVO_BASE_URL, …) and the SANDBOX_*_PORT settings name the
same ports, so no default can reach another server.
"""
from __future__ import annotations

from dataclasses import dataclass

import httpx
import pytest
from django.conf import settings as django_settings

from scrapersky.sandbox import crm, places_api, websites
from scrapersky.sandbox.server import RunningServer, serve_in_thread

FAKE_DNS_FACTORY = "tests.e2e.fake_dns.resolver_factory"
WORKER_SETTINGS = "tests.e2e.worker_settings"


@dataclass
class Sandboxes:
    places: RunningServer
    websites: RunningServer
    crm: RunningServer

    def crm_state(self) -> dict:
        """What the CRM sandbox stored, read over HTTP (GET /_sandbox/state)."""
        response = httpx.get(f"{self.crm.base_url}/_sandbox/state", timeout=30)
        response.raise_for_status()
        return response.json()

    def stop(self) -> None:
        for server in (self.places, self.websites, self.crm):
            server.stop()


@pytest.fixture
def sandboxes():
    started = []
    try:
        for make_app in (places_api.make_app, websites.make_app, crm.make_app):
            started.append(serve_in_thread(make_app(), port=0))
        boxes = Sandboxes(*started)
        yield boxes
    finally:
        for server in started:
            server.stop()


def environment_for(boxes: Sandboxes) -> dict[str, str]:
    """The environment variables that point the app at `boxes` (the format each settings module parses)."""
    return {
        # Sandbox mode: no Google key (an empty value overrides any key in the outer environment), SANDBOX=1.
        "SANDBOX": "1",
        "SANDBOX_PLACES_PORT": str(boxes.places.port),
        "SANDBOX_WEBSITES_PORT": str(boxes.websites.port),
        "SANDBOX_CRM_PORT": str(boxes.crm.port),
        # Google Places: the sandbox at an explicit base URL; get_client() then sends the sandbox's key.
        "GOOGLE_MAPS_API_KEY": "",
        "GOOGLE_PLACES_BASE_URL": boxes.places.base_url,
        # Timeouts that must not fire, generous: the suite runs on a loaded 2-core machine (issue #10).
        "GOOGLE_PLACES_TIMEOUT": "30",
        "GOOGLE_PLACES_LANGUAGE": "en",
        "GOOGLE_PLACES_REGION": "",
        "GOOGLE_PLACES_DAILY_LIMIT": "1000",
        # Websites: every host name to the websites sandbox ("host=ip:port" pairs, comma-separated), loopback allowed.
        "FETCH_HOST_MAP": f"*=127.0.0.1:{boxes.websites.port}",
        "FETCH_ALLOW_PRIVATE": "127.0.0.0/8,::1/128",
        "FETCH_PER_HOST_DELAY": "0",
        "FETCH_PER_HOST_CONCURRENCY": "2",
        "FETCH_CONNECT_TIMEOUT": "10",
        "FETCH_READ_TIMEOUT": "30",
        "FETCH_TOTAL_TIMEOUT": "60",
        # CRMs and the webhook receiver: one sandbox, three prefixes, the sandbox's credentials.
        "BREVO_API_KEY": crm.BREVO_KEY,
        "BREVO_BASE_URL": f"{boxes.crm.base_url}/brevo",
        "BREVO_LIST_IDS": "",
        "HUBSPOT_ACCESS_TOKEN": crm.HUBSPOT_TOKEN,
        "HUBSPOT_BASE_URL": f"{boxes.crm.base_url}/hubspot",
        "WEBHOOK_SYNC_URL": f"{boxes.crm.base_url}/webhook/sync",
        "WEBHOOK_SYNC_SECRET": crm.WEBHOOK_SECRET,
        "CRM_TIMEOUT": "30",
        # DNS: the fake resolver (read by tests/e2e/worker_settings.py; no settings module reads it).
        "CONTACTS_DNS_RESOLVER_FACTORY": FAKE_DNS_FACTORY,
        # Queueing wakes a worker at once; the test database has no django-q2 schedules, so nothing else would.
        "CURATION_WAKE_ON_QUEUE": "1",
    }


def settings_under(env: dict[str, str]) -> dict:
    """The UPPER_CASE settings scrapersky/components/*.py produce under `env` (fresh module copies)."""
    from tests.support import component_settings

    return component_settings(env, isolated=False)


@pytest.fixture
def pipeline_env(sandboxes) -> dict[str, str]:
    """Environment of a qcluster subprocess (`processes.start("qcluster", env=pipeline_env)`)."""
    return {**environment_for(sandboxes), "DJANGO_SETTINGS_MODULE": WORKER_SETTINGS}


@pytest.fixture
def pipeline_settings(sandboxes, settings):
    """This process configured like the workers: the same environment through the same settings modules."""
    from pages import fetch

    env = environment_for(sandboxes)
    values = settings_under(env)
    # What the subprocesses will parse, checked once here so that a format change fails loudly.
    assert values["FETCH_HOST_MAP"] == {"*": f"127.0.0.1:{sandboxes.websites.port}"}, values["FETCH_HOST_MAP"]
    assert values["FETCH_ALLOW_PRIVATE"] == ["127.0.0.0/8", "::1/128"]
    assert values["GOOGLE_PLACES_BASE_URL"] == sandboxes.places.base_url and values["SANDBOX_ENABLED"]
    assert values["WEBHOOK_SYNC_URL"].startswith(sandboxes.crm.base_url)
    for key, value in values.items():
        setattr(settings, key, value)
    settings.CONTACTS_DNS_RESOLVER_FACTORY = FAKE_DNS_FACTORY
    settings.CURATION_WAKE_ON_QUEUE = True
    fetch.clear_caches()
    yield settings
    fetch.clear_caches()
