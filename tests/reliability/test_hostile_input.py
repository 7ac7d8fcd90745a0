"""Hostile input through the real workflows: bounded time and memory, a clear error on the row,
and nothing half-written. (Each case also has focused tests next to its module.)"""
import time
import tracemalloc

import pytest

from contacts.extract import extract_contacts
from contacts.models import Contact
from curation import engine, registry
from pages.models import Page, PageContent
from tests.pages.conftest import websites, websites_server  # noqa: F401 - the website sandbox fixtures
from tests.pages.factories import DomainFactory, PageFactory, SitemapFileFactory

pytestmark = pytest.mark.django_db

# A hang guard against catastrophic backtracking, not a speed target (speed lives in bench/bench_extract.py):
# generous enough for a loaded CI machine with tracemalloc on, still far below "never finishes".
SECONDS = 300
MEGABYTES = 150


def run_bounded(workflow_name: str):
    tracemalloc.start()
    started = time.monotonic()
    try:
        report = engine.workflow_run(registry.get(workflow_name))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    seconds = time.monotonic() - started
    assert seconds < SECONDS, f"{workflow_name} took {seconds:.1f}s"
    assert peak < MEGABYTES * 2**20, f"{workflow_name} peaked at {peak / 2**20:.0f} MB"
    return report


@pytest.mark.parametrize(
    "host,path,error_class,message",
    [
        ("bomb-hostile.com", "/sitemap.xml.gz", "too_large", "bytes"),
        ("entities-hostile.com", "/sitemap.xml", "parse", "entit"),
        ("redirectloop-hostile.com", "/sitemap.xml", None, "sitemap-a.xml"),
        ("bigtext-hostile.com", "/sitemap.txt", "too_large", "bytes"),
    ],
)
def test_hostile_sitemaps_end_in_a_clear_error_and_write_no_pages(websites, settings, host, path, error_class, message):  # noqa: F811
    settings.SITEMAP_MAX_BYTES = 5 * 2**20
    settings.SITEMAP_MAX_DECOMPRESSED_BYTES = 20 * 2**20
    sitemap = SitemapFileFactory(domain=DomainFactory(domain=host), url=f"https://{host}{path}", queued=True)
    report = run_bounded("sitemap_import")
    sitemap.refresh_from_db()
    assert sitemap.sitemap_import_processing_status == "Error", report
    if error_class:
        assert sitemap.sitemap_import_error_class == error_class
    assert message in sitemap.sitemap_import_processing_error.lower() or message in sitemap.sitemap_import_processing_error
    assert host in sitemap.sitemap_import_processing_error or path in sitemap.sitemap_import_processing_error
    assert not Page.objects.filter(domain=sitemap.domain).exists(), "nothing half-written"


def test_self_listing_index_is_bounded(websites):  # noqa: F811
    host = "selfindex-hostile.com"
    sitemap = SitemapFileFactory(domain=DomainFactory(domain=host), url=f"https://{host}/sitemap_index.xml", queued=True)
    run_bounded("sitemap_import")
    sitemap.refresh_from_db()
    assert sitemap.sitemap_import_processing_status in ("Completed", "Error")
    assert Page.objects.filter(domain=sitemap.domain).count() < 100


def test_a_20_mb_page_is_refused_and_nothing_is_stored(websites):  # noqa: F811
    page = PageFactory(domain=DomainFactory(domain="toolarge-hostile.com"), url="https://toolarge-hostile.com/",
                       queued=True)
    run_bounded("page_scrape")
    page.refresh_from_db()
    assert (page.page_scrape_processing_status, page.page_scrape_error_class) == ("Error", "too_large")
    assert "toolarge-hostile.com" in page.page_scrape_processing_error
    assert not PageContent.objects.filter(page=page).exists()
    assert not Contact.objects.filter(domain=page.domain).exists()


def test_a_redirect_to_a_private_address_is_refused(websites, settings):  # noqa: F811
    settings.FETCH_HOST_MAP = {**settings.FETCH_HOST_MAP, "internal-hostile.com": "10.0.0.1:80"}
    page = PageFactory(domain=DomainFactory(domain="internal-hostile.com"), url="https://internal-hostile.com/",
                       queued=True)
    run_bounded("page_scrape")
    page.refresh_from_db()
    assert (page.page_scrape_processing_status, page.page_scrape_error_class) == ("Error", "ssrf_refused")
    assert "10.0.0.1" in page.page_scrape_processing_error
    assert not PageContent.objects.filter(page=page).exists()


@pytest.mark.parametrize(
    "name,html",
    [
        ("deep nesting", "<div>" * 20000 + "Mail us: info@deep-nest.com" + "</div>" * 20000),
        ("20 MB of text", "<html><body>" + "<p>lorem ipsum 12 34 56</p>" * 800_000 + "info@huge-page.com</body></html>"),
        ("broken encoding", b"<html><meta charset='utf-8'><body>Caf\xe9 \xff\xfe contact: info@broken-enc.com</body></html>"),
        ("unclosed tags and junk", "<html><body><a href='mailto:info@junk.com'<<<>>><script>var x='a@b.c'" * 1000),
    ],
)
def test_hostile_html_is_extracted_within_bounds(name, html):
    tracemalloc.start()
    started = time.monotonic()
    try:
        result = extract_contacts(html, page_url="https://hostile.example/", site_domain="hostile.example")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert time.monotonic() - started < SECONDS
    assert peak < 600 * 2**20, f"{name}: {peak / 2**20:.0f} MB"
    emails = {e.normalized for e in result.emails}
    assert emails <= {"info@deep-nest.com", "info@huge-page.com", "info@broken-enc.com", "info@junk.com"}
    if name != "unclosed tags and junk":
        assert emails, f"{name}: the address in the page was still found"
