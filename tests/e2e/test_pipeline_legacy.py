"""The whole chain through the original system's API only (issue #13), with a real qcluster, on PostgreSQL.

An unmodified client of the original API: it searches (localminer-discoveryscan),
curates every stage with the original routes, bodies and status strings, waits on
the original status fields, and reads the contacts — place search → staging →
local businesses → domains → sitemap files → pages → contacts. The hooks run in a
real `qcluster` against the sandboxes (tests/e2e/conftest.py); nothing in this
process but the API.
"""
from __future__ import annotations

import time
from urllib.parse import urlsplit

import pytest
from rest_framework.test import APIClient

from scrapersky.sandbox.websites import expected_contacts
from tests.conftest import in_group
from tests.support import wait_until

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

STAGE_TIMEOUT = 120  # a deadline only (a loaded CI machine is slow); the stages end as soon as they settle
USERNAME, PASSWORD = "legacy-client", "legacy-pass-5521"


class OriginalClient:
    """Requests as the original clients sent them: unslashed paths, original bodies, a bearer token."""

    def __init__(self, client: APIClient):
        self.client = client

    def get(self, path: str, **params):
        response = self.client.get(f"/api/v3/{path}", params)
        assert response.status_code == 200, (path, response.status_code, response.content[:400])
        return response.json()

    def send(self, method: str, path: str, body: dict, expect: int = 200) -> dict:
        response = getattr(self.client, method)(f"/api/v3/{path}", body, format="json")
        assert response.status_code == expect, (path, response.status_code, response.content[:400])
        assert not response.get("Location"), "answered directly, never redirected"
        return response.json()


def wait_for(fetch, done, what: str):
    """Poll `fetch()` until `done(result)`; the last result is in the failure message."""
    last = {}

    def check():
        last["value"] = fetch()
        return last["value"] if done(last["value"]) else None

    started = time.monotonic()
    try:
        result = wait_until(check, STAGE_TIMEOUT, what, interval=0.5)
    except AssertionError as exc:
        raise AssertionError(f"{exc}; last answer: {str(last.get('value'))[:1500]}") from None
    print(f"{what}: {time.monotonic() - started:.1f} s")
    return result


def test_the_whole_chain_through_the_original_api_with_a_real_cluster(
    postgres_only, sandboxes, pipeline_env, pipeline_settings, processes, django_user_model,
):
    processes.start("qcluster", env=pipeline_env)
    # An operator (the shipped group): reads, starts searches, curates every stage; not a superuser.
    in_group(django_user_model.objects.create_user(username=USERNAME, password=PASSWORD), "operator")
    client = APIClient()
    token = client.post("/api/v3/auth/token/", {"username": USERNAME, "password": PASSWORD}, format="json")
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token.json()['access']}")
    api = OriginalClient(client)

    # --- WF1: the Single Search tab --------------------------------------------------------------------
    started = api.send("post", "localminer-discoveryscan/search/places",
                       {"business_type": "bakery", "location": "Austin, TX", "radius_km": 10, "tenant_id": None})
    job_id = started["job_id"]
    status = wait_for(lambda: api.get(started["status_url"].removeprefix("/api/v3/")),
                      lambda s: s["status"] in ("complete", "failed"), "the place search")
    assert (status["status"], status["progress"]) == ("complete", 1.0), status
    results = api.get(f"localminer-discoveryscan/results/{job_id}")
    place_ids = [p["place_id"] for p in results["places"]]
    assert results["total"] == len(place_ids) == 4
    assert [h["job_id"] for h in api.get("localminer-discoveryscan/search/history", limit=10)] == [job_id]

    # --- WF2: the Staging Editor -------------------------------------------------------------------------
    staging = api.get("places/staging", page=1, size=50)
    assert {i["place_id"] for i in staging["items"]} == set(place_ids) and staging["total"] == 4
    assert all(i["status"] == "New" and i["deep_scan_status"] is None for i in staging["items"])
    queued = api.send("put", "places/staging/status", {"place_ids": place_ids, "status": "Selected"})
    assert queued["queued_count"] == 4
    staging = wait_for(lambda: api.get("places/staging", page=1, size=50),
                       lambda b: all(i["deep_scan_status"] in ("Completed", "Error") for i in b["items"]),
                       "the deep scans")
    assert {i["deep_scan_status"] for i in staging["items"]} == {"Completed"}, staging

    # --- WF3: Local Business Curation ------------------------------------------------------------------
    businesses = api.get("local-businesses", status="New", page=1, size=50)["items"]
    assert len(businesses) == 4
    api.send("put", "local-businesses/status",
             {"local_business_ids": [b["id"] for b in businesses], "status": "Selected"})
    businesses = wait_for(lambda: api.get("local-businesses", status="Selected", size=50)["items"],
                          lambda items: len(items) == 4 and all(
                              b["domain_extraction_status"] in ("Completed", "Error") for b in items),
                          "the domain extractions")
    assert {b["domain_extraction_status"] for b in businesses} == {"Completed"}
    websites = {b["domain"]: b["website_url"] for b in businesses if b["domain"]}
    assert websites, "at least one business has a crawlable site"

    # --- WF4: Domain Curation ------------------------------------------------------------------------------
    domains = api.get("domains", sitemap_curation_status="New", page=1, size=100)["items"]
    assert {d["domain"] for d in domains} == set(websites)
    assert all(d["sitemap_analysis_status"] is None for d in domains)
    api.send("put", "domains/sitemap-curation/status",
             {"domain_ids": [d["id"] for d in domains], "sitemap_curation_status": "Selected"})
    domains = wait_for(lambda: api.get("domains", sitemap_curation_status="Selected", size=100)["items"],
                       lambda items: all(d["sitemap_analysis_status"] in ("submitted", "failed") for d in items),
                       "sitemap discovery")
    assert {d["sitemap_analysis_status"] for d in domains} == {"submitted"}, domains

    # --- WF5: Sitemap Curation -------------------------------------------------------------------------------
    files = api.get("sitemap-files/", page=1, size=200, deep_scrape_curation_status="New")["items"]
    assert {f["domain_name"] for f in files} == set(websites)
    api.send("put", "sitemap-files/sitemap_import_curation/status",
             {"sitemap_file_ids": [f["id"] for f in files], "deep_scrape_curation_status": "Selected"})
    files = wait_for(lambda: api.get("sitemap-files/", size=200, deep_scrape_curation_status="Selected")["items"],
                     lambda items: all(f["sitemap_import_status"] in ("Complete", "Error") for f in items),
                     "sitemap imports")
    assert {f["sitemap_import_status"] for f in files} == {"Complete"}, files

    # --- WF7: pages: the contact-bearing page types, selected with the original filtered update ------------
    page_types = ("contact_root", "about_root", "team_root")
    contact_pages = api.get("pages/", page_type="contact_root", limit=1000)["pages"]
    assert {p["domain_id"] for p in contact_pages} == {d["id"] for d in domains}, "every site has a contact page"
    wanted = [p for t in page_types for p in api.get("pages/", page_type=t, limit=1000)["pages"]]
    queued = 0
    for page_type in page_types:
        response = api.client.put("/api/v3/pages/status/filtered", {"status": "Selected", "page_type": page_type},
                                  format="json")
        assert response.status_code in (200, 404), response.content  # 404: no page of that type (as originally)
        queued += response.json().get("queued_count", 0) if response.status_code == 200 else 0
    assert queued == len(wanted)
    scraped = wait_for(lambda: api.get("pages/", page_curation_status="Selected", limit=1000)["pages"],
                       lambda pages: all(p["processing_status"] in ("Complete", "Error") for p in pages),
                       "page scrapes")
    assert len(scraped) == len(wanted) and {p["processing_status"] for p in scraped} == {"Complete"}
    # Each stored page is queued for contact extraction (processing-only: no curator step), which the same
    # cluster runs; the original had no such stage, so its progress is read from the workflow overview.
    extraction = wait_for(lambda: api.get("workflows/contact_extraction/")["processing_counts"],
                          lambda counts: counts.get("Completed", 0) + counts.get("Error", 0) == len(wanted),
                          "contact extractions")
    assert extraction.get("Completed") == len(wanted), extraction

    # --- WF8: the contacts, as the original listing shows them ----------------------------------------------
    contacts = api.get("contacts", limit=1000)
    assert isinstance(contacts, list) and contacts
    by_domain = {d["id"]: d["domain"] for d in domains}
    for domain_name, website in websites.items():
        site = expected_contacts(urlsplit(website).hostname)
        emails = sorted(c["email"] for c in contacts if by_domain.get(c["domain_id"]) == domain_name and c["email"])
        assert emails == site["emails"], (domain_name, emails, site["emails"])
    validated = api.send("post", "contacts/validate", {"contact_ids": [c["id"] for c in contacts[:100]]})
    assert validated["queued_count"] == min(len(contacts), 100)
    wait_for(lambda: api.get("contacts", limit=1000),
             lambda rows: all(r["debounce_validation_status"] in ("Complete", "Error") for r in rows[:100]),
             "contact validation")
    summary = api.get("contacts/validation-summary")
    assert summary["validated"] >= min(len(contacts), 100) and summary["valid"] > 0, summary
