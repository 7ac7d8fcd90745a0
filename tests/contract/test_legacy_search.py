"""The original WF1 routes (reference §3 WF1, §5.1) and the batch search its UI called, as its clients send them."""
from __future__ import annotations

import uuid

import pytest
from rest_framework.test import APIClient

from curation import registry
from places.models import Place, PlaceSearch
from tests.factories import put_in_state
from tests.places.factories import PlaceFactory, PlaceSearchFactory

pytestmark = pytest.mark.django_db

SCAN = "/api/v3/localminer-discoveryscan"


def test_search_creates_our_queued_place_search_and_answers_the_original_body(api_client, admin_user):
    response = api_client.post(f"{SCAN}/search/places", {"business_type": "dentist", "location": "Austin, TX",
                                                         "radius_km": 10, "tenant_id": None}, format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    search = PlaceSearch.objects.get()
    assert body == {"job_id": str(search.pk), "status_url": f"{SCAN}/search/status/{search.pk}",
                    "status": "processing"}
    assert (search.query, search.location_text, search.created_by) == ("dentist", "Austin, TX", admin_user)
    assert search.place_search_processing_status == "Queued", "queued like every other search"
    status = api_client.get(body["status_url"]).json()
    assert (status["job_id"], status["status"], status["progress"]) == (str(search.pk), "pending", 0.0)
    assert set(status) >= {"job_id", "status", "progress", "created_at", "updated_at"}


@pytest.mark.parametrize("payload", [{"location": "Austin"}, {"business_type": "dentist"},
                                     {"business_type": "dentist", "location": "Austin", "radius_km": 0},
                                     {"business_type": "", "location": "Austin"}])
def test_search_bad_body_is_a_400_and_creates_nothing(api_client, payload):
    response = api_client.post(f"{SCAN}/search/places/", payload, format="json")
    assert response.status_code == 400 and response.json()["detail"]
    assert not PlaceSearch.objects.exists()


def test_search_needs_the_add_permission(viewer_client, curator_client):
    body = {"business_type": "dentist", "location": "Austin, TX"}
    assert viewer_client.post(f"{SCAN}/search/places", body, format="json").status_code == 403
    assert not PlaceSearch.objects.exists()


def test_status_progress_follows_the_search(api_client):
    wf = registry.get("place_search")
    search = PlaceSearchFactory()
    expected = [("Queued", "pending", 0.0), ("Processing", "processing", 0.5), ("Completed", "complete", 1.0),
                ("Error", "failed", 1.0)]
    for ours, theirs, progress in expected:
        put_in_state(wf, [search], processing=ours)
        body = api_client.get(f"{SCAN}/search/status/{search.pk}").json()
        assert (body["status"], body["progress"]) == (theirs, progress), ours
    assert body["error"], "the failure's reason, which the original never stored"
    assert api_client.get(f"{SCAN}/search/status/{uuid.uuid4()}").status_code == 404


def test_history_lists_newest_first_with_limit_offset_and_status(api_client):
    wf = registry.get("place_search")
    searches = [PlaceSearchFactory(query=f"q{i}") for i in range(3)]
    put_in_state(wf, searches[:1], processing="Completed")
    body = api_client.get(f"{SCAN}/search/history", {"limit": 10, "tenant_id": "x"}).json()
    assert [h["business_type"] for h in body] == ["q2", "q1", "q0"]
    assert set(body[0]) >= {"id", "location", "business_type", "params", "status", "created_at", "updated_at"}
    assert [h["business_type"] for h in api_client.get(f"{SCAN}/search/history", {"status": "complete"}).json()] \
        == ["q0"]
    assert len(api_client.get(f"{SCAN}/search/history", {"limit": 1, "offset": 1}).json()) == 1
    assert api_client.get(f"{SCAN}/search/history", {"limit": 101}).status_code == 400


def test_results_lists_the_places_of_one_search_in_rank_order(api_client):
    search = PlaceSearchFactory(query="bakery", location_text="Austin, TX")
    places = PlaceFactory.create_batch(3)
    for rank, place in enumerate(reversed(places), 1):
        place.search_results.create(search=search, rank=rank)
    PlaceFactory()  # found by no search
    body = api_client.get(f"{SCAN}/results/{search.pk}", {"limit": 2}).json()
    assert set(body) == {"places", "total", "limit", "offset", "job_info", "filters"}
    assert body["total"] == 3 and body["limit"] == 2
    assert [p["place_id"] for p in body["places"]] == [places[2].place_id, places[1].place_id]
    assert body["places"][0]["search_query"] == "bakery" and body["job_info"]["job_id"] == str(search.pk)


def test_health_answers_without_a_token():
    response = APIClient().get(f"{SCAN}/health")
    assert response.status_code == 200 and response.json()["status"] == "ok"


def test_batch_search_creates_one_search_per_location_and_reports_them(api_client):
    response = api_client.post("/api/v3/places/batch-search",
                               {"business_type": "plumber", "locations": ["Austin, TX", "Dallas, TX", "Austin, TX"],
                                "radius_km": 5}, format="json")
    assert response.status_code == 202, response.content
    body = response.json()
    searches = PlaceSearch.objects.order_by("location_text")
    assert [(s.query, s.location_text) for s in searches] == [("plumber", "Austin, TX"), ("plumber", "Dallas, TX")]
    assert {str(s.pk) for s in searches} == set(body["job_ids"]) and body["total_searches"] == 2
    assert all(s.place_search_processing_status == "Queued" for s in searches)
    status = api_client.get(body["status_url"]).json()
    assert (status["status"], status["total_searches"], status["progress"]) == ("processing", 2, 0.0)
    wf = registry.get("place_search")
    put_in_state(wf, searches[:1], processing="Completed")
    put_in_state(wf, searches[1:], processing="Error")
    status = api_client.get(f"/api/v3/places/batch-status/{body['batch_id']}/").json()
    assert (status["status"], status["completed_searches"], status["failed_searches"], status["progress"]) == \
        ("partial", 1, 1, 1.0)
    assert api_client.get(f"/api/v3/places/batch-status/{uuid.uuid4()}").status_code == 404


def test_batch_search_accepts_a_textarea_of_locations_and_refuses_an_empty_one(api_client):
    ok = api_client.post("/api/v3/places/batch-search", {"business_type": "cafe", "locations": "Austin\n\nWaco\n"},
                         format="json")
    assert ok.status_code == 202 and ok.json()["total_searches"] == 2
    bad = api_client.post("/api/v3/places/batch-search", {"business_type": "cafe", "locations": []}, format="json")
    assert bad.status_code == 400 and PlaceSearch.objects.count() == 2


def test_queue_deep_scan_queues_never_scanned_and_failed_places_only(api_client):
    wf = registry.get("deep_scan")
    fresh, failed, done = PlaceFactory.create_batch(3)
    put_in_state(wf, [failed], processing="Error")
    put_in_state(wf, [done], processing="Completed")
    response = api_client.put("/api/v3/places/staging/queue-deep-scan",
                              {"place_ids": [p.place_id for p in (fresh, failed, done)]}, format="json")
    assert response.status_code == 202 and response.json()["updated_count"] == 2, response.content
    states = dict(Place.objects.values_list("pk", "deep_scan_processing_status"))
    assert (states[fresh.pk], states[failed.pk], states[done.pk]) == ("Queued", "Queued", "Completed")
    curation = set(Place.objects.values_list("deep_scan_curation_status", flat=True))
    assert curation == {"New"}, "the curation status is left alone, as in the original"


def test_staging_of_one_search_and_the_results_viewer_routes(api_client):
    search = PlaceSearchFactory()
    mine = PlaceFactory.create_batch(2)
    for rank, place in enumerate(mine, 1):
        place.search_results.create(search=search, rank=rank)
    PlaceFactory()  # another search's
    body = api_client.get(f"/api/v3/places/staging/{search.pk}", {"page": 1, "size": 50}).json()
    assert set(body) == {"items", "total", "page", "size", "pages"} and body["total"] == 2
    assert {i["place_id"] for i in body["items"]} == {p.place_id for p in mine}
    # The Results Viewer tab's calls (broken in the original, B-10) answer like the staging routes.
    listed = api_client.get(f"{SCAN}/places/staging", {"size": 10}).json()
    assert listed["total"] == 3
    response = api_client.post(f"{SCAN}/places/staging/status", {"place_ids": [mine[0].place_id],
                                                                 "status": "Selected"}, format="json")
    assert response.status_code == 200 and response.json()["queued_count"] == 1
    assert Place.objects.get(pk=mine[0].pk).deep_scan_processing_status == "Queued"
