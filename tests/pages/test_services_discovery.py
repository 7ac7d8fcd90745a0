"""WF4 sitemap_discovery through the engine, against the website sandbox over real HTTP."""
import pytest

from curation import engine, registry, services
from pages.models import Domain, Page, SitemapFile
from pages.sitemaps import CMS_SITEMAP_PATHS, WELL_KNOWN_SITEMAP_PATHS
from scrapersky.sandbox.websites import CMS_PATHS, expected_contacts
from tests.pages.factories import DomainFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def wf():
    return registry.get("sitemap_discovery")


def discover(wf, host: str, **kwargs) -> Domain:
    domain = DomainFactory(domain=host, queued=True, **kwargs)
    engine.workflow_run(wf)
    domain.refresh_from_db()
    return domain


def files(domain) -> dict[str, SitemapFile]:
    return {f.url.split("/", 3)[3]: f for f in SitemapFile.objects.filter(domain=domain)}


def test_the_original_well_known_paths_are_probed():
    original = ["/sitemap.xml", "/sitemap_index.xml", "/sitemap-index.xml", "/sitemap.php", "/sitemap.txt",
                "/sitemap/sitemap.xml", "/wp-sitemap.xml", "/wp-sitemap-index.xml", "/wp-sitemap-posts-post-1.xml",
                "/sitemap-posts-post-1.xml", "/sitemap-pages-post-1.xml", "/sitemap-categories-1.xml",
                "/sitemap/index.xml", "/post-sitemap.xml", "/page-sitemap.xml", "/product-sitemap.xml",
                "/category-sitemap.xml", "/sitemapindex.xml"]
    assert set(original) <= set(WELL_KNOWN_SITEMAP_PATHS)


@pytest.mark.parametrize("host,expected", [
    ("acme.com", {"sitemap.xml": ("urlset", "robots", 0, 11, None)}),
    ("index-acme.de", {"sitemap_index.xml": ("index", "robots", 0, 2, None),
                       "sitemap-pages.xml": ("urlset", "sitemap_index", 1, 8, "sitemap_index.xml"),
                       "sitemap-posts.xml": ("urlset", "sitemap_index", 1, 3, "sitemap_index.xml")}),
    ("gzip-acme.com", {"sitemap.xml.gz": ("urlset", "robots", 0, 11, None)}),
    ("text-acme.com", {"sitemap.txt": ("text", "robots", 0, 11, None)}),
    ("wp-acme.com", {"wp-sitemap.xml": ("index", "well_known", 0, 2, None),
                     "wp-sitemap-posts-page-1.xml": ("urlset", "sitemap_index", 1, 8, "wp-sitemap.xml"),
                     "wp-sitemap-posts-post-1.xml": ("urlset", "sitemap_index", 1, 3, "wp-sitemap.xml")}),
    ("homelink-acme.com", {"site-map-feed.xml": ("urlset", "homepage_link", 0, 11, None)}),
    ("rss-acme.com", {"feed.xml": ("rss", "robots", 0, 11, None)}),
    ("atom-acme.com", {"atom.xml": ("atom", "robots", 0, 11, None)}),
    ("norobots-acme.com", {"sitemap.xml": ("urlset", "well_known", 0, 11, None)}),
])
def test_discovery_on_every_site_shape(wf, websites, host, expected):
    domain = discover(wf, host)
    assert domain.sitemap_discovery_processing_status == "Completed", domain.sitemap_discovery_processing_error
    found = files(domain)
    assert set(found) == set(expected)
    for path, (kind, how, depth, count, parent) in expected.items():
        f = found[path]
        assert (f.sitemap_type, f.discovered_how, f.depth, f.url_count) == (kind, how, depth, count), path
        assert (f.parent.url.split("/", 3)[3] if f.parent else None) == parent
        assert f.fetched_at and f.size_bytes and not f.fetch_error
        assert (f.sitemap_import_curation_status, f.sitemap_import_processing_status) == ("New", None)
    assert domain.has_sitemap is True
    assert domain.sitemap_count == len(expected)
    assert "found" in domain.discovery_note
    # Real homepage metadata (the original stored a fake "Temporary Bypass" title, B-7).
    site = expected_contacts(host)
    assert domain.title == f"Home | {site['business_name']}"
    assert domain.language == site["language"]
    assert domain.meta_description and domain.last_fetched_at
    assert not Page.objects.filter(domain=domain).exists(), "pages come from the import, not from discovery"


def test_rerunning_discovery_never_duplicates_and_keeps_curation(wf, websites):
    domain = discover(wf, "index-acme.de")
    first = {f.url: f.pk for f in SitemapFile.objects.filter(domain=domain)}
    child = SitemapFile.objects.get(domain=domain, url__endswith="/sitemap-pages.xml")
    services.curation_status_set(workflow=registry.get("sitemap_import"), ids=[child.pk], status="Maybe")
    services.curation_status_set(workflow=wf, ids=[domain.pk], status="Selected", reprocess=True)
    engine.workflow_run(wf)
    domain.refresh_from_db()
    assert domain.sitemap_discovery_processing_status == "Completed"
    again = {f.url: f.pk for f in SitemapFile.objects.filter(domain=domain)}
    assert again == first
    child.refresh_from_db()
    assert child.sitemap_import_curation_status == "Maybe", "a re-run never resets a file's own curation"
    assert SitemapFile.objects.count() == 3


def test_no_sitemap_records_it_and_the_fallback_crawl_creates_pages(wf, websites, settings):
    settings.DISCOVERY_FALLBACK_MAX_PAGES = 6
    domain = discover(wf, "nositemap-acme.com")
    assert domain.sitemap_discovery_processing_status == "Completed"
    assert domain.has_sitemap is False and domain.sitemap_count == 0
    assert domain.discovery_note.startswith("No sitemap")
    assert "Fallback: 6 pages" in domain.discovery_note
    assert not SitemapFile.objects.filter(domain=domain).exists()
    pages = list(Page.objects.filter(domain=domain))
    assert len(pages) == 6
    assert all(p.source == "homepage_links" and p.sitemap_file is None for p in pages)
    urls = {p.url for p in pages}
    assert "https://nositemap-acme.com/" in urls
    assert "https://nositemap-acme.com/contact" in urls, "contact-like links come first"
    assert all("example.org" not in u and not u.endswith(".pdf") for u in urls)
    contact = next(p for p in pages if p.url.endswith("/contact"))
    assert contact.suggested and contact.category == "contact"
    assert all(p.page_scrape_curation_status == "New" and p.page_scrape_processing_status is None for p in pages)
    # Re-running never duplicates the fallback pages either.
    services.curation_status_set(workflow=wf, ids=[domain.pk], status="Selected", reprocess=True)
    engine.workflow_run(wf)
    assert Page.objects.filter(domain=domain).count() == 6


def test_a_site_that_disallows_us_is_an_error_of_class_blocked(wf, websites):
    domain = discover(wf, "blocked-discovery.com")
    assert domain.sitemap_discovery_processing_status == "Error"
    assert domain.sitemap_discovery_error_class == "blocked"
    assert domain.sitemap_discovery_processing_error.startswith("Disallowed by robots.txt: https://blocked-discovery.com/")
    assert not SitemapFile.objects.filter(domain=domain).exists()
    assert websites.app.stats["requests"].get("blocked-discovery.com", 0) == 1, "only robots.txt was fetched"


def test_robots_txt_unavailable_is_retried(wf, websites):
    domain = discover(wf, "robots500-acme.com")
    assert domain.sitemap_discovery_processing_status == "Queued"
    assert domain.sitemap_discovery_error_class == "http_5xx"
    assert "robots.txt of https://robots500-acme.com unavailable (HTTP 500" in domain.sitemap_discovery_processing_error


def test_a_slow_site_times_out_and_is_retried(wf, websites, settings):
    settings.FETCH_READ_TIMEOUT = 0.3
    settings.FETCH_TOTAL_TIMEOUT = 0.5
    domain = discover(wf, "slow-acme.com")
    assert domain.sitemap_discovery_processing_status == "Queued"
    assert domain.sitemap_discovery_error_class == "timeout"
    assert "Timed out" in domain.sitemap_discovery_processing_error


@pytest.mark.parametrize("host,error_class,message", [
    ("redirectloop-acme.com", "network", "Redirect loop fetching https://redirectloop-acme.com/sitemap.xml: "
                                         "https://redirectloop-acme.com/sitemap.xml -> https://redirectloop-acme.com/sitemap-a.xml -> "
                                         "https://redirectloop-acme.com/sitemap.xml"),
    ("entities-acme.com", "parse", "declares a DTD"),
    ("bomb-acme.com", "too_large", "decompresses to more than 2097152 bytes"),
])
def test_broken_sitemaps_are_recorded_with_their_error_and_the_fallback_runs(wf, websites, settings, host,
                                                                              error_class, message):
    settings.SITEMAP_MAX_DECOMPRESSED_BYTES = 2 * 1024 * 1024
    domain = discover(wf, host)
    assert domain.sitemap_discovery_processing_status == "Completed"
    assert domain.has_sitemap is False
    (broken,) = SitemapFile.objects.filter(domain=domain)
    assert broken.discovered_how == "robots" and broken.sitemap_type == ""
    assert broken.fetch_error.startswith(f"[{error_class}] ")
    assert message in broken.fetch_error
    assert message in domain.discovery_note
    assert Page.objects.filter(domain=domain, source="homepage_links").exists()


def test_selfindex_cycle_is_bounded(wf, websites):
    domain = discover(wf, "selfindex-acme.com")
    assert domain.sitemap_discovery_processing_status == "Completed"
    found = files(domain)
    assert set(found) == {"sitemap_index.xml", "sitemap-child.xml", "sitemap-pages.xml"}
    assert found["sitemap-child.xml"].parent == found["sitemap_index.xml"]
    assert found["sitemap-pages.xml"].parent == found["sitemap-child.xml"]
    assert found["sitemap_index.xml"].parent is None, "an index listing itself does not become its own parent"
    assert any("lists itself" in w for w in found["sitemap_index.xml"].warnings)


def test_index_depth_limit(wf, websites, settings):
    settings.SITEMAP_MAX_DEPTH = 0
    domain = discover(wf, "index-acme.de")
    assert set(files(domain)) == {"sitemap_index.xml"}
    assert "deeper than 0 levels" in domain.discovery_note


def test_discovery_only_ever_reads_the_domains_own_site(wf, websites):
    domain = discover(wf, "acme.com", homepage_url="https://www.acme.com")
    assert domain.sitemap_discovery_processing_status == "Completed"
    assert all(f.url.startswith("https://www.acme.com/") for f in SitemapFile.objects.filter(domain=domain))


# --- the real web's shapes (issue #12) ------------------------------------------------------------


@pytest.mark.parametrize("index", range(len(CMS_PATHS)))
def test_discovery_finds_a_sitemap_at_any_common_cms_path(wf, websites, index):
    host = f"wk{index}-acme.com"
    domain = discover(wf, host)
    assert domain.sitemap_discovery_processing_status == "Completed", domain.sitemap_discovery_processing_error
    found = files(domain)
    first = found[CMS_PATHS[index].lstrip("/")]
    assert (first.discovered_how, first.depth, first.parent) == ("well_known", 0, None)
    assert all(f.parent == first for name, f in found.items() if f != first)
    assert domain.has_sitemap is True and domain.sitemap_count == len(found)
    assert not any(f.fetch_error for f in found.values())


def test_a_site_under_a_path_is_discovered_there(wf, websites):
    host = "pathsite-acme.github.io"
    domain = discover(wf, host, site_builder=True, homepage_url=f"https://{host}/project")
    assert domain.sitemap_discovery_processing_status == "Completed", domain.sitemap_discovery_processing_error
    found = files(domain)
    assert set(found) == {"project/sitemap.xml"}, "the host's own /sitemap.xml is another site's"
    f = found["project/sitemap.xml"]
    assert (f.sitemap_type, f.discovered_how, f.url_count) == ("urlset", "well_known", 11)
    assert domain.title == "Home | Acme", "the homepage is the path's, not the host's"
    assert domain.homepage_url == f"https://{host}/project"


def test_a_site_under_a_path_without_a_sitemap_falls_back_to_its_own_pages(wf, websites, settings):
    settings.DISCOVERY_FALLBACK_MAX_PAGES = 4
    host = "pathsite-nositemap-acme.github.io"
    domain = discover(wf, host, site_builder=True, homepage_url=f"https://{host}/project/")
    assert domain.sitemap_discovery_processing_status == "Completed", domain.sitemap_discovery_processing_error
    assert domain.has_sitemap is False, domain.discovery_note
    assert f"{len(CMS_SITEMAP_PATHS)} sitemap paths under /project/" in domain.discovery_note
    urls = set(Page.objects.filter(domain=domain).values_list("url", flat=True))
    assert f"https://{host}/project" in urls and f"https://{host}/project/contact" in urls
    assert all(u.startswith(f"https://{host}/project") for u in urls)


def test_a_homepage_path_that_is_no_site_falls_back_to_the_root(wf, websites):
    domain = discover(wf, "acme.com", homepage_url="https://acme.com/gone/")
    assert domain.sitemap_discovery_processing_status == "Completed", domain.sitemap_discovery_processing_error
    assert set(files(domain)) == {"sitemap.xml"}
    assert domain.title == "Home | Acme"


def test_a_yoast_index_with_root_relative_children_and_a_bad_trailing_comment(wf, websites):
    domain = discover(wf, "relindex-badcomment-blankline-acme.com")
    assert domain.sitemap_discovery_processing_status == "Completed", domain.sitemap_discovery_processing_error
    found = files(domain)
    assert {name: (f.sitemap_type, f.discovered_how, f.url_count, f.truncated) for name, f in found.items()} == {
        "sitemap_index.xml": ("index", "robots", 2, False),
        "post-sitemap.xml": ("urlset", "sitemap_index", 3, False),
        "page-sitemap.xml": ("urlset", "sitemap_index", 8, False),
    }
    assert found["post-sitemap.xml"].parent == found["sitemap_index.xml"]
    assert any("malformed XML after the root element ignored" in w for w in found["page-sitemap.xml"].warnings)


def test_an_index_on_a_shared_host_records_only_its_own_site(wf, websites):
    domain = discover(wf, "shared-alice.github.io", site_builder=True)
    assert domain.sitemap_discovery_processing_status == "Completed", domain.sitemap_discovery_processing_error
    rows = list(SitemapFile.objects.filter(domain=domain))
    assert {r.url for r in rows} == {f"https://shared-alice.github.io/{p}" for p in
                                     ("sitemap_index.xml", "sitemap-pages.xml", "sitemap-posts.xml")}
    assert websites.app.stats["requests"].get("bob.github.io", 0) == 0, "another site's sitemap is never fetched"
    index = next(r for r in rows if r.url.endswith("sitemap_index.xml"))
    assert any("bob.github.io" in w and "another site" in w for w in index.warnings)
