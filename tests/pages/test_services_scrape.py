"""WF7 page_scrape through the engine, against the website sandbox over real HTTP."""
import hashlib

import pytest

from contacts.models import Contact
from curation import engine, registry, services
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


def test_scrape_stores_content_and_metadata(wf, websites):
    page = scrape(wf, "https://index-acme.de/kontakt", "index-acme.de")
    assert page.page_scrape_processing_status == "Completed", page.page_scrape_processing_error
    content = page.content
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


def test_the_contacts_extension_point_is_called_with_the_stored_content(wf, websites, monkeypatch):
    calls = []

    def record(*, page, content, found):
        calls.append((page.pk, content.pk, content.html[:15], found.metadata["title"]))

    monkeypatch.setattr("pages.services.record_page_contacts", record)
    page = scrape(wf, "https://acme.com/contact", "acme.com")
    assert calls == [(page.pk, page.content.pk, "<!DOCTYPE html>", page.content.title)]
    assert page.content.title, "the metadata stored comes from the same extraction as the contacts"


def test_the_page_is_parsed_once_for_metadata_and_contacts(wf, websites, monkeypatch):
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
    assert len(calls) == 1, "one HTML parse per scraped page (metadata and contacts share the tree)"
    assert page.content.title and Contact.objects.filter(domain=page.domain).exists()


def test_a_failing_contacts_extension_rolls_back_the_content(wf, websites, monkeypatch):
    def record(*, page, content, found):
        raise RuntimeError("extractor crashed")

    monkeypatch.setattr("pages.services.record_page_contacts", record)
    page = scrape(wf, "https://acme.com/contact", "acme.com")
    assert page.page_scrape_processing_status == "Queued" and page.page_scrape_error_class == "bug"
    assert "RuntimeError: extractor crashed" in page.page_scrape_processing_error
    assert not PageContent.objects.filter(page=page).exists()
