"""WF5 sitemap_import through the engine, against the website sandbox over real HTTP."""
import time

import pytest

from curation import engine, registry, services
from pages.models import Page, SitemapFile
from scrapersky.sandbox.websites import HUGE_URLS, expected_contacts
from tests.pages.factories import DomainFactory, PageFactory, SitemapFileFactory
from tests.support import HANG_GUARD_S

pytestmark = pytest.mark.django_db


@pytest.fixture
def wf():
    return registry.get("sitemap_import")


def import_file(wf, host: str, path: str, **kwargs) -> SitemapFile:
    domain = DomainFactory(domain=host)
    sitemap = SitemapFileFactory(domain=domain, url=f"https://{host}{path}", queued=True, **kwargs)
    engine.workflow_run(wf)
    sitemap.refresh_from_db()
    return sitemap


def rerun(wf, sitemap):
    services.curation_status_set(workflow=wf, ids=[sitemap.pk], status="Selected", reprocess=True)
    report = engine.workflow_run(wf)
    sitemap.refresh_from_db()
    return report


SUGGESTED = {
    "acme.com": {"/contact", "/about", "/team", "/locations"},
    "index-acme.de": {"/kontakt", "/ueber-uns", "/team", "/impressum"},
    "gzip-acme.es": {"/contacto", "/quienes-somos", "/equipo", "/aviso-legal"},
    "text-acme.fr": {"/nous-contacter", "/a-propos", "/equipe", "/mentions-legales"},
    "rss-acme.it": {"/contatti", "/chi-siamo", "/team", "/note-legali"},
    "atom-acme.nl": {"/contact", "/over-ons", "/team", "/colofon"},
}


@pytest.mark.parametrize("host,path,kind", [
    ("acme.com", "/sitemap.xml", "urlset"),
    ("index-acme.de", "/sitemap_index.xml", "index"),
    ("gzip-acme.es", "/sitemap.xml.gz", "urlset"),
    ("text-acme.fr", "/sitemap.txt", "text"),
    ("rss-acme.it", "/feed.xml", "rss"),
    ("atom-acme.nl", "/atom.xml", "atom"),
])
def test_import_of_every_sitemap_type(wf, websites, host, path, kind):
    sitemap = import_file(wf, host, path)
    assert sitemap.sitemap_import_processing_status == "Completed", sitemap.sitemap_import_processing_error
    assert sitemap.sitemap_type == kind
    assert sitemap.is_gzip == path.endswith(".gz")
    site = expected_contacts(host)
    pages = {p.url: p for p in Page.objects.filter(domain=sitemap.domain)}
    assert set(pages) == {f"https://{host}{p}".rstrip("/") if p != "/" else f"https://{host}/" for p in site["pages"]}
    assert sitemap.pages_imported == len(pages) == 11 and sitemap.pages_new == 11
    suggested = {u.split(host, 1)[1] for u, p in pages.items() if p.suggested}
    assert suggested == SUGGESTED[host]
    contact = pages[f"https://{host}{site['contact_path']}"]
    assert (contact.category, contact.scrape_priority) == ("contact", 1)
    assert contact.confidence >= 0.9
    assert all(p.page_scrape_curation_status == "New" and p.page_scrape_processing_status is None
               for p in pages.values()), "nothing is queued automatically (B-15, B-16)"
    assert all(p.source == "sitemap" for p in pages.values())
    assert "Imported 11 pages (11 new, 4 suggested)" in sitemap.import_note
    if kind in ("urlset", "index"):
        home = pages[f"https://{host}/"]
        assert home.lastmod is not None and home.changefreq == "monthly" and home.priority == 1.0
    if kind == "atom":
        assert all(p.lastmod is not None for p in pages.values())


def test_index_import_creates_child_rows_and_links_pages_to_them(wf, websites):
    sitemap = import_file(wf, "index-acme.de", "/sitemap_index.xml")
    children = {f.url.rsplit("/", 1)[1]: f for f in SitemapFile.objects.filter(parent=sitemap)}
    assert set(children) == {"sitemap-pages.xml", "sitemap-posts.xml"}
    for child in children.values():
        assert (child.discovered_how, child.depth, child.sitemap_type) == ("sitemap_index", 1, "urlset")
        assert child.sitemap_import_curation_status == "New" and child.sitemap_import_processing_status is None
    assert children["sitemap-pages.xml"].pages.count() == 8
    assert children["sitemap-posts.xml"].pages.count() == 3
    assert children["sitemap-posts.xml"].pages_imported == 3
    assert sitemap.url_count == 2


def test_reimport_is_idempotent_and_keeps_page_curation(wf, websites):
    sitemap = import_file(wf, "acme.com", "/sitemap.xml")
    contact = Page.objects.get(domain=sitemap.domain, url="https://acme.com/contact")
    services.curation_status_set(workflow=registry.get("page_scrape"), ids=[contact.pk], status="Selected")
    ids = set(Page.objects.values_list("pk", flat=True))
    rerun(wf, sitemap)
    assert sitemap.sitemap_import_processing_status == "Completed"
    assert set(Page.objects.values_list("pk", flat=True)) == ids
    assert sitemap.pages_imported == 11 and sitemap.pages_new == 0
    contact.refresh_from_db()
    assert (contact.page_scrape_curation_status, contact.page_scrape_processing_status) == ("Selected", "Queued")


def test_pages_of_the_fallback_crawl_are_adopted_by_a_sitemap(wf, websites):
    domain = DomainFactory(domain="acme.com")
    page = PageFactory(domain=domain, url="https://acme.com/contact", source="homepage_links")
    sitemap = SitemapFileFactory(domain=domain, url="https://acme.com/sitemap.xml", queued=True)
    engine.workflow_run(wf)
    page.refresh_from_db()
    assert (page.source, page.sitemap_file_id) == ("sitemap", sitemap.pk)
    assert Page.objects.filter(domain=domain).count() == 11


def test_huge_sitemap_is_imported_in_chunks_idempotently(wf, websites, settings, capsys):
    settings.FETCH_TOTAL_TIMEOUT = 120  # limits that must not cut the file short on a loaded machine
    settings.SITEMAP_TIME_BUDGET_S = 600
    started = time.monotonic()
    sitemap = import_file(wf, "huge-acme.com", "/sitemap.xml.gz")
    first = time.monotonic() - started
    assert sitemap.sitemap_import_processing_status == "Completed", sitemap.sitemap_import_processing_error
    assert Page.objects.filter(domain=sitemap.domain).count() == HUGE_URLS == 50_000
    assert sitemap.pages_imported == 50_000 and sitemap.pages_new == 50_000 and sitemap.url_count == 50_000
    assert not sitemap.truncated
    started = time.monotonic()
    rerun(wf, sitemap)
    second = time.monotonic() - started
    assert sitemap.sitemap_import_processing_status == "Completed"
    assert Page.objects.filter(domain=sitemap.domain).count() == 50_000
    assert sitemap.pages_new == 0
    with capsys.disabled():
        print(f"\n[measure] 50,000-URL gzip sitemap import: {first:.2f}s first run, {second:.2f}s re-run")


def test_per_file_url_cap(wf, websites, settings):
    settings.SITEMAP_MAX_URLS_PER_FILE = 1_000
    sitemap = import_file(wf, "huge-acme.com", "/sitemap.xml.gz")
    assert sitemap.sitemap_import_processing_status == "Completed"
    assert Page.objects.filter(domain=sitemap.domain).count() == 1_000
    assert sitemap.truncated
    assert "URL limit 1000 reached" in sitemap.import_note


def test_per_domain_url_budget_counts_pages_from_other_sources(wf, websites, settings):
    settings.SITEMAP_MAX_URLS_PER_DOMAIN = 8
    domain = DomainFactory(domain="acme.com")
    PageFactory.create_batch(5, domain=domain, source="homepage_links")
    sitemap = SitemapFileFactory(domain=domain, url="https://acme.com/sitemap.xml", queued=True)
    engine.workflow_run(wf)
    sitemap.refresh_from_db()
    assert sitemap.sitemap_import_processing_status == "Completed"
    assert sitemap.pages_imported == 3
    assert Page.objects.filter(domain=domain).count() == 8
    assert "may add at most 3" in sitemap.import_note


def test_selfindex_cycle_is_handled(wf, websites):
    sitemap = import_file(wf, "selfindex-cycle.com", "/sitemap_index.xml")
    assert sitemap.sitemap_import_processing_status == "Completed"
    assert Page.objects.filter(domain=sitemap.domain).count() == 11
    assert SitemapFile.objects.filter(domain=sitemap.domain).count() == 3
    assert "Cycle skipped: https://selfindex-cycle.com/sitemap_index.xml" in sitemap.import_note
    child = SitemapFile.objects.get(url="https://selfindex-cycle.com/sitemap-child.xml")
    assert child.parent == sitemap and child.sitemap_type == "index"
    assert websites.app.stats["requests"]["selfindex-cycle.com"] == 3, "each file fetched exactly once"


def test_index_depth_limit_is_reported(wf, websites, settings):
    settings.SITEMAP_MAX_DEPTH = 1
    sitemap = import_file(wf, "selfindex-acme.com", "/sitemap_index.xml")
    assert sitemap.sitemap_import_processing_status == "Completed"
    assert Page.objects.filter(domain=sitemap.domain).count() == 0
    assert "deeper than 1 levels" in sitemap.import_note


def test_gzip_bomb_ends_in_error_with_the_sizes(wf, websites, settings):
    settings.SITEMAP_MAX_DECOMPRESSED_BYTES = 8 * 1024 * 1024
    settings.FETCH_TOTAL_TIMEOUT = 120  # ~10 MB on the wire: the size cap, not the deadline, must end it
    settings.SITEMAP_TIME_BUDGET_S = 600
    started = time.monotonic()
    sitemap = import_file(wf, "bomb-acme.com", "/sitemap.xml.gz")
    assert time.monotonic() - started < 120, "a hang guard, not a speed target"
    assert sitemap.sitemap_import_processing_status == "Error"
    assert sitemap.sitemap_import_error_class == "too_large"
    message = sitemap.sitemap_import_processing_error
    assert "decompresses to more than 8388608 bytes (compressed size" in message
    assert "gzip bomb" in message
    assert not Page.objects.exists()


def test_bomb_larger_than_the_download_cap(wf, websites, settings):
    settings.SITEMAP_MAX_BYTES = 1024 * 1024
    sitemap = import_file(wf, "bomb-acme.com", "/sitemap.xml.gz")
    assert sitemap.sitemap_import_error_class == "too_large"
    assert "Response too large from https://bomb-acme.com/sitemap.xml.gz: more than 1048576 bytes" in \
        sitemap.sitemap_import_processing_error


def test_billion_laughs_is_a_parse_error(wf, websites):
    sitemap = import_file(wf, "entities-acme.com", "/sitemap.xml")
    assert sitemap.sitemap_import_processing_status == "Error"
    assert sitemap.sitemap_import_error_class == "parse"
    assert sitemap.sitemap_import_processing_error == (
        "Sitemap https://entities-acme.com/sitemap.xml declares a DTD (<!DOCTYPE>/<!ENTITY>); refused to prevent "
        "entity expansion")


def test_redirect_loop_is_an_error_naming_the_chain(wf, websites):
    sitemap = import_file(wf, "redirectloop-acme.com", "/sitemap.xml")
    assert sitemap.sitemap_import_processing_status == "Error"
    assert sitemap.sitemap_import_error_class == "network"
    assert sitemap.sitemap_import_processing_error == (
        "Redirect loop fetching https://redirectloop-acme.com/sitemap.xml: https://redirectloop-acme.com/sitemap.xml"
        " -> https://redirectloop-acme.com/sitemap-a.xml -> https://redirectloop-acme.com/sitemap.xml")


def test_missing_sitemap_is_an_http_4xx_error(wf, websites):
    sitemap = import_file(wf, "nositemap-acme.com", "/sitemap.xml")
    assert sitemap.sitemap_import_processing_status == "Error"
    assert sitemap.sitemap_import_error_class == "http_4xx"
    assert sitemap.sitemap_import_processing_error == "HTTP 404 from https://nositemap-acme.com/sitemap.xml"


def test_slow_sitemap_times_out_and_is_retried(wf, websites, settings):
    settings.FETCH_READ_TIMEOUT = 0.3
    settings.FETCH_TOTAL_TIMEOUT = 0.5
    started = time.monotonic()
    sitemap = import_file(wf, "slow-acme.com", "/sitemap.xml")  # every answer takes 5 s
    assert time.monotonic() - started < HANG_GUARD_S
    assert sitemap.sitemap_import_processing_status == "Queued"
    assert sitemap.sitemap_import_error_class == "timeout"
    assert sitemap.sitemap_import_processing_error.startswith("Attempt 1 of 4 failed, retrying: Timed out")
    assert sitemap.sitemap_import_available_at is not None


def test_time_budget_truncates_a_long_sitemap(wf, websites, settings):
    settings.SITEMAP_TIME_BUDGET_S = 0.2  # parsing 50,000 URLs takes longer
    settings.FETCH_TOTAL_TIMEOUT = 120
    sitemap = import_file(wf, "huge-acme.com", "/sitemap.xml.gz")
    assert sitemap.sitemap_import_processing_status == "Completed"
    assert sitemap.truncated
    assert "time budget exhausted" in sitemap.import_note
    assert 0 < Page.objects.count() < 50_000


def test_zero_time_budget_is_a_config_error(wf, websites, settings):
    settings.SITEMAP_TIME_BUDGET_S = 0.0
    sitemap = import_file(wf, "acme.com", "/sitemap.xml")
    assert sitemap.sitemap_import_processing_status == "Error"
    assert sitemap.sitemap_import_error_class == "config"
    assert "was not read: time budget exhausted" in sitemap.sitemap_import_processing_error


def test_urls_of_other_sites_are_not_imported(wf, websites):
    sitemap = import_file(wf, "acme.com", "/sitemap.xml")
    assert all(p.url.startswith("https://acme.com/") for p in Page.objects.all())
    assert sitemap.pages_imported == 11


# --- the real web's shapes (issue #12) ------------------------------------------------------------


def _site_urls(host: str) -> set[str]:
    return {f"https://{host}{p}".rstrip("/") if p != "/" else f"https://{host}/" for p in expected_contacts(host)["pages"]}


def test_import_of_a_yoast_index_with_root_relative_children_and_malformed_tails(wf, websites):
    host = "relindex-badcomment-blankline-acme.com"
    sitemap = import_file(wf, host, "/sitemap_index.xml", sitemap_type="index")
    assert sitemap.sitemap_import_processing_status == "Completed", sitemap.sitemap_import_processing_error
    assert set(Page.objects.filter(domain=sitemap.domain).values_list("url", flat=True)) == _site_urls(host)
    children = {f.url: f for f in SitemapFile.objects.filter(parent=sitemap)}
    assert set(children) == {f"https://{host}/post-sitemap.xml", f"https://{host}/page-sitemap.xml"}
    assert children[f"https://{host}/page-sitemap.xml"].pages.count() == 8
    assert not any(f.truncated for f in [sitemap, *children.values()])


def test_import_on_a_shared_host_keeps_the_sites_own_pages_only(wf, websites):
    host = "shared-alice.github.io"
    domain = DomainFactory(domain=host, site_builder=True)
    sitemap = SitemapFileFactory(domain=domain, url=f"https://{host}/sitemap_index.xml", sitemap_type="index",
                                 queued=True)
    engine.workflow_run(wf)
    sitemap.refresh_from_db()
    assert sitemap.sitemap_import_processing_status == "Completed", sitemap.sitemap_import_processing_error
    assert set(Page.objects.filter(domain=domain).values_list("url", flat=True)) == _site_urls(host)
    assert not SitemapFile.objects.filter(url__contains="bob.github.io").exists()
    assert websites.app.stats["requests"].get("bob.github.io", 0) == 0


def test_import_of_a_site_under_a_path(wf, websites):
    host = "pathsite-acme.github.io"
    domain = DomainFactory(domain=host, site_builder=True, homepage_url=f"https://{host}/project/")
    sitemap = SitemapFileFactory(domain=domain, url=f"https://{host}/project/sitemap.xml", queued=True)
    engine.workflow_run(wf)
    sitemap.refresh_from_db()
    assert sitemap.sitemap_import_processing_status == "Completed", sitemap.sitemap_import_processing_error
    urls = set(Page.objects.filter(domain=domain).values_list("url", flat=True))
    assert urls == _site_urls(host) and f"https://{host}/project/contact" in urls


def test_import_of_a_sitemap_with_an_unescaped_ampersand(wf, websites):
    host = "rawamp-acme.com"
    sitemap = import_file(wf, host, "/sitemap.xml")
    assert sitemap.sitemap_import_processing_status == "Completed", sitemap.sitemap_import_processing_error
    urls = set(Page.objects.filter(domain=sitemap.domain).values_list("url", flat=True))
    assert urls == _site_urls(host) | {f"https://{host}/services?lang=en&page=2"}
    assert not sitemap.truncated


def test_the_upsert_stores_every_fact_exactly_and_updates_only_facts_on_conflict():
    """pages_upsert's JSON document (PostgreSQL) and executemany (SQLite) keep each value as given: an aware
    lastmod, a float priority, the alternates list, a NULL sitemap file; a second upsert changes the facts only."""
    import datetime as dt

    from pages.services import _page_row, pages_upsert

    domain = DomainFactory(domain="facts.example")
    sitemap_file = SitemapFileFactory(domain=domain)
    when = dt.datetime(2025, 3, 1, 12, 30, 15, 123456, tzinfo=dt.UTC)
    rows = [
        _page_row(domain, "https://facts.example/kontakt/", source="sitemap", sitemap_file_id=sitemap_file.pk,
                  lastmod=when, changefreq="weekly", priority=0.8,
                  alternates=["https://facts.example/en/contact", "https://facts.example/fr/contact"]),
        _page_row(domain, "https://facts.example/blog/a-post?utm_source=x", source="homepage_links"),
    ]
    count = pages_upsert(domain, rows)
    assert (count.total, count.new, count.suggested) == (2, 2, 1)
    contact = Page.objects.get(domain=domain, url="https://facts.example/kontakt")
    assert (contact.lastmod, contact.changefreq, contact.priority) == (when, "weekly", 0.8)
    assert contact.alternates == ["https://facts.example/en/contact", "https://facts.example/fr/contact"]
    assert (contact.sitemap_file_id, contact.category, contact.suggested, contact.path_depth) == (
        sitemap_file.pk, "contact", True, 1)
    post = Page.objects.get(domain=domain, url="https://facts.example/blog/a-post")
    assert (post.sitemap_file_id, post.lastmod, post.priority, post.alternates, post.source) == (
        None, None, None, [], "homepage_links")
    Page.objects.filter(pk=contact.pk).update(page_scrape_curation_status="Selected")
    rows[0] = {**rows[0], "priority": 0.5, "alternates": []}
    again = pages_upsert(domain, rows)
    assert (again.total, again.new) == (2, 0)
    contact.refresh_from_db()
    assert (contact.priority, contact.alternates, contact.page_scrape_curation_status) == (0.5, [], "Selected")
