"""The original entry points that create rows (reference §5.3): direct submission, CSV import, sitemap scan."""
from __future__ import annotations

import uuid

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from curation import registry
from pages.models import Domain, Page, SitemapFile
from tests.factories import put_in_state
from tests.pages.factories import DomainFactory, PageFactory, SitemapFileFactory

pytestmark = pytest.mark.django_db


def _csv(text: str) -> dict:
    return {"file": SimpleUploadedFile("upload.csv", text.encode(), content_type="text/csv")}


# --- domains ----------------------------------------------------------------------------------------------

def test_domain_direct_submit_normalises_dedupes_and_auto_queues(api_client):
    response = api_client.post("/api/v3/domains/direct-submit",
                               {"domains": ["https://www.Bakery-One.com/menu", "bakery-one.com", "cafe-two.net"],
                                "auto_queue": True}, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert sorted(body["normalized_domains"]) == ["bakery-one.com", "cafe-two.net"]
    assert body["submitted_count"] == 2 and body["auto_queued"] is True
    rows = Domain.objects.filter(pk__in=body["domain_ids"])
    assert {(d.sitemap_discovery_curation_status, d.sitemap_discovery_processing_status) for d in rows} == \
        {("Selected", "Queued")}


def test_domain_direct_submit_is_409_for_the_whole_request_when_one_exists(api_client):
    DomainFactory(domain="known.com")
    response = api_client.post("/api/v3/domains/direct-submit/", {"domains": ["new-one.com", "www.known.com"]},
                               format="json")
    assert response.status_code == 409 and response.json()["existing"] == ["known.com"]
    assert not Domain.objects.filter(domain="new-one.com").exists(), "nothing created"
    plain = api_client.post("/api/v3/domains/direct-submit", {"domains": ["new-one.com"]}, format="json").json()
    assert Domain.objects.get(pk=plain["domain_ids"][0]).sitemap_discovery_processing_status is None, "not queued"


@pytest.mark.parametrize("body", [{"domains": []}, {"domains": ["not a domain"]}, {"domains": ["a.com"] * 101},
                                  {"auto_queue": True}])
def test_domain_direct_submit_bad_input_is_a_400(api_client, body):
    response = api_client.post("/api/v3/domains/direct-submit", body, format="json")
    assert response.status_code == 400 and response.json()["detail"]
    assert not Domain.objects.exists()


def test_domain_csv_import_reports_every_row(api_client):
    DomainFactory(domain="known.com")
    response = api_client.post("/api/v3/domains/import-csv",
                               _csv("domain\nalpha-shop.com\nknown.com\nnot a domain\nalpha-shop.com\nbeta-shop.org\n"),
                               format="multipart")
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["total_rows"], body["successful"], body["failed"], body["skipped"]) == (5, 2, 1, 2)
    assert [(r["row_number"], r["value"], r["status"]) for r in body["results"]] == [
        (1, "alpha-shop.com", "success"), (2, "known.com", "skipped"), (3, "not a domain", "error"),
        (4, "alpha-shop.com", "skipped"), (5, "beta-shop.org", "success")]
    assert body["results"][0]["id"] == str(Domain.objects.get(domain="alpha-shop.com").pk)
    assert Domain.objects.get(domain="beta-shop.org").sitemap_discovery_curation_status == "New"
    assert api_client.post("/api/v3/domains/import-csv", {}, format="multipart").status_code == 400


# --- sitemaps -----------------------------------------------------------------------------------------------

def test_sitemap_direct_submit_creates_domain_and_file_and_auto_imports(api_client):
    response = api_client.post("/api/v3/sitemaps/direct-submit",
                               {"sitemap_urls": ["https://www.garden-shop.com/sitemap.xml"], "auto_import": True,
                                "domain_id": None}, format="json")
    assert response.status_code == 201, response.content
    file = SitemapFile.objects.get()
    assert (file.domain.domain, file.url, file.discovered_how) == ("garden-shop.com",
                                                                   "https://www.garden-shop.com/sitemap.xml", "submitted")
    assert (file.sitemap_import_curation_status, file.sitemap_import_processing_status) == ("Selected", "Queued")
    assert response.json()["sitemap_file_ids"] == [str(file.pk)] and response.json()["auto_imported"] is True
    again = api_client.post("/api/v3/sitemaps/direct-submit", {"sitemap_urls": [file.url]}, format="json")
    assert again.status_code == 409
    bad = api_client.post("/api/v3/sitemaps/direct-submit", {"sitemap_urls": ["https://garden-shop.com/about"]},
                          format="json")
    assert bad.status_code == 400 and "sitemap" in bad.json()["detail"]


def test_sitemap_csv_import(api_client):
    SitemapFileFactory(url="https://old-shop.com/sitemap.xml", domain=DomainFactory(domain="old-shop.com"))
    body = api_client.post("/api/v3/sitemaps/import-csv",
                           _csv("url\nhttps://new-shop.com/sitemap_index.xml\nhttps://old-shop.com/sitemap.xml\n"),
                           format="multipart").json()
    assert [r["status"] for r in body["results"]] == ["success", "skipped"]
    assert SitemapFile.objects.get(url="https://new-shop.com/sitemap_index.xml").sitemap_import_curation_status == "New"


# --- pages ----------------------------------------------------------------------------------------------------

def test_page_direct_submit_and_409(api_client):
    response = api_client.post("/api/v3/pages/direct-submit",
                               {"urls": ["https://plumber-joe.com/contact-us", "https://plumber-joe.com/about"],
                                "auto_queue": True, "priority_level": 1}, format="json")
    assert response.status_code == 201, response.content
    pages = {p.url: p for p in Page.objects.all()}
    assert set(pages) == {"https://plumber-joe.com/contact-us", "https://plumber-joe.com/about"}
    assert {(p.source, p.page_scrape_processing_status) for p in pages.values()} == {("submitted", "Queued")}
    assert pages["https://plumber-joe.com/contact-us"].category == "contact"
    conflict = api_client.post("/api/v3/pages/direct-submit", {"urls": ["https://plumber-joe.com/about"]},
                               format="json")
    assert conflict.status_code == 409
    assert api_client.post("/api/v3/pages/direct-submit", {"urls": ["ftp://x"]}, format="json").status_code == 400


def test_page_csv_import(api_client):
    PageFactory(url="https://florist-ann.com/team", domain=DomainFactory(domain="florist-ann.com"))
    body = api_client.post("/api/v3/pages/import-csv",
                           _csv("https://florist-ann.com/contact\nhttps://florist-ann.com/team\nnope\n"),
                           format="multipart").json()
    assert [r["status"] for r in body["results"]] == ["success", "skipped", "error"]
    assert Page.objects.get(url="https://florist-ann.com/contact").page_scrape_curation_status == "New"


# --- sitemap scan ----------------------------------------------------------------------------------------------

def test_sitemap_scan_queues_discovery_and_reports_its_status(api_client):
    response = api_client.post("/api/v3/sitemap/scan", {"base_url": "https://www.tailor-sam.com", "max_pages": 1000,
                                                        "tenant_id": "x"}, format="json")
    assert response.status_code == 202, response.content
    body = response.json()
    domain = Domain.objects.get(domain="tailor-sam.com")
    assert body["job_id"] == str(domain.pk) and body["status_url"] == f"/api/v3/sitemap/status/{domain.pk}"
    assert domain.sitemap_discovery_processing_status == "Queued"
    assert api_client.get(body["status_url"]).json()["status"] == "pending"
    put_in_state(registry.get("sitemap_discovery"), [domain], processing="Completed")
    SitemapFileFactory(domain=domain, url="https://tailor-sam.com/sitemap.xml")
    done = api_client.get(body["status_url"]).json()
    assert (done["status"], done["sitemaps_found"], done["result_data"]["sitemaps"]) == \
        ("complete", 1, ["https://tailor-sam.com/sitemap.xml"])
    again = api_client.post("/api/v3/sitemap/scan", {"base_url": "tailor-sam.com"}, format="json")
    assert again.status_code == 202 and Domain.objects.get(pk=domain.pk).sitemap_discovery_processing_status == "Queued"
    assert api_client.get(f"/api/v3/sitemap/status/{uuid.uuid4()}").status_code == 404
    assert api_client.post("/api/v3/sitemap/scan", {"base_url": "not a site"}, format="json").status_code == 400


def test_submissions_need_the_add_permission(curator_client):
    # A curator may change rows but not add them.
    assert curator_client.post("/api/v3/domains/direct-submit", {"domains": ["a-b.com"]},
                               format="json").status_code == 403
    assert curator_client.post("/api/v3/pages/direct-submit", {"urls": ["https://a-b.com/x"]},
                               format="json").status_code == 403
    assert not Domain.objects.exists()
