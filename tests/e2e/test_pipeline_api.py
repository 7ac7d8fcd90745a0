"""The whole pipeline as a product: REST API with a real JWT → two real qcluster processes → the sandboxes.

Two Google searches ("bakery in Austin, TX" and "lawyer in Austin, TX", four
places each in the Places sandbox) go through every stage, each triggered the
way an API client triggers it (a curation status of Selected), and each
awaited on its processing statuses with a deadline:

  place_search → deep_scan → domain_extraction → sitemap_discovery →
  sitemap_import → page_scrape (suggested pages) → contact_validation →
  brevo_sync, hubspot_sync, webhook_sync

The searches were chosen for the kinds of website a curator meets: own sites
(https with www, plain http, a path), site-builder subdomains
(*.wordpress.com, *.business.site: crawled as their own domain), a link-in-bio
shortener (linktr.ee: recorded, not crawled) and a business without a website.
The last two are the documented non-crawl outcomes: `domain_extraction`
completes them with a `website_kind` and a `website_note`, and no domain.

Nothing runs in this process but the API: the hooks run in the workers, woken
by the API's on-commit wake-ups (the test database has no django-q2
schedule). Network boundaries: the three sandboxes over real HTTP on
loopback, and DNS (tests/e2e/fake_dns.py).
"""
from __future__ import annotations

import csv
import io
import time
from collections import Counter
from urllib.parse import urlsplit

import pytest
from rest_framework.test import APIClient

from places.domains import domain_key, normalize_website
from scrapersky.sandbox.places_api import load_dataset
from scrapersky.sandbox.websites import expected_contacts
from tests.e2e.fake_dns import mx_host
from tests.conftest import in_group
from tests.support import wait_until

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

SEARCHES = [("bakery", "Austin, TX"), ("lawyer", "Austin, TX")]
PLACES_PER_SEARCH = 4
STAGE_TIMEOUT = 120  # seconds per stage; each takes 1–5 s on a laptop, far more on a loaded CI machine
DONE = ("Completed", "Error")
USERNAME, PASSWORD = "curator-e2e", "e2e-pass-8421"


# --- helpers ------------------------------------------------------------------------------------------

class Api:
    """The REST API as a client program sees it: JSON in and out, a bearer token, a check on every status."""

    def __init__(self, client: APIClient):
        self.client = client

    def get(self, path: str, **params):
        response = self.client.get(f"/api/v3/{path}", params)
        assert response.status_code == 200, (path, response.status_code, response.content[:500])
        return response

    def list(self, path: str, **params) -> list[dict]:
        data = self.get(path, size=500, **params).json()
        assert data["count"] <= 500, f"{path}: more rows than one page ({data['count']})"
        return data["results"]

    def post(self, path: str, body: dict, expect: int = 201) -> dict:
        response = self.client.post(f"/api/v3/{path}", body, format="json")
        assert response.status_code == expect, (path, response.status_code, response.content[:500])
        return response.json()

    def put(self, path: str, body: dict) -> dict:
        response = self.client.put(f"/api/v3/{path}", body, format="json")
        assert response.status_code == 200, (path, response.status_code, response.content[:500])
        return response.json()

    def select(self, workflow: str, ids: list[str]) -> dict:
        """PUT /workflows/<workflow>/status Selected: every row must be queued."""
        result = self.put(f"workflows/{workflow}/status", {"ids": ids, "status": "Selected"})
        assert result["queued_count"] == len(ids), (workflow, result)
        return result


def wait_done(api: Api, path: str, workflow: str, ids: set[str], what: str, **params) -> list[dict]:
    """Poll the list endpoint until every row in `ids` is Completed or Error; the rows, or a failure with statuses."""
    field = f"{workflow}_processing_status"
    seen: dict[str, str] = {}

    def settled():
        rows = [row for row in api.list(path, **params) if row["id"] in ids]
        seen.clear()
        seen.update({row["id"]: row[field] for row in rows})
        return rows if len(rows) == len(ids) and all(row[field] in DONE for row in rows) else None

    started = time.monotonic()
    try:
        rows = wait_until(settled, STAGE_TIMEOUT, what, interval=0.3)
    except AssertionError as exc:
        raise AssertionError(f"{exc}; {workflow} statuses now: {dict(Counter(seen.values()))} "
                             f"of {len(ids)} rows") from None
    print(f"{workflow}: {len(ids)} row(s) settled in {time.monotonic() - started:.1f} s")
    return rows


def assert_all_completed(rows: list[dict], workflow: str, label) -> None:
    failed = [(label(row), row[f"{workflow}_error_class"], row[f"{workflow}_processing_error"])
              for row in rows if row[f"{workflow}_processing_status"] != "Completed"]
    assert not failed, f"{workflow}: rows not Completed: {failed}"


def expected_outcome(website: str | None) -> tuple[str, str | None]:
    """(website_kind, domain) that domain_extraction should give a business with this Google website."""
    if not website:
        return "none", None
    info = normalize_website(website)
    return info.kind, domain_key(info)


# --- the test -----------------------------------------------------------------------------------------

def test_the_whole_pipeline_through_the_api_with_two_real_clusters(
    postgres_only, sandboxes, pipeline_env, pipeline_settings, processes, django_user_model,
):  # the clusters (processes) start after, and so stop before, the sandboxes they talk to
    t0 = time.monotonic()
    clusters = [processes.start("qcluster", env=pipeline_env) for _ in range(2)]

    # An operator (the shipped group): may read, start searches and change every workflow row; not a superuser.
    user = in_group(django_user_model.objects.create_user(username=USERNAME, password=PASSWORD), "operator")
    client = APIClient()
    token = client.post("/api/v3/auth/token/", {"username": USERNAME, "password": PASSWORD}, format="json")
    assert token.status_code == 200, token.content
    assert client.get("/api/v3/places/").status_code == 401, "without the token the API refuses"
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token.json()['access']}")
    api = Api(client)

    # --- WF1 place_search: POST starts a search, queued at once ------------------------------------
    searches = [api.post("place-searches/", {"query": q, "location_text": where, "max_results": 10})
                for q, where in SEARCHES]
    assert all(s["place_search_queued_at"] for s in searches), searches  # queued on creation, no curation gate
    search_ids = {s["id"] for s in searches}
    rows = wait_done(api, "place-searches/", "place_search", search_ids, "the place searches")
    assert_all_completed(rows, "place_search", lambda r: r["query"])
    assert all(r["results_found"] == PLACES_PER_SEARCH and r["results_new"] == PLACES_PER_SEARCH for r in rows), rows

    # --- WF2 deep_scan: one search's places by Google place id (seed endpoint), the other's by id ----
    bakery, lawyer = searches
    bakery_places = api.list("places/", place_search=bakery["id"])
    lawyer_places = api.list("places/", place_search=lawyer["id"])
    assert len(bakery_places) == len(lawyer_places) == PLACES_PER_SEARCH
    staged = api.put("places/staging/status", {"place_ids": [p["place_id"] for p in bakery_places],
                                               "status": "Selected"})
    assert staged["queued_count"] == PLACES_PER_SEARCH, staged
    api.select("deep_scan", [p["id"] for p in lawyer_places])
    place_ids = {p["id"] for p in bakery_places + lawyer_places}
    places = wait_done(api, "places/", "deep_scan", place_ids, "the deep scans")
    assert_all_completed(places, "deep_scan", lambda r: r["name"])
    assert all(p["business"] and p["last_deep_scanned_at"] for p in places)

    # --- WF3 domain_extraction ---------------------------------------------------------------------------
    businesses = api.list("local-businesses/")
    assert {b["place_id"] for b in businesses} == {p["place_id"] for p in places}
    api.select("domain_extraction", [b["id"] for b in businesses])
    businesses = wait_done(api, "local-businesses/", "domain_extraction", {b["id"] for b in businesses},
                           "the domain extractions")
    assert_all_completed(businesses, "domain_extraction", lambda r: r["name"])
    google = {p["id"]: p for p in load_dataset()}
    kinds = Counter()
    for business in businesses:
        kind, key = expected_outcome(google[business["place_id"]].get("websiteUri"))
        kinds[kind] += 1
        assert business["website_kind"] == kind, (business["name"], business["website"], business["website_kind"])
        assert (business["domain"] or {}).get("domain") == key, (business["name"], business["domain"])
        if key is None:  # documented outcome: Completed, with the reason, and nothing to crawl
            assert business["website_note"], f"{business['name']}: no domain and no note saying why"
    assert kinds == {"own_site": 4, "site_builder": 2, "link_shortener": 1, "none": 1}, kinds
    crawlable = {b["domain"]["domain"]: b for b in businesses if b["domain"]}
    assert len(crawlable) == 6

    # --- WF4 sitemap_discovery ------------------------------------------------------------------------------
    domains = api.list("domains/")
    assert {d["domain"] for d in domains} == set(crawlable)
    api.select("sitemap_discovery", [d["id"] for d in domains])
    domains = wait_done(api, "domains/", "sitemap_discovery", {d["id"] for d in domains}, "sitemap discovery")
    assert_all_completed(domains, "sitemap_discovery", lambda r: r["domain"])
    assert all(d["has_sitemap"] and d["sitemap_count"] >= 1 for d in domains), \
        [(d["domain"], d["has_sitemap"], d["discovery_note"]) for d in domains]

    # --- WF5 sitemap_import -----------------------------------------------------------------------------------
    sitemaps = api.list("sitemap-files/")
    assert {s["domain"]["domain"] for s in sitemaps} == set(crawlable)
    api.select("sitemap_import", [s["id"] for s in sitemaps])
    sitemaps = wait_done(api, "sitemap-files/", "sitemap_import", {s["id"] for s in sitemaps}, "sitemap imports")
    assert_all_completed(sitemaps, "sitemap_import", lambda r: r["url"])
    assert all(s["pages_imported"] for s in sitemaps), [(s["url"], s["import_note"]) for s in sitemaps]

    # --- WF7 page_scrape: the suggested (contact-bearing) pages --------------------------------------------
    suggested = api.list("pages/", suggested="true")
    by_domain = Counter(p["domain"]["domain"] for p in suggested)
    assert set(by_domain) == set(crawlable), by_domain
    for name in crawlable:
        contact_path = expected_contacts(urlsplit(crawlable[name]["website_normalized"]).hostname)["contact_path"]
        assert any(p["domain"]["domain"] == name and urlsplit(p["url"]).path == contact_path for p in suggested), \
            f"{name}: the contact page {contact_path} is not among the suggested pages"
    assert len(api.list("pages/")) > len(suggested), "only the suggested pages are selected, not every page"
    api.select("page_scrape", [p["id"] for p in suggested])
    pages = wait_done(api, "pages/", "page_scrape", {p["id"] for p in suggested}, "page scrapes", suggested="true")
    assert_all_completed(pages, "page_scrape", lambda r: r["url"])
    assert all(p["content"] and p["content"]["status_code"] == 200 for p in pages)

    # --- contact_extraction: queued by the scrape for every stored page (processing-only), run by the cluster -----
    contents = api.list("workflows/contact_extraction/rows/")
    assert len(contents) == len(pages) and {c["page"] for c in contents} == {p["id"] for p in pages}
    contents = wait_done(api, "workflows/contact_extraction/rows/", "contact_extraction", {c["id"] for c in contents},
                         "contact extractions")
    assert_all_completed(contents, "contact_extraction", lambda r: r["final_url"])
    assert all(c["title"] for c in contents), "the metadata comes with the extraction"

    # --- the contacts are exactly what the websites show ---------------------------------------------------
    contacts = api.list("contacts/")
    for name, business in crawlable.items():
        site = expected_contacts(urlsplit(business["website_normalized"]).hostname)
        found = [c for c in contacts if c["domain"]["domain"] == name]
        emails = sorted(c["normalized"] for c in found if c["kind"] == "email")
        phones = sorted(c["normalized"] for c in found if c["kind"] == "phone")
        assert emails == site["emails"], (name, emails, site["emails"])
        assert phones == sorted(site["phones"]), (name, phones, site["phones"])
        assert all(c["business"] == business["id"] for c in found), f"{name}: contacts not linked to the business"
    assert len(contacts) == 6 * (4 + 2)

    # --- WF8 contact_validation (DNS: the fake resolver) -----------------------------------------------------
    contact_ids = {c["id"] for c in contacts}
    api.select("contact_validation", sorted(contact_ids))
    contacts = wait_done(api, "contacts/", "contact_validation", contact_ids, "contact validation")
    assert_all_completed(contacts, "contact_validation", lambda r: r["normalized"])
    for c in contacts:
        assert c["validation_result"] == "valid", (c["normalized"], c["validation_result"], c["validation_reason"])
        if c["kind"] == "email":
            assert c["mx_hosts"] == [mx_host(c["normalized"].rpartition("@")[2])], \
                f"{c['normalized']}: {c['mx_hosts']} - not the fake resolver's answer"

    # --- WF8 syncs: Brevo and HubSpot take emails; the webhook takes every contact ----------------------------
    emails = {c["id"] for c in contacts if c["kind"] == "email"}
    api.select("brevo_sync", sorted(emails))
    api.select("hubspot_sync", sorted(emails))
    api.select("webhook_sync", sorted(contact_ids))
    for workflow, ids in (("brevo_sync", emails), ("hubspot_sync", emails), ("webhook_sync", contact_ids)):
        rows = wait_done(api, "contacts/", workflow, ids, workflow)
        assert_all_completed(rows, workflow, lambda r: r["normalized"])
    contacts = {c["id"]: c for c in api.list("contacts/")}
    assert all(contacts[i]["brevo_remote_id"] and contacts[i]["hubspot_remote_id"] for i in emails)
    assert all(contacts[i]["webhook_delivery_id"] for i in contact_ids)

    # --- the CRM sandbox received them (over HTTP, as an operator would look) ----------------------------------
    state = sandboxes.crm_state()
    email_values = {contacts[i]["normalized"] for i in emails}
    assert {c["email"] for c in state["brevo"]["contacts"]} == email_values
    assert {c["properties"]["email"] for c in state["hubspot"]["contacts"]} == email_values
    deliveries = state["webhooks"]["deliveries"]
    assert {d["document"]["contact"]["contact_id"] for d in deliveries} == contact_ids
    assert all(d["receiver"] == "sync" and d["signature"].startswith("sha256=") for d in deliveries)
    assert {contacts[i]["brevo_remote_id"] for i in emails} == {str(c["id"]) for c in state["brevo"]["contacts"]}

    # --- every stage, every row: nothing left behind, nothing in Error -------------------------------------------
    overview = {w["name"]: w for w in api.get("workflows/").json()}
    all_pages, phones = len(api.list("pages/")), len(contact_ids) - len(emails)
    expected_counts = {  # processing status -> rows; "none" = never queued (not selected by the curator)
        "place_search": {"Completed": 2}, "deep_scan": {"Completed": 8}, "domain_extraction": {"Completed": 8},
        "sitemap_discovery": {"Completed": 6}, "sitemap_import": {"Completed": len(sitemaps)},
        "page_scrape": {"Completed": len(pages), "none": all_pages - len(pages)},
        "contact_extraction": {"Completed": len(pages)},
        "contact_validation": {"Completed": len(contact_ids)},
        "brevo_sync": {"Completed": len(emails), "none": phones},
        "hubspot_sync": {"Completed": len(emails), "none": phones},
        "webhook_sync": {"Completed": len(contact_ids)},
    }
    for name, expected in expected_counts.items():
        counts = {k: v for k, v in overview[name]["processing_counts"].items() if v}
        assert counts == expected, (name, counts)
        assert not overview[name]["errors_by_class"] and overview[name]["oldest_queued_age_seconds"] is None

    # --- the CSV export: UTF-8 with a BOM, every contact in it ------------------------------------------------
    response = client.get("/api/v3/contacts/export/", {"format": "csv"})
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    body = b"".join(response.streaming_content)
    assert body.startswith(b"\xef\xbb\xbf"), body[:20]
    rows = list(csv.DictReader(io.StringIO(body.decode("utf-8-sig"))))
    assert len(rows) == len(contact_ids)
    assert {r["Email"] for r in rows if r["Email"]} == email_values
    assert {r["Phone (E.164)"].lstrip("'") for r in rows if r["Kind"].lower() == "phone"} == \
        {c["normalized"] for c in contacts.values() if c["kind"] == "phone"}
    assert all(r["Validation"] for r in rows), "the export carries the validation result"

    assert all(cluster.poll() is None for cluster in clusters), "both clusters are still running"
    print(f"whole pipeline: {time.monotonic() - t0:.1f} s")
