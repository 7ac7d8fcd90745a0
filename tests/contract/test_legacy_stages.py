"""The original stage routes (reference §5.1/§5.2), requested exactly as the original clients send them."""
from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from curation import registry
from pages.models import Domain, Page, SitemapFile
from places.models import LocalBusiness, Place
from tests.factories import put_in_state
from tests.pages.factories import DomainFactory, PageFactory, SitemapFileFactory
from tests.places.factories import LocalBusinessFactory, PlaceFactory, PlaceSearchFactory

pytestmark = pytest.mark.django_db


def _age(model, rows) -> None:
    """Distinct updated_at, the first row oldest."""
    now = timezone.now()
    for i, row in enumerate(rows):
        model.objects.filter(pk=row.pk).update(updated_at=now - timedelta(minutes=len(rows) - i))


# --- WF2: the Staging Editor ------------------------------------------------------------------------

def test_staging_filtered_update_selects_one_search_and_404s_when_nothing_matches(api_client):
    search = PlaceSearchFactory()
    found = PlaceFactory.create_batch(2)
    other = PlaceFactory()
    for place in found:
        place.search_results.create(search=search, rank=1)
    response = api_client.put("/api/v3/places/staging/status/filtered",
                              {"status": "Selected", "status_filter": "New", "discovery_job_id": str(search.pk)},
                              format="json")
    assert response.status_code == 200, response.content
    assert (response.json()["updated_count"], response.json()["queued_count"]) == (2, 2)
    states = dict(Place.objects.values_list("pk", "deep_scan_processing_status"))
    assert [states[p.pk] for p in found] == ["Queued", "Queued"] and states[other.pk] is None
    nothing = api_client.put("/api/v3/places/staging/status/filtered", {"status": "Selected", "status_filter": "Maybe"},
                             format="json")
    assert nothing.status_code == 404 and nothing.json()["detail"]
    bad = api_client.put("/api/v3/places/staging/status/filtered",
                         {"status": "Selected", "discovery_job_id": "not-a-uuid"}, format="json")
    assert bad.status_code == 400, bad.content


# --- WF3: Local Business Curation --------------------------------------------------------------------

def test_local_businesses_list_filters_sorts_and_pages_like_the_original(api_client):
    rows = [LocalBusinessFactory(name=name) for name in ("Zeta Dental", "Alpha Dental", "Beta Bakery")]
    _age(LocalBusiness, rows)
    put_in_state(registry.get("domain_extraction"), rows[2:], processing="Error", curation="Selected")
    body = api_client.get("/api/v3/local-businesses", {"status": "New", "business_name": "dental", "page": 1,
                                                       "size": 50, "sort_by": "business_name",
                                                       "sort_dir": "asc"}).json()
    assert [i["business_name"] for i in body["items"]] == ["Alpha Dental", "Zeta Dental"]
    assert body["total"] == 2 and body["pages"] == 1
    first = body["items"][0]
    assert first["id"] == str(rows[1].pk) and first["website_url"] == rows[1].website
    assert first["status"] == "New" and first["domain_extraction_status"] is None
    default = api_client.get("/api/v3/local-businesses").json()["items"]
    assert [i["business_name"] for i in default] == ["Beta Bakery", "Alpha Dental", "Zeta Dental"], "updated_at desc"
    assert default[0]["domain_extraction_status"] == "Error" and default[0]["domain_extraction_error"]
    unknown_sort = api_client.get("/api/v3/local-businesses", {"sort_by": "no_such_column"})
    assert unknown_sort.status_code == 200, "the original fell back to updated_at"


def test_local_businesses_slashed_path_stays_ours_unless_the_request_is_an_original_one(api_client):
    LocalBusinessFactory.create_batch(2)
    ours = api_client.get("/api/v3/local-businesses/").json()
    assert set(ours) == {"count", "next", "previous", "results"}
    original = api_client.get("/api/v3/local-businesses/", {"status": "New"}).json()
    assert set(original) == {"items", "total", "page", "size", "pages"}


def test_local_businesses_status_update_by_the_original_body(api_client):
    rows = LocalBusinessFactory.create_batch(3)
    response = api_client.put("/api/v3/local-businesses/status",
                              {"local_business_ids": [str(r.pk) for r in rows[:2]], "status": "Selected"},
                              format="json")
    assert response.status_code == 200
    assert {k: response.json()[k] for k in ("updated_count", "queued_count")} == {"updated_count": 2,
                                                                                  "queued_count": 2}
    assert response.json()["message"]
    filtered = api_client.put("/api/v3/local-businesses/status/filtered",
                              {"status": "Not a Fit", "status_filter": "New", "business_name": rows[2].name},
                              format="json")
    assert filtered.status_code == 200 and filtered.json()["updated_count"] == 1
    states = {r.pk: (r.domain_extraction_curation_status, r.domain_extraction_processing_status)
              for r in LocalBusiness.objects.all()}
    assert states == {rows[0].pk: ("Selected", "Queued"), rows[1].pk: ("Selected", "Queued"),
                      rows[2].pk: ("Rejected", None)}
    missing = api_client.put("/api/v3/local-businesses/status/filtered",
                             {"status": "Selected", "business_name": "nobody"}, format="json")
    assert missing.status_code == 404


# --- WF4: Domain Curation ----------------------------------------------------------------------------

def test_domains_list_filters_sorts_and_shows_lowercase_analysis_statuses(api_client):
    rows = [DomainFactory(domain=d) for d in ("cafe-b.com", "cafe-a.com", "bakery.com")]
    wf = registry.get("sitemap_discovery")
    put_in_state(wf, rows[:1], processing="Completed", curation="Selected")
    put_in_state(wf, rows[1:2], processing="Error", curation="Selected")
    body = api_client.get("/api/v3/domains", {"domain_filter": "cafe", "sort_by": "domain", "sort_desc": "false",
                                              "page": 1, "size": 20}).json()
    assert set(body) == {"items", "total", "page", "size", "pages"}
    assert [(i["domain"], i["sitemap_analysis_status"]) for i in body["items"]] == \
        [("cafe-a.com", "failed"), ("cafe-b.com", "submitted")]
    assert body["items"][0]["sitemap_analysis_error"] and body["items"][0]["status"] == "active"
    by_status = api_client.get("/api/v3/domains", {"sitemap_curation_status": "New"}).json()
    assert [i["domain"] for i in by_status["items"]] == ["bakery.com"]
    assert api_client.get("/api/v3/domains", {"sort_by": "password"}).status_code == 400, "whitelist, as the original"
    assert api_client.get("/api/v3/domains", {"size": 101}).status_code == 400, "size 1–100"
    # The original UI's typeahead: the slashed path with domain_filter gets the original shape.
    typeahead = api_client.get("/api/v3/domains/", {"domain_filter": "bak"}).json()
    assert [i["domain"] for i in typeahead["items"]] == ["bakery.com"]
    # The original UI sent `domain` for the name filter (ignored there): here it filters.
    assert api_client.get("/api/v3/domains", {"domain": "bak"}).json()["total"] == 1
    assert set(api_client.get("/api/v3/domains/").json()) == {"count", "next", "previous", "results"}


def test_domains_sitemap_curation_update_queues_the_analysis(api_client):
    rows = DomainFactory.create_batch(2)
    response = api_client.put("/api/v3/domains/sitemap-curation/status",
                              {"domain_ids": [str(rows[0].pk)], "sitemap_curation_status": "Selected"}, format="json")
    assert response.status_code == 200 and response.json()["queued_count"] == 1
    item = next(i for i in api_client.get("/api/v3/domains").json()["items"] if i["id"] == str(rows[0].pk))
    assert (item["sitemap_curation_status"], item["sitemap_analysis_status"]) == ("Selected", "queued")
    filtered = api_client.put("/api/v3/domains/sitemap-curation/status/filtered",
                              {"sitemap_curation_status": "Selected", "sitemap_curation_status_filter": "New",
                               "domain_filter": rows[1].domain}, format="json")
    assert filtered.status_code == 200 and filtered.json()["queued_count"] == 1
    assert set(Domain.objects.values_list("sitemap_discovery_processing_status", flat=True)) == {"Queued"}


def test_domains_post_still_creates_in_our_api(api_client):
    response = api_client.post("/api/v3/domains/", {"domains": ["https://www.example.org/x"]}, format="json")
    assert response.status_code == 201 and response.json()["created"][0]["domain"] == "example.org"


# --- WF5: Sitemap Curation ---------------------------------------------------------------------------

def test_sitemap_files_list_as_the_original_ui_asks_for_it(api_client):
    domain = DomainFactory(domain="shop.com")
    wanted = SitemapFileFactory(domain=domain, url="https://shop.com/sitemap.xml", url_count=12,
                                fetched_at=timezone.now())
    SitemapFileFactory(domain=domain, url="https://shop.com/sitemap_index.xml", sitemap_type="index",
                       discovered_how="well_known")
    SitemapFileFactory()  # another domain
    params = {"page": 1, "size": 15, "domain_id": str(domain.pk), "deep_scrape_curation_status": "New",
              "url_contains": "sitemap", "sitemap_type": "standard", "discovery_method": "robots_txt"}
    body = api_client.get("/api/v3/sitemap-files/", params).json()
    assert body["total"] == 1, body
    item = body["items"][0]
    assert (item["id"], item["sitemap_url"], item["domain_name"], item["url_count"]) == \
        (str(wanted.pk), wanted.url, "shop.com", 12)
    assert (item["status"], item["deep_scrape_curation_status"], item["sitemap_import_status"]) == \
        ("Completed", "New", None)
    assert (item["sitemap_type"], item["discovery_method"]) == ("urlset", "robots_txt")
    assert api_client.get("/api/v3/sitemap-files", {"domain_id": "nope"}).status_code == 400


def test_sitemap_files_import_curation_update(api_client):
    rows = SitemapFileFactory.create_batch(2)
    put_in_state(registry.get("sitemap_import"), rows[1:], processing="Completed", curation="Selected")
    response = api_client.put("/api/v3/sitemap-files/sitemap_import_curation/status",
                              {"sitemap_file_ids": [str(r.pk) for r in rows], "deep_scrape_curation_status": "Selected"},
                              format="json")
    assert response.status_code == 200
    assert (response.json()["updated_count"], response.json()["queued_count"]) == (2, 1), "Completed stays Completed"
    listed = {i["id"]: i["sitemap_import_status"] for i in api_client.get("/api/v3/sitemap-files").json()["items"]}
    assert listed == {str(rows[0].pk): "Queued", str(rows[1].pk): "Complete"}
    filtered = api_client.put("/api/v3/sitemap-files/sitemap_import_curation/status/filtered",
                              {"deep_scrape_curation_status": "Archived", "domain_id": str(rows[0].domain_id)},
                              format="json")
    assert filtered.status_code == 200 and filtered.json()["dequeued_count"] == 1
    assert SitemapFile.objects.get(pk=rows[0].pk).sitemap_import_processing_status is None


# --- WF7: pages ------------------------------------------------------------------------------------------

def test_pages_list_with_limit_offset_and_the_original_page_types(api_client):
    domain = DomainFactory(domain="dent.com")
    contact = PageFactory(domain=domain, url="https://dent.com/contact")
    other = PageFactory(domain=domain, url="https://dent.com/blog/post-1")
    _age(Page, [other, contact])
    body = api_client.get("/api/v3/pages/", {"limit": 10, "offset": 0}).json()
    assert set(body) == {"pages", "total", "offset", "limit", "filters_applied"}
    assert [p["id"] for p in body["pages"]] == [str(contact.pk), str(other.pk)]
    first = body["pages"][0]
    assert (first["page_type"], first["curation_status"], first["processing_status"]) == ("contact_root", "New", None)
    assert first["domain_id"] == str(domain.pk) and first["title"] is None
    filtered = api_client.get("/api/v3/pages/", {"page_type": "contact_root", "page_curation_status": "New"}).json()
    assert [p["url"] for p in filtered["pages"]] == [contact.url]
    assert filtered["filters_applied"] == {"page_type": "contact_root", "page_curation_status": "New"}
    assert api_client.get("/api/v3/pages/", {"offset": 1, "limit": 1}).json()["pages"][0]["id"] == str(other.pk)
    assert set(api_client.get("/api/v3/pages/").json()) == {"count", "next", "previous", "results"}, "ours"
    assert set(api_client.get("/api/v3/pages").json()) >= {"pages", "total"}, "unslashed: the original"


def test_pages_status_and_filtered_update(api_client):
    domain = DomainFactory(domain="dent.com")
    contact = PageFactory(domain=domain, url="https://dent.com/contact")
    blog = PageFactory(domain=domain, url="https://dent.com/blog/post-1")
    response = api_client.put("/api/v3/pages/status", {"page_ids": [str(blog.pk)], "status": "Skipped"},
                              format="json")
    assert response.status_code == 200
    filtered = api_client.put("/api/v3/pages/status/filtered",
                              {"status": "Selected", "page_type": "contact_root", "contact_scrape_status": "New"},
                              format="json")
    assert filtered.status_code == 200 and filtered.json()["queued_count"] == 1
    states = {p.pk: (p.page_scrape_curation_status, p.page_scrape_processing_status) for p in Page.objects.all()}
    assert states == {contact.pk: ("Selected", "Queued"), blog.pk: ("Rejected", None)}
    listed = {p["id"]: p["curation_status"] for p in api_client.get("/api/v3/pages", {"limit": 10}).json()["pages"]}
    assert listed[str(blog.pk)] == "Skipped"
    assert api_client.put("/api/v3/pages/status/filtered", {"status": "Selected", "page_type": "team_root"},
                          format="json").status_code == 404
