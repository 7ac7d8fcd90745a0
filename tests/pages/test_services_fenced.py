"""A stale worker cannot change a pages workflow's results (issue #10, finding 1)."""
from __future__ import annotations

from datetime import timedelta

import pytest

from contacts.models import Contact
from curation import engine, registry, services
from curation.lease import LeaseLost
from pages import fetch as fetch_module
from pages.models import PageContent
from pages.services import page_scrape
from scrapersky.sandbox.server import serve_in_thread
from tests.factories import lease_for
from tests.pages.factories import DomainFactory, PageFactory

pytestmark = pytest.mark.django_db


class _Site:
    """A website whose contact page changes between two fetches (served over real HTTP)."""

    def __init__(self):
        self.email = ""

    def __call__(self, environ, start_response):
        if environ["PATH_INFO"] == "/robots.txt":
            start_response("404 Not Found", [("Content-Type", "text/plain")])
            return [b"not found"]
        body = f"<html><head><title>Contact</title></head><body><p>Write to {self.email}</p></body></html>"
        start_response("200 OK", [("Content-Type", "text/html; charset=utf-8")])
        return [body.encode()]


@pytest.fixture
def site(settings):
    app = _Site()
    server = serve_in_thread(app)
    fetch_module.clear_caches()
    settings.FETCH_HOST_MAP = {"*": f"127.0.0.1:{server.port}"}
    settings.FETCH_ALLOW_PRIVATE = ["127.0.0.0/8", "::1/128"]
    settings.FETCH_PER_HOST_DELAY = 0.0
    yield app
    fetch_module.clear_caches()
    server.stop()


def test_stale_page_scrape_cannot_overwrite_the_newer_result(site):
    wf = registry.get("page_scrape")
    page = PageFactory(domain=DomainFactory(domain="corner-bakery.com"), url="https://corner-bakery.com/contact")
    stale = lease_for(wf, page, worker="worker-1")
    services.processing_rescue(workflow=wf, now=stale.deadline + timedelta(seconds=1))

    site.email = "orders@corner-bakery.com"
    page_scrape(record=page, lease=lease_for(wf, page, worker="worker-2"))
    fresh = PageContent.objects.get(page=page)
    assert "orders@corner-bakery.com" in fresh.html

    # Worker 1 fetched the page when it still showed the old address, then stalled past its lease.
    site.email = "old-address@corner-bakery.com"
    with pytest.raises(LeaseLost):
        page_scrape(record=page, lease=stale)

    after = PageContent.objects.get(page=page)
    assert (after.html, after.fetched_at, after.content_hash) == (fresh.html, fresh.fetched_at, fresh.content_hash)
    assert after.contact_extraction_processing_status == "Queued", "the fresh content waits for its extraction"
    assert engine.workflow_run(registry.get("contact_extraction")).completed == 1
    assert list(Contact.objects.filter(domain=page.domain).values_list("normalized", flat=True)) == [
        "orders@corner-bakery.com"], "the stale worker's contacts were written"
    page.refresh_from_db()
    assert page.page_scrape_processing_status == "Completed"
