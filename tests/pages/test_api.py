"""The pages API: domains (list, filters, POST, CSV import), sitemap-files, pages; curation through the engine's API."""
import pytest
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from pages.models import Domain, Page
from tests.conftest import bearer
from tests.pages.factories import DomainFactory, PageFactory, SitemapFileFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def submitter(django_user_model):
    user = django_user_model.objects.create_user(username="submitter", password="submitter-pass-123")
    user.user_permissions.add(Permission.objects.get(codename="add_domain"))
    return bearer(APIClient(), user)


def test_domains_list_with_counts_statuses_and_filters(api_client):
    domain = DomainFactory(domain="acme.com", has_sitemap=True, sitemap_count=1)
    DomainFactory(domain="other.de", errored=True)
    PageFactory(domain=domain, url="https://acme.com/contact")
    PageFactory(domain=domain, url="https://acme.com/blog/x")
    body = api_client.get("/api/v3/domains/").json()
    assert body["count"] == 2
    first = body["results"][0]
    assert first["domain"] == "acme.com"
    assert (first["page_count"], first["suggested_page_count"]) == (2, 1)
    for key in ("sitemap_discovery_curation_status", "sitemap_discovery_processing_status",
                "sitemap_discovery_processing_error", "sitemap_discovery_error_class", "has_sitemap", "discovery_note"):
        assert key in first
    errored = api_client.get("/api/v3/domains/?sitemap_discovery_processing_status=Error").json()
    assert [d["domain"] for d in errored["results"]] == ["other.de"]
    assert errored["results"][0]["sitemap_discovery_processing_error"]
    assert api_client.get("/api/v3/domains/?has_sitemap=true").json()["count"] == 1
    assert api_client.get("/api/v3/domains/?search=acme").json()["count"] == 1
    assert api_client.get(f"/api/v3/domains/{domain.pk}/").json()["domain"] == "acme.com"
    assert api_client.get("/api/v3/domains/?size=1&page=2").json()["results"][0]["domain"] == "other.de"


def test_post_domains_creates_dedupes_and_reports(submitter):
    DomainFactory(domain="known.com")
    response = submitter.post("/api/v3/domains/", {"domains": [
        "example.com", "https://www.foo.co.uk/x", "https://www.example.com/contact", "known.com", "not a domain",
    ]}, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert [e["domain"] for e in body["created"]] == ["example.com", "foo.co.uk"]
    assert [e["domain"] for e in body["existing"]] == ["known.com"]
    assert body["errors"] == [{"input": "not a domain", "error": body["errors"][0]["error"]}]
    assert body["errors"][0]["error"]
    assert Domain.objects.get(domain="foo.co.uk").source == "direct"
    assert Domain.objects.count() == 3


def test_post_domains_with_nothing_valid_is_400(submitter):
    response = submitter.post("/api/v3/domains/", {"domains": ["not a domain", "https://facebook.com/x"]},
                              format="json")
    assert response.status_code == 400
    body = response.json()
    assert body["created"] == [] and len(body["errors"]) == 2
    assert body["detail"].startswith("No valid domain")
    assert submitter.post("/api/v3/domains/", {"domains": []}, format="json").status_code == 400
    assert submitter.post("/api/v3/domains/", {"nope": 1}, format="json").status_code == 400
    assert not Domain.objects.exists()


def test_posting_needs_the_add_permission(viewer_client, curator_client):
    assert viewer_client.post("/api/v3/domains/", {"domains": ["example.com"]}, format="json").status_code == 403
    assert curator_client.post("/api/v3/domains/", {"domains": ["example.com"]}, format="json").status_code == 403
    upload = SimpleUploadedFile("d.csv", b"domain\nexample.com\n", content_type="text/csv")
    assert viewer_client.post("/api/v3/domains/import/", {"file": upload}, format="multipart").status_code == 403
    assert not Domain.objects.exists()


def test_csv_import_multipart(submitter):
    data = b"name,website\nAcme,https://www.acme.com/\nFoo,foo.de\nDup,acme.com\nBad,not a site\n"
    upload = SimpleUploadedFile("domains.csv", data, content_type="text/csv")
    response = submitter.post("/api/v3/domains/import/", {"file": upload}, format="multipart")
    assert response.status_code == 201, response.content
    body = response.json()
    assert [e["domain"] for e in body["created"]] == ["acme.com", "foo.de"]
    assert [e["input"] for e in body["errors"]] == ["not a site"]
    assert Domain.objects.get(domain="acme.com").source == "csv"


def test_csv_import_text_body_one_value_per_line(submitter):
    response = submitter.post("/api/v3/domains/import/", data=b"example.com\nbar.es\n\nexample.com\n",
                              content_type="text/csv")
    assert response.status_code == 201, response.content
    assert [e["domain"] for e in response.json()["created"]] == ["example.com", "bar.es"]


def test_csv_import_errors(submitter):
    assert submitter.post("/api/v3/domains/import/", {}, format="multipart").status_code == 400
    empty = SimpleUploadedFile("d.csv", b"", content_type="text/csv")
    response = submitter.post("/api/v3/domains/import/", {"file": empty}, format="multipart")
    assert response.status_code == 400 and "detail" in response.json()
    bad = submitter.post("/api/v3/domains/import/", data=b"domain\nnot a site\n", content_type="text/csv")
    assert bad.status_code == 400 and bad.json()["errors"][0]["input"] == "not a site"


def test_sitemap_files_list_and_filters(api_client):
    domain = DomainFactory(domain="acme.com")
    index = SitemapFileFactory(domain=domain, url="https://acme.com/sitemap_index.xml", sitemap_type="index")
    child = SitemapFileFactory(domain=domain, url="https://acme.com/sitemap-pages.xml", parent=index,
                               discovered_how="sitemap_index", depth=1)
    SitemapFileFactory(domain=DomainFactory(domain="b.com"), url="https://b.com/sitemap.xml",
                       fetch_error="[http_4xx] HTTP 404 from https://b.com/sitemap.xml", errored=True)
    PageFactory(domain=domain, url="https://acme.com/contact", sitemap_file=child)
    body = api_client.get("/api/v3/sitemap-files/").json()
    assert body["count"] == 3
    item = next(r for r in body["results"] if r["id"] == str(child.pk))
    assert item["domain"] == {"id": str(domain.pk), "domain": "acme.com"}
    assert item["parent"] == str(index.pk) and item["page_count"] == 1
    assert "sitemap_import_processing_error" in item and "sitemap_import_curation_status" in item
    assert api_client.get(f"/api/v3/sitemap-files/?domain={domain.pk}").json()["count"] == 2
    assert api_client.get("/api/v3/sitemap-files/?sitemap_type=index").json()["count"] == 1
    assert api_client.get(f"/api/v3/sitemap-files/?parent={index.pk}").json()["count"] == 1
    assert api_client.get("/api/v3/sitemap-files/?has_fetch_error=true").json()["count"] == 1
    assert api_client.get("/api/v3/sitemap-files/?sitemap_import_processing_status=Error").json()["count"] == 1
    assert api_client.get("/api/v3/sitemap-files/?discovered_how=sitemap_index").json()["count"] == 1


def test_pages_list_filters_and_detail_with_content(api_client):
    from django.utils import timezone

    from pages.models import PageContent

    domain = DomainFactory(domain="acme.com")
    contact = PageFactory(domain=domain, url="https://acme.com/contact")
    PageFactory(domain=domain, url="https://acme.com/blog/post")
    PageFactory(domain=DomainFactory(domain="b.de"), url="https://b.de/impressum")
    PageContent.objects.create(page=contact, final_url=contact.url, status_code=200, content_hash="0" * 64,
                               fetched_at=timezone.now(), html="<html>hi</html>", title="Contact us")
    body = api_client.get("/api/v3/pages/").json()
    assert body["count"] == 3
    item = next(r for r in body["results"] if r["id"] == str(contact.pk))
    assert item["category"] == "contact" and item["suggested"] is True and item["scrape_priority"] == 1
    assert item["content"]["title"] == "Contact us" and "html" not in item["content"]
    assert api_client.get(f"/api/v3/pages/?domain={domain.pk}&suggested=true").json()["count"] == 1
    assert api_client.get("/api/v3/pages/?category=impressum").json()["count"] == 1
    assert api_client.get("/api/v3/pages/?has_content=true").json()["count"] == 1
    assert api_client.get("/api/v3/pages/?domain_name=acme.com").json()["count"] == 2
    assert api_client.get("/api/v3/pages/?ordering=-confidence").status_code == 200
    detail = api_client.get(f"/api/v3/pages/{contact.pk}/").json()
    assert detail["html"] is None
    assert api_client.get(f"/api/v3/pages/{contact.pk}/?html=1").json()["html"] == "<html>hi</html>"
    assert api_client.get("/api/v3/pages/not-a-uuid/").status_code == 404


def test_filtered_status_selects_the_suggested_pages_of_a_domain(curator_client):
    domain = DomainFactory(domain="acme.com")
    for path in ("/contact", "/impressum", "/blog/a", "/products/x"):
        PageFactory(domain=domain, url=f"https://acme.com{path}")
    PageFactory(domain=DomainFactory(domain="b.com"), url="https://b.com/contact")
    response = curator_client.put("/api/v3/workflows/page_scrape/status/filtered", {
        "filters": {"domain": str(domain.pk), "suggested": True}, "status": "Selected"}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["queued_count"] == 2
    queued = set(Page.objects.filter(page_scrape_processing_status="Queued").values_list("url", flat=True))
    assert queued == {"https://acme.com/contact", "https://acme.com/impressum"}


def test_openapi_schema_lists_the_pages_resources(api_client):
    schema = api_client.get("/api/v3/schema/?format=json").json()
    for path in ("/api/v3/domains/", "/api/v3/domains/import/", "/api/v3/sitemap-files/", "/api/v3/pages/",
                 "/api/v3/pages/{id}/"):
        assert path in schema["paths"], path
