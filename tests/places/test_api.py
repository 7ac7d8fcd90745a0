"""The places API: resources, filters, POST starts a search, and the seed-compatible staging endpoints."""
from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from curation import registry
from curation.models import CurationEvent
from pages.models import Domain
from places.models import Place, PlaceSearch, PlaceSearchResult
from tests.factories import put_in_state
from tests.places.factories import LocalBusinessFactory, PlaceFactory, PlaceSearchFactory

pytestmark = pytest.mark.django_db

STAGING = "/api/v3/places/staging"
STAGING_STATUS = "/api/v3/places/staging/status"
ITEM_KEYS = {"place_id", "business_name", "address", "category", "search_location", "latitude", "longitude", "rating",
             "reviews_count", "price_level", "status", "updated_at", "last_deep_scanned_at", "search_job_id",
             "tenant_id", "deep_scan_status", "deep_scan_error"}


def _places(n: int, **kwargs):
    rows = PlaceFactory.create_batch(n, **kwargs)
    base = timezone.now()
    for i, row in enumerate(rows):  # distinct updated_at, oldest first
        Place.objects.filter(pk=row.pk).update(updated_at=base - timedelta(minutes=n - i))
    return rows


# --- seed-compatible staging list ---------------------------------------------------------------

def test_staging_list_has_the_original_shape_and_pagination(api_client):
    search = PlaceSearchFactory(location_text="Austin, TX")
    rows = _places(5)
    Place.objects.filter(pk=rows[-1].pk).update(last_search=search)
    put_in_state(registry.get("deep_scan"), [rows[0]], processing="Error", curation="Selected")
    response = api_client.get(STAGING, {"page": 1, "size": 2})
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"items", "total", "page", "size", "pages"}
    assert (body["total"], body["page"], body["size"], body["pages"]) == (5, 1, 2, 3)
    assert len(body["items"]) == 2
    first = body["items"][0]
    assert set(first) == ITEM_KEYS
    assert first["place_id"] == rows[-1].place_id, "newest update first"
    assert first["search_job_id"] == str(search.pk) and first["search_location"] == "Austin, TX"
    assert first["business_name"] == rows[-1].name and first["category"] == "dentist"
    assert first["status"] == "New" and first["deep_scan_status"] is None and first["deep_scan_error"] is None
    last_page = api_client.get(STAGING, {"page": 3, "size": 2}).json()
    assert [i["place_id"] for i in last_page["items"]] == [rows[0].place_id]
    assert last_page["items"][0]["deep_scan_status"] == "Error"
    assert last_page["items"][0]["deep_scan_error"] == "HTTP 500 from https://example.com/"
    assert api_client.get(STAGING + "/").status_code == 200, "not shadowed by places/<pk>/"


def test_staging_list_filters_by_status_with_the_not_a_fit_alias(api_client):
    rows = _places(3)
    put_in_state(registry.get("deep_scan"), [rows[0]], processing=None, curation="Rejected")
    assert api_client.get(STAGING, {"status": "Rejected"}).json()["total"] == 1
    assert api_client.get(STAGING, {"status": "Not a Fit"}).json()["items"][0]["status"] == "Not a Fit"
    assert api_client.get(STAGING, {"status": "New"}).json()["total"] == 2


@pytest.mark.parametrize("params", [{"size": 500}, {"size": 0}, {"page": 0}, {"page": "x"}, {"status": "Bogus"}])
def test_staging_list_rejects_bad_parameters_with_400(api_client, params):
    response = api_client.get(STAGING, params)
    assert response.status_code == 400
    assert response.json()["detail"]


def test_staging_endpoints_need_a_token():
    client = APIClient()
    assert client.get(STAGING).status_code == 401
    assert client.put(STAGING_STATUS, {"place_ids": ["x"], "status": "Selected"}, format="json").status_code == 401


# --- seed-compatible staging status ---------------------------------------------------------------

def test_staging_status_selected_queues_the_deep_scan(api_client, admin_user):
    rows = _places(3)
    response = api_client.put(STAGING_STATUS, {"place_ids": [r.place_id for r in rows[:2]], "status": "Selected"},
                              format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["updated_count"] == 2 and body["queued_count"] == 2 and body["message"]
    states = dict(Place.objects.values_list("place_id", "deep_scan_processing_status"))
    assert states == {rows[0].place_id: "Queued", rows[1].place_id: "Queued", rows[2].place_id: None}
    assert CurationEvent.objects.filter(workflow="deep_scan", actor_label=admin_user.username, source="api").count() == 2


def test_staging_status_accepts_not_a_fit_as_rejected(api_client):
    row = PlaceFactory(queued=True)
    response = api_client.put(STAGING_STATUS, {"place_ids": [row.place_id], "status": "Not a Fit"}, format="json")
    assert response.status_code == 200
    assert response.json()["queued_count"] == 0
    row.refresh_from_db()
    assert (row.deep_scan_curation_status, row.deep_scan_processing_status) == ("Rejected", None)


def test_staging_status_unknown_place_ids_are_a_400_listing_them(api_client):
    row = PlaceFactory()
    response = api_client.put(STAGING_STATUS, {"place_ids": [row.place_id, "ChIJnope1", "ChIJnope2"],
                                               "status": "Selected"}, format="json")
    assert response.status_code == 400
    body = response.json()
    assert body["not_found_ids"] == ["ChIJnope1", "ChIJnope2"] and "ChIJnope1" in body["detail"]
    row.refresh_from_db()
    assert row.deep_scan_processing_status is None, "nothing changed"


@pytest.mark.parametrize("payload", [{"place_ids": [], "status": "Selected"}, {"place_ids": ["a"]},
                                     {"place_ids": "abc", "status": "Selected"}, {"status": "Selected"}])
def test_staging_status_bad_body_is_a_400(api_client, payload):
    PlaceFactory(place_id="a")
    response = api_client.put(STAGING_STATUS, payload, format="json")
    assert response.status_code == 400 and response.json()["detail"]


def test_staging_status_unknown_status_is_a_400(api_client):
    row = PlaceFactory()
    response = api_client.put(STAGING_STATUS, {"place_ids": [row.place_id], "status": "Done"}, format="json")
    assert response.status_code == 400 and "Unknown status" in response.json()["detail"]


def test_staging_status_needs_the_change_permission(viewer_client, curator_client):
    row = PlaceFactory()
    payload = {"place_ids": [row.place_id], "status": "Selected"}
    assert viewer_client.put(STAGING_STATUS, payload, format="json").status_code == 403
    assert viewer_client.get(STAGING).status_code == 200, "the viewer group reads"
    assert curator_client.put(STAGING_STATUS, payload, format="json").status_code == 200


# --- place-searches -----------------------------------------------------------------------------------------

def test_post_place_search_creates_a_queued_search(api_client, admin_user):
    response = api_client.post("/api/v3/place-searches/", {"query": "dentist", "location_text": "Austin, TX",
                                                           "max_results": 20}, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["place_search_processing_status"] == "Queued" and body["created_by"] == admin_user.username
    assert body["max_results"] == 20 and body["results_found"] is None
    search = PlaceSearch.objects.get(pk=body["id"])
    assert search.place_search_queued_at is not None
    listed = api_client.get("/api/v3/place-searches/").json()
    assert listed["count"] == 1 and listed["results"][0]["id"] == body["id"]


@pytest.mark.parametrize("payload,fragment", [
    ({"query": "dentist", "max_results": 61}, "max_results"),
    ({"query": ""}, "query"),
    ({"query": "dentist", "latitude": 30.2}, "latitude and longitude go together"),
    ({"query": "dentist", "radius_m": 1000}, "radius needs latitude"),
    ({"query": "dentist", "region": "usa"}, "region"),
    ({"location_text": "Austin"}, "query"),
    ({"query": "dentist", "cover_area": True}, "an area search needs an area"),
    ({"query": "dentist", "cover_area": True, "south": 2, "west": 1, "north": 1, "east": 2}, "south (2.0) must be below"),
    ({"query": "dentist", "area_text": "Austin"}, "needs cover_area"),
])
def test_post_place_search_validation_is_a_400(api_client, payload, fragment):
    response = api_client.post("/api/v3/place-searches/", payload, format="json")
    assert response.status_code == 400
    assert fragment in response.json()["detail"]
    assert not PlaceSearch.objects.exists()


def test_post_place_search_needs_the_add_permission(viewer_client, settings):
    response = viewer_client.post("/api/v3/place-searches/", {"query": "dentist"}, format="json")
    assert response.status_code == 403


def test_post_place_search_refused_when_google_is_not_configured(api_client, settings):
    settings.SANDBOX_ENABLED = False
    settings.GOOGLE_MAPS_API_KEY = ""
    response = api_client.post("/api/v3/place-searches/", {"query": "dentist"}, format="json")
    assert response.status_code == 400 and "GOOGLE_MAPS_API_KEY" in response.json()["detail"]


# --- places and local-businesses lists -------------------------------------------------------------------------

def _ids(response):
    assert response.status_code == 200, response.content
    return {row["place_id"] for row in response.json()["results"]}


def test_places_list_filters(api_client):
    search = PlaceSearchFactory()
    a = PlaceFactory(with_website=True, rating=4.8, business_status="OPERATIONAL")
    b = PlaceFactory(website="https://chain.example.org/a", website_domain="chain-x.com", rating=3.1,
                     primary_type="plumber", types=["plumber"])
    c = PlaceFactory(website="https://chain.example.org/b", website_domain="chain-x.com", rating=None,
                     business_status="CLOSED_PERMANENTLY", phone="+1 512-555-0199")
    d = PlaceFactory(errored=True)
    PlaceSearchResult.objects.create(search=search, place=a, rank=1)
    PlaceSearchResult.objects.create(search=search, place=c, rank=2)
    url = "/api/v3/places/"
    assert _ids(api_client.get(url)) == {a.place_id, b.place_id, c.place_id, d.place_id}
    assert _ids(api_client.get(url, {"has_website": "true"})) == {a.place_id, b.place_id, c.place_id}
    assert _ids(api_client.get(url, {"has_website": "false"})) == {d.place_id}
    assert _ids(api_client.get(url, {"has_phone": "true"})) == {a.place_id, c.place_id}
    assert _ids(api_client.get(url, {"chain": "true"})) == {b.place_id, c.place_id}
    assert _ids(api_client.get(url, {"place_search": str(search.pk)})) == {a.place_id, c.place_id}
    assert _ids(api_client.get(url, {"rating_min": 4})) == {a.place_id, d.place_id}
    assert _ids(api_client.get(url, {"category": "plumber"})) == {b.place_id}
    assert _ids(api_client.get(url, {"business_status": "CLOSED_PERMANENTLY"})) == {c.place_id}
    assert _ids(api_client.get(url, {"deep_scan_processing_status": "Error"})) == {d.place_id}
    assert _ids(api_client.get(url, {"deep_scan_processing_status": "none"})) == {a.place_id, b.place_id, c.place_id}
    assert _ids(api_client.get(url, {"deep_scan_error_class": "not_found"})) == {d.place_id}
    ordered = api_client.get(url, {"ordering": "-rating", "rating_min": 0, "size": 2}).json()
    assert ordered["count"] == 3 and len(ordered["results"]) == 2
    assert ordered["results"][0]["place_id"] == a.place_id


def test_place_detail_carries_statuses_errors_provenance_and_business(api_client):
    place = PlaceFactory(errored=True)
    search = PlaceSearchFactory()
    PlaceSearchResult.objects.create(search=search, place=place, rank=3)
    business = LocalBusinessFactory(place_id=place.place_id, source_place=place)
    body = api_client.get(f"/api/v3/places/{place.pk}/").json()
    assert body["deep_scan_curation_status"] == "Selected" and body["deep_scan_processing_status"] == "Error"
    assert body["deep_scan_processing_error"] and body["deep_scan_error_class"] == "not_found"
    assert body["found_by"][0]["search"] == str(search.pk) and body["found_by"][0]["rank"] == 3
    assert body["business"] == str(business.pk) and "raw" in body


def test_filtered_batch_status_accepts_the_places_filters(api_client):
    with_site = PlaceFactory(with_website=True)
    without = PlaceFactory()
    response = api_client.put("/api/v3/workflows/deep_scan/status/filtered",
                              {"filters": {"has_website": True}, "status": "Selected"}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["queued_count"] == 1
    with_site.refresh_from_db()
    without.refresh_from_db()
    assert with_site.deep_scan_processing_status == "Queued" and without.deep_scan_processing_status is None


def test_local_businesses_list_and_filters(api_client):
    domain = Domain.objects.create(domain="testbiz.com")
    a = LocalBusinessFactory(domain=domain, website_kind="own_site", phone_e164="+15125550100")
    b = LocalBusinessFactory(no_website=True, website_kind="none", completed=True)
    c = LocalBusinessFactory(website="https://facebook.com/c", website_kind="social_profile",
                             social_links={"facebook": "https://facebook.com/c"}, rating=2.5)
    url = "/api/v3/local-businesses/"
    assert _ids(api_client.get(url)) == {a.place_id, b.place_id, c.place_id}
    assert _ids(api_client.get(url, {"has_domain": "true"})) == {a.place_id}
    assert _ids(api_client.get(url, {"has_website": "false"})) == {b.place_id}
    assert _ids(api_client.get(url, {"has_phone": "true"})) == {a.place_id}
    assert _ids(api_client.get(url, {"website_kind": "social_profile"})) == {c.place_id}
    assert _ids(api_client.get(url, {"rating_max": 3})) == {c.place_id}
    assert _ids(api_client.get(url, {"domain": "testbiz.com"})) == {a.place_id}
    assert _ids(api_client.get(url, {"domain_extraction_processing_status": "Completed"})) == {b.place_id}
    assert _ids(api_client.get(url, {"search": "Test Business"})) == {a.place_id, b.place_id, c.place_id}
    row = api_client.get(f"{url}{a.pk}/").json()
    assert row["domain"] == {"id": str(domain.pk), "domain": "testbiz.com"}
    assert {"domain_extraction_curation_status", "domain_extraction_processing_status",
            "domain_extraction_processing_error", "domain_extraction_error_class"} <= set(row)


def test_lists_need_a_token():
    client = APIClient()
    for url in ("/api/v3/places/", "/api/v3/local-businesses/", "/api/v3/place-searches/"):
        assert client.get(url).status_code == 401


def test_schema_documents_the_places_endpoints(client):
    response = client.get("/api/v3/schema/")
    assert response.status_code == 200
    text = response.content.decode()
    for path in ("/api/v3/places/staging", "/api/v3/places/staging/status", "/api/v3/place-searches/",
                 "/api/v3/local-businesses/"):
        assert path in text, path


def test_post_an_area_search_and_estimate_it_first(api_client):
    payload = {"query": "dentist", "cover_area": True, "area_text": "Quillhaven, OR", "max_requests": 100,
               "max_cost_usd": "2.50"}
    estimate = api_client.post("/api/v3/place-searches/estimate/", payload, format="json")
    assert estimate.status_code == 200, estimate.content
    body = estimate.json()
    assert body["kind"] == "area" and body["min_requests"] == 4 and body["max_requests"] == 71  # $2.50 / $0.035
    assert body["search_sku"] == "Text Search Enterprise" and "never more than 71 requests" in body["summary"]
    assert not PlaceSearch.objects.exists(), "an estimate creates nothing"
    created = api_client.post("/api/v3/place-searches/", payload, format="json")
    assert created.status_code == 201, created.content
    search = created.json()
    assert (search["cover_area"], search["area_text"], search["max_requests"], search["max_cost_usd"]) == (
        True, "Quillhaven, OR", 100, "2.50")
    assert (search["tiles_total"], search["requests_used"], search["cost_usd"], search["note"]) == (0, 0, "0.0000", "")
    bad = api_client.post("/api/v3/place-searches/estimate/", {"query": "dentist", "cover_area": True}, format="json")
    assert bad.status_code == 400 and "an area search needs an area" in bad.content.decode()
