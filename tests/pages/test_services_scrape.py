"""WF7 page_scrape through the engine, against the website sandbox over real HTTP, and the hand-over of what it
stored to contact_extraction (the next workflow: one parse for the metadata and the contacts)."""
import hashlib

import pytest

from contacts.models import Contact
from curation import engine, registry, services
from curation.extension import ExtensionPoint
from pages.models import PageContent
from scrapersky.sandbox.websites import expected_contacts
from tests.pages.factories import DomainFactory, PageFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def wf():
    return registry.get("page_scrape")


def scrape(wf, url: str, host: str):
    page = PageFactory(domain=DomainFactory(domain=host), url=url, queued=True)
    engine.workflow_run(wf)
    page.refresh_from_db()
    return page


def extract():
    """Run the next stage (contact_extraction) on whatever the scrapes queued."""
    return engine.workflow_run(registry.get("contact_extraction"))


def test_scrape_stores_content_and_metadata(wf, websites):
    page = scrape(wf, "https://index-acme.de/kontakt", "index-acme.de")
    assert page.page_scrape_processing_status == "Completed", page.page_scrape_processing_error
    assert page.content.contact_extraction_processing_status == "Queued", "the scrape queues the extraction"
    assert extract().completed == 1
    content = PageContent.objects.get(page=page)
    assert content.contact_extraction_processing_status == "Completed"
    site = expected_contacts("index-acme.de")
    assert content.final_url == "https://index-acme.de/kontakt"
    assert content.status_code == 200 and content.content_type == "text/html"
    assert content.title == f"Kontakt | {site['business_name']}"
    assert content.h1 == "Kontakt"
    assert content.meta_description == f"{site['business_name']} – Kontakt"
    assert content.language == "de"
    assert content.canonical_url == "https://index-acme.de"
    assert content.word_count > 20
    assert set(content.social_links) == {u.replace("://www.", "://") for u in site["socials"]}  # canonical profiles
    assert site["main_email"] in content.html, "the HTML is kept for re-extraction"
    assert content.content_hash == hashlib.sha256(content.html.encode()).hexdigest()
    assert content.size_bytes == len(content.html.encode())
    assert content.fetched_at and content.elapsed_ms is not None


def test_rescrape_replaces_the_content(wf, websites):
    page = scrape(wf, "https://acme.com/contact", "acme.com")
    first = page.content.pk
    services.curation_status_set(workflow=wf, ids=[page.pk], status="Selected", reprocess=True)
    engine.workflow_run(wf)
    page.refresh_from_db()
    assert page.page_scrape_processing_status == "Completed"
    assert PageContent.objects.filter(page=page).count() == 1
    assert page.content.pk == first


def test_redirects_are_followed_and_recorded(wf, websites):
    page = scrape(wf, "https://acme.com/__redirect?to=/about&status=301", "acme.com")
    assert page.page_scrape_processing_status == "Completed"
    assert page.content.final_url == "https://acme.com/about"
    assert page.content.redirects == ["https://acme.com/about"]


def test_not_found_is_an_http_4xx_error_with_the_url(wf, websites):
    page = scrape(wf, "https://notfound-acme.com/contact", "notfound-acme.com")
    assert page.page_scrape_processing_status == "Error"
    assert page.page_scrape_error_class == "http_4xx"
    assert page.page_scrape_processing_error == "HTTP 404 from https://notfound-acme.com/contact"
    assert not PageContent.objects.filter(page=page).exists()


def test_robots_disallowed_is_an_error_of_class_blocked(wf, websites):
    page = scrape(wf, "https://blocked-scrape.com/contact", "blocked-scrape.com")
    assert page.page_scrape_processing_status == "Error"
    assert page.page_scrape_error_class == "blocked"
    assert page.page_scrape_processing_error == "Disallowed by robots.txt: https://blocked-scrape.com/contact"
    assert websites.app.stats["requests"].get("blocked-scrape.com") == 1, "only robots.txt was fetched"


def test_rate_limited_is_retried_after_the_servers_delay(wf, websites):
    page = scrape(wf, "https://ratelimit-acme.com/contact", "ratelimit-acme.com")
    assert page.page_scrape_processing_status == "Queued"
    assert page.page_scrape_error_class == "rate_limited"
    assert "HTTP 429" in page.page_scrape_processing_error


def test_too_large_page_is_an_error_with_the_limit(wf, websites, settings):
    settings.FETCH_MAX_BYTES = 1024 * 1024
    page = scrape(wf, "https://toolarge-acme.com/", "toolarge-acme.com")
    assert page.page_scrape_processing_status == "Error"
    assert page.page_scrape_error_class == "too_large"
    assert "more than 1048576 bytes" in page.page_scrape_processing_error


def test_every_error_has_a_message(wf, websites):
    for url, host in [("https://notfound-acme.com/contact", "notfound-acme.com"),
                      ("https://blocked-acme.com/team", "blocked-acme.com"),
                      ("https://acme.com/__status/500", "acme.com")]:
        page = scrape(wf, url, host)
        assert page.page_scrape_processing_status in ("Error", "Queued")
        assert page.page_scrape_processing_error.strip(), url  # never empty (original B-17)


def _provided(func) -> ExtensionPoint:
    point = ExtensionPoint("test.content_stored")
    point.provide(func)
    return point


def test_the_contacts_extension_point_is_called_with_the_stored_content(wf, websites, monkeypatch):
    calls = []

    def stored(*, page, content):
        calls.append((page.pk, content.pk, content.html[:15], content.title))
        return True

    monkeypatch.setattr("pages.services.content_stored", _provided(stored))
    page = scrape(wf, "https://acme.com/contact", "acme.com")
    assert calls == [(page.pk, page.content.pk, "<!DOCTYPE html>", "")], "no metadata: the next stage extracts it"


def test_without_the_contacts_app_the_scrape_extracts_the_metadata_itself(wf, websites, monkeypatch):
    monkeypatch.setattr("pages.services.content_stored", ExtensionPoint("test.nobody"))
    page = scrape(wf, "https://index-acme.de/kontakt", "index-acme.de")
    assert page.page_scrape_processing_status == "Completed"
    assert page.content.title.startswith("Kontakt | ") and page.content.language == "de"
    assert page.content.contact_extraction_processing_status is None, "nothing queued without the contacts app"


def test_the_scrape_parses_nothing_and_extraction_parses_once(wf, websites, monkeypatch):
    import contacts.extract as extract_module

    calls = []
    real = extract_module.parse

    def counting_parse(text):
        calls.append(len(text))
        return real(text)

    monkeypatch.setattr(extract_module, "parse", counting_parse)
    # the metadata parser of its own (what the scrape used before) counts as a parse too
    monkeypatch.setattr("pages.services.page_metadata_extract", lambda *a, **k: calls.append("metadata") or {})
    page = scrape(wf, "https://acme.com/contact", "acme.com")
    assert page.page_scrape_processing_status == "Completed"
    assert calls == [], "the fetch path parses no HTML (its threads wait on the network, not on the GIL)"
    assert not Contact.objects.filter(domain=page.domain).exists()
    assert extract().completed == 1
    assert len(calls) == 1, "one HTML parse per scraped page (metadata and contacts share the tree)"
    content = PageContent.objects.get(page=page)
    assert content.title and Contact.objects.filter(domain=page.domain).exists()


def test_a_rescrape_queues_the_extraction_of_the_new_content(wf, websites):
    page = scrape(wf, "https://acme.com/contact", "acme.com")
    extract()
    assert PageContent.objects.get(page=page).contact_extraction_processing_status == "Completed"
    services.curation_status_set(workflow=wf, ids=[page.pk], status="Selected", reprocess=True)
    engine.workflow_run(wf)
    content = PageContent.objects.get(page=page)
    assert content.contact_extraction_processing_status == "Queued" and content.title == ""
    assert extract().completed == 1
    assert PageContent.objects.get(page=page).title


def test_a_failing_contacts_extension_rolls_back_the_content(wf, websites, monkeypatch):
    def stored(*, page, content):
        raise RuntimeError("extractor crashed")

    monkeypatch.setattr("pages.services.content_stored", _provided(stored))
    page = scrape(wf, "https://acme.com/contact", "acme.com")
    assert page.page_scrape_processing_status == "Queued" and page.page_scrape_error_class == "bug"
    assert "RuntimeError: extractor crashed" in page.page_scrape_processing_error
    assert not PageContent.objects.filter(page=page).exists()
