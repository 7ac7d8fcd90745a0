"""The Places sandbox speaks Google's wire format (raw httpx over real HTTP, no client of ours)."""
from __future__ import annotations

import json
from collections import Counter

import httpx
import pytest

from scrapersky.sandbox import places_api
from scrapersky.sandbox.data import generate_places
from scrapersky.sandbox.places_api import SANDBOX_API_KEY, load_dataset, make_app
from scrapersky.sandbox.server import serve_in_thread

DATASET = load_dataset()
SEARCH = "/v1/places:searchText"
GOOGLE_INVALID_KEY = {"error": {"code": 400, "message": "API key not valid. Please pass a valid API key.",
                                "status": "INVALID_ARGUMENT", "details": [{
                                    "@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "API_KEY_INVALID",
                                    "domain": "googleapis.com", "metadata": {"service": "places.googleapis.com"}}]}}


class _Switch:
    app = None

    def __call__(self, environ, start_response):
        return self.app(environ, start_response)


@pytest.fixture(scope="module")
def _server():
    switch = _Switch()
    running = serve_in_thread(switch, port=0)
    yield switch, running.base_url
    running.stop()


@pytest.fixture
def http(_server):
    switch, base_url = _server
    switch.app = make_app(DATASET, slow_seconds=30)  # far above the 0.1 s timeout that must fire
    with httpx.Client(base_url=base_url, timeout=30) as client:
        yield client


def _search(http, body, mask="places.id,nextPageToken", key=SANDBOX_API_KEY):
    headers = {"X-Goog-Api-Key": key}
    if mask is not None:
        headers["X-Goog-FieldMask"] = mask
    return http.post(SEARCH, json=body, headers=headers)


def test_wrong_key_gets_googles_exact_error(http):
    response = _search(http, {"textQuery": "dentist"}, key="AIza-wrong")
    assert response.status_code == 400
    assert response.json() == GOOGLE_INVALID_KEY


def test_missing_key_is_permission_denied(http):
    response = http.post(SEARCH, json={"textQuery": "dentist"}, headers={"X-Goog-FieldMask": "places.id"})
    assert response.status_code == 403
    assert response.json()["error"]["status"] == "PERMISSION_DENIED"


def test_missing_field_mask_is_invalid_argument(http):
    response = _search(http, {"textQuery": "dentist"}, mask=None)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["status"] == "INVALID_ARGUMENT" and error["message"].startswith("FieldMask is a required parameter")


def test_unknown_mask_field_and_unknown_body_field_are_rejected(http):
    assert _search(http, {"textQuery": "dentist"}, mask="places.colour").status_code == 400
    response = _search(http, {"textQuery": "dentist", "radius": 5})
    assert response.status_code == 400 and 'Unknown name "radius"' in response.json()["error"]["message"]
    assert _search(http, {"textQuery": ""}).json()["error"]["message"] == "Empty text_query."


def test_key_and_fields_query_parameters_work_like_headers(http):
    response = http.post(SEARCH, params={"key": SANDBOX_API_KEY, "fields": "places.id"}, json={"textQuery": "gym"})
    assert response.status_code == 200 and all(set(p) == {"id"} for p in response.json()["places"])


def test_paging_returns_at_most_60_over_three_pages(http):
    body = {"textQuery": "dentist in Austin, TX", "pageSize": 50}
    ids, token, pages = [], None, 0
    while True:
        response = _search(http, {**body, **({"pageToken": token} if token else {})})
        assert response.status_code == 200
        data = response.json()
        assert len(data["places"]) <= 20
        ids += [p["id"] for p in data["places"]]
        pages += 1
        token = data.get("nextPageToken")
        if not token:
            break
    assert pages == 3 and len(ids) == len(set(ids)) == 60


def test_next_page_token_only_when_masked_and_bound_to_the_query(http):
    assert "nextPageToken" not in _search(http, {"textQuery": "dentist in Austin"}, mask="places.id").json()
    token = _search(http, {"textQuery": "dentist in Austin"}).json()["nextPageToken"]
    other = _search(http, {"textQuery": "cafe in Austin", "pageToken": token})
    assert other.status_code == 400
    assert _search(http, {"textQuery": "dentist in Austin", "pageToken": "garbage"}).status_code == 400
    same = _search(http, {"textQuery": "dentist in Austin", "pageToken": token, "pageSize": 5})
    assert same.status_code == 200 and len(same.json()["places"]) == 5


def test_nested_field_mask(http):
    places = _search(http, {"textQuery": "florist in London"}, mask="places.displayName.text,places.location").json()["places"]
    assert places and all(set(p) == {"displayName", "location"} and set(p["displayName"]) == {"text"} for p in places)


def test_matching_is_on_category_and_place(http):
    def names(query):
        return [p["formattedAddress"] for p in _search(http, {"textQuery": query}, mask="places.formattedAddress")
                .json().get("places", [])]

    assert names("Zahnarzt Berlin") and all("Berlin" in a for a in names("Zahnarzt Berlin"))
    assert names("coffee shops near Sydney NSW") and all("Sydney" in a for a in names("coffee shops near Sydney NSW"))
    assert names("solicitors in London, UK")
    assert names("plumber in Atlantis") == []
    assert _search(http, {"textQuery": "plumber in Atlantis"}).json() == {}


def test_included_type_and_location_bias_narrow(http):
    everything = _search(http, {"textQuery": "Austin"}, mask="places.types").json()["places"]
    gyms = _search(http, {"textQuery": "Austin", "includedType": "gym"}, mask="places.types").json()["places"]
    assert gyms and len(gyms) < len(everything) and all("gym" in p["types"] for p in gyms)
    assert _search(http, {"textQuery": "Austin", "includedType": "spaceport"}).status_code == 400
    circle = {"circle": {"center": {"latitude": 30.2672, "longitude": -97.7431}, "radius": 2000.0}}
    near = _search(http, {"textQuery": "dentist", "locationBias": circle}).json().get("places", [])
    far = _search(http, {"textQuery": "dentist"}).json()["places"]
    assert len(near) < len(far)


def test_details_and_not_found(http):
    place = DATASET[0]
    headers = {"X-Goog-Api-Key": SANDBOX_API_KEY, "X-Goog-FieldMask": "*"}
    assert http.get(f"/v1/places/{place['id']}", headers=headers).json() == place
    masked = http.get(f"/v1/places/{place['id']}", headers={**headers, "X-Goog-FieldMask": "id,websiteUri"}).json()
    assert set(masked) <= {"id", "websiteUri"}
    missing = http.get("/v1/places/ChIJ00000000000000000000000", headers=headers)
    assert missing.status_code == 404 and missing.json()["error"]["status"] == "NOT_FOUND"


@pytest.mark.parametrize(("key", "status", "google_status"), [
    (places_api.KEY_RATELIMITED, 429, "RESOURCE_EXHAUSTED"),
    (places_api.KEY_QUOTA, 429, "RESOURCE_EXHAUSTED"),
    (places_api.KEY_500, 500, "INTERNAL"),
    (places_api.KEY_DENIED, 403, "PERMISSION_DENIED"),
])
def test_error_hooks(http, key, status, google_status):
    response = _search(http, {"textQuery": "gym"}, key=key)
    assert response.status_code == status and response.json()["error"]["status"] == google_status
    if key == places_api.KEY_RATELIMITED:
        assert response.headers["Retry-After"] == "1"
    if key == places_api.KEY_QUOTA:
        assert "per day" in response.json()["error"]["message"] and "Retry-After" not in response.headers


@pytest.mark.parametrize("key", [places_api.KEY_FLAKY, places_api.KEY_RATELIMITED_ONCE])
def test_once_hooks_fail_only_the_first_time(http, key):
    assert _search(http, {"textQuery": "gym"}, key=key).status_code in (429, 503)
    assert _search(http, {"textQuery": "gym"}, key=key).status_code == 200
    assert _search(http, {"textQuery": "cafe"}, key=key).status_code in (429, 503)


def test_slow_and_badjson_hooks(http):
    with pytest.raises(httpx.ReadTimeout):
        http.post(SEARCH, json={"textQuery": "gym"}, timeout=0.1,
                  headers={"X-Goog-Api-Key": places_api.KEY_SLOW, "X-Goog-FieldMask": "places.id"})
    response = _search(http, {"textQuery": "gym"}, key=places_api.KEY_BADJSON)
    assert response.status_code == 200
    with pytest.raises(json.JSONDecodeError):
        response.json()


# --- The dataset ----------------------------------------------------------------------
def test_dataset_shape():
    assert 280 <= len(DATASET) <= 360
    assert len({p["id"] for p in DATASET}) == len(DATASET)
    assert all(p["name"] == f"places/{p['id']}" for p in DATASET)
    countries = Counter(c["shortText"] for p in DATASET for c in p["addressComponents"] if "country" in c["types"])
    assert set(countries) == {"US", "GB", "DE", "ES", "CA", "AU"}
    no_site = sum(1 for p in DATASET if not p.get("websiteUri")) / len(DATASET)
    social = sum(1 for p in DATASET if any(s in p.get("websiteUri", "") for s in ("facebook.", "instagram.", "linktr.ee")))
    assert 0.15 <= no_site <= 0.28
    assert 0.06 <= social / len(DATASET) <= 0.14
    shared = Counter(p["websiteUri"] for p in DATASET if p.get("websiteUri"))
    assert max(shared.values()) >= 3  # chains share one website
    assert any("utm_source=gmb" in p.get("websiteUri", "") for p in DATASET)
    assert any(p.get("websiteUri", "").startswith("https://www.google.com/url?") for p in DATASET)
    assert any(".wixsite.com/" in p.get("websiteUri", "") for p in DATASET)
    assert any(not p.get("websiteUri", "x").isascii() for p in DATASET)  # IDN hosts


def test_generator_is_deterministic_and_matches_the_committed_file():
    assert generate_places.generate() == DATASET


# --- the dense city, localities and locationRestriction (the coverage planner's sandbox) -------------------

@pytest.fixture
def dense_http(_server):
    switch, base_url = _server
    switch.app = make_app()  # the bundled data: places.json + the dense city + the localities
    with httpx.Client(base_url=base_url, timeout=5) as client:
        yield client


def _rect(south, west, north, east):
    return {"rectangle": {"low": {"latitude": south, "longitude": west}, "high": {"latitude": north, "longitude": east}}}


def _all_pages(http, body, mask="places.id,places.location,nextPageToken"):
    found, token, requests = [], None, 0
    while True:
        page = _search(http, {**body, **({"pageToken": token} if token else {})}, mask=mask).json()
        requests += 1
        found += page.get("places", [])
        token = page.get("nextPageToken")
        if not token:
            return found, requests


def test_the_dense_city_has_over_a_thousand_fictional_dentists():
    dense = places_api.load_dense_city()
    places = dense["places"]
    assert len(places) >= 1000 and len({p["id"] for p in places}) == len(places)
    assert all(p["primaryType"] == "dentist" and "Quillhaven" in p["formattedAddress"] for p in places)
    city = next(loc for loc in dense["localities"] if loc["displayName"]["text"] == "Quillhaven")
    low, high = city["viewport"]["low"], city["viewport"]["high"]
    assert all(low["latitude"] <= p["location"]["latitude"] <= high["latitude"]
               and low["longitude"] <= p["location"]["longitude"] <= high["longitude"] for p in places)


def test_a_locality_is_found_first_with_its_viewport(dense_http):
    response = _search(dense_http, {"textQuery": "Quillhaven, OR", "pageSize": 1},
                       mask="places.id,places.displayName,places.viewport,places.types")
    place = response.json()["places"][0]
    assert place["displayName"]["text"] == "Quillhaven" and "locality" in place["types"]
    assert set(place["viewport"]) == {"low", "high"}


def test_location_restriction_keeps_only_places_inside_and_caps_at_60(dense_http):
    inside, requests = _all_pages(dense_http, {"textQuery": "dentist", "locationRestriction": _rect(43.90, -120.52, 43.92, -120.49)})
    assert inside and all(43.90 <= p["location"]["latitude"] <= 43.92 and -120.52 <= p["location"]["longitude"] <= -120.49
                          for p in inside)
    everything, _ = _all_pages(dense_http, {"textQuery": "dentist", "locationRestriction": _rect(43.7, -120.8, 44.1, -120.2)})
    assert len(everything) == 60 and requests <= 3  # Google's ceiling, even with 1,200 inside
    empty = _search(dense_http, {"textQuery": "dentist", "locationRestriction": _rect(10, 10, 10.1, 10.1)})
    assert empty.json() == {}


@pytest.mark.parametrize("body, message", [
    ({"locationRestriction": {"circle": {"center": {"latitude": 1, "longitude": 1}, "radius": 5}}}, "rectangle is required"),
    ({"locationRestriction": _rect(2, 0, 1, 1)}, "viewport is empty"),
    ({"locationRestriction": _rect(0, 0, 91, 1)}, "latitudes must be within"),
    ({"locationRestriction": {"rectangle": {"low": {"latitude": 1}}}}, "low and high"),
    ({"locationRestriction": _rect(0, 0, 1, 1),
      "locationBias": {"circle": {"center": {"latitude": 1, "longitude": 1}, "radius": 5}}}, "Only one of"),
])
def test_bad_location_restrictions_are_googles_400(dense_http, body, message):
    response = _search(dense_http, {"textQuery": "dentist", **body})
    assert response.status_code == 400 and response.json()["error"]["status"] == "INVALID_ARGUMENT"
    assert message in response.json()["error"]["message"]


def test_later_pages_fail_key(http):
    first = _search(http, {"textQuery": "dentist in Austin"}, key=places_api.KEY_LATER_PAGES_FAIL)
    assert first.status_code == 200 and first.json()["nextPageToken"]
    second = _search(http, {"textQuery": "dentist in Austin", "pageToken": first.json()["nextPageToken"]},
                     key=places_api.KEY_LATER_PAGES_FAIL)
    assert second.status_code == 503 and second.json()["error"]["status"] == "UNAVAILABLE"
