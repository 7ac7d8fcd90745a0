"""The Places client against the sandbox over real HTTP (no patching of our client)."""
from __future__ import annotations

import json
import math
import socket

import phonenumbers
import pytest
from django.test import override_settings

from curation.exceptions import ErrorClass, PermanentError, RetryableError, WorkflowPaused
from places.google import (
    DETAILS_FIELD_MASK,
    SEARCH_FIELD_MASK,
    PlacesClient,
    get_client,
    parse_place_details,
    parse_place_summary,
    seconds_until_quota_reset,
)
from scrapersky.sandbox import places_api
from scrapersky.sandbox.places_api import load_dataset

DATASET = load_dataset()
BY_ID = {p["id"]: p for p in DATASET}


def _searches(sandbox):
    return [r for r in sandbox.app.request_log if r.path == "/v1/places:searchText"]


def _mask_fields(mask: str, prefix: str = "") -> set[str]:
    return {p.removeprefix(prefix).split(".")[0] for p in mask.split(",") if p.startswith(prefix)}


def _place(city: str, with_phone: bool = True) -> dict:
    for place in DATASET:
        locality = [c["longText"] for c in place["addressComponents"] if {"locality", "postal_town"} & set(c["types"])]
        if locality == [city] and ("internationalPhoneNumber" in place) == with_phone and "priceLevel" in place:
            return place
    raise AssertionError(f"no place in {city}")


def _distance_m(lat1, lng1, lat2, lng2):
    p1, p2 = math.radians(lat1), math.radians(lat2)
    a = math.sin((p2 - p1) / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lng2 - lng1) / 2) ** 2
    return 2 * 6_371_000 * math.asin(math.sqrt(a))


# --- Text Search: paging ---------------------------------------------------------------
def test_search_pages_up_to_google_cap_of_60(sandbox, make_client):
    places = make_client().search_text(query="dentist", location_text="Austin, TX")
    assert len(places) == 60
    assert len({p["id"] for p in places}) == 60
    requests = _searches(sandbox)
    assert len(requests) == 3
    assert [r.body["pageSize"] for r in requests] == [20, 20, 20]
    assert all(r.body["textQuery"] == "dentist in Austin, TX" for r in requests)
    assert "pageToken" not in requests[0].body
    assert requests[1].body["pageToken"] and requests[2].body["pageToken"] != requests[1].body["pageToken"]
    assert all("Austin" in p["formattedAddress"] for p in places)


def test_search_stops_at_a_smaller_max_and_keeps_rank(sandbox, make_client):
    client = make_client()
    everything = client.search_text(query="dentist", location_text="Austin, TX")
    sandbox.app.request_log.clear()
    first = client.search_text(query="dentist", location_text="Austin, TX", max_results=25)
    assert [p["id"] for p in first] == [p["id"] for p in everything[:25]]
    assert [r.body["pageSize"] for r in _searches(sandbox)] == [20, 5]


def test_search_above_60_is_capped_and_below_1_refused(sandbox, make_client):
    client = make_client()
    assert len(client.search_text(query="dentist in Austin", max_results=500)) == 60
    with pytest.raises(ValueError, match="max_results"):
        client.search_text(query="dentist", max_results=0)


def test_search_single_page_when_google_has_no_next_token(sandbox, make_client):
    places = make_client().search_text(query="bakery", location_text="Berlin")
    assert 1 <= len(places) < 20
    assert len(_searches(sandbox)) == 1
    assert all(p["displayName"]["text"].startswith("Bäckerei") for p in places)


def test_search_without_results_is_an_empty_list(sandbox, make_client):
    assert make_client().search_text(query="submarine dealer", location_text="Austin, TX") == []
    assert len(_searches(sandbox)) == 1


def test_location_bias_circle_is_sent_and_narrows(sandbox, make_client):
    client = make_client()
    near = client.search_text(query="dentist", latitude=30.2672, longitude=-97.7431, radius_m=3000)
    body = _searches(sandbox)[0].body
    assert body["locationBias"] == {"circle": {"center": {"latitude": 30.2672, "longitude": -97.7431}, "radius": 3000.0}}
    assert 0 < len(near) < 60
    for place in near:
        loc = place["location"]
        assert _distance_m(30.2672, -97.7431, loc["latitude"], loc["longitude"]) <= 3000
    with pytest.raises(ValueError):
        client.search_text(query="dentist", radius_m=1000)
    with pytest.raises(ValueError):
        client.search_text(query="dentist", latitude=30.0, longitude=-97.0, radius_m=60_000)


def test_language_and_region_are_sent(sandbox, make_client):
    make_client(language="en", region="us").search_text(query="florist", location_text="Chicago", language="de")
    body = _searches(sandbox)[0].body
    assert body["languageCode"] == "de"
    assert body["regionCode"] == "us"


# --- Field masks --------------------------------------------------------------------
def test_search_field_mask_is_sent_and_honoured(sandbox, make_client):
    places = make_client().search_text(query="cafe", location_text="Austin, TX", max_results=30)
    assert {r.field_mask for r in _searches(sandbox)} == {SEARCH_FIELD_MASK}
    allowed = _mask_fields(SEARCH_FIELD_MASK, "places.")
    assert "addressComponents" not in allowed and "reviews" not in allowed and "photos" not in allowed
    for place in places:
        assert set(place) <= allowed
        assert "regularOpeningHours" not in place
    assert any("websiteUri" in p for p in places)


def test_details_field_mask_is_sent_and_honoured(sandbox, make_client):
    place = _place("Berlin")
    details = make_client().get_details(place["id"])
    record = sandbox.app.request_log[-1]
    assert record.method == "GET" and record.path == f"/v1/places/{place['id']}"
    assert record.field_mask == DETAILS_FIELD_MASK
    assert set(details) <= _mask_fields(DETAILS_FIELD_MASK)
    assert "name" not in details  # in the dataset, not in our mask: the sandbox dropped it
    assert details["addressComponents"] == place["addressComponents"]


# --- Parsing ------------------------------------------------------------------------
def test_parse_place_summary_of_a_search_result(sandbox, make_client):
    raw = make_client().search_text(query="dentist in Austin", max_results=1)[0]
    summary = parse_place_summary(raw)
    original = BY_ID[raw["id"]]
    assert summary["place_id"] == original["id"]
    assert summary["name"] == original["displayName"]["text"]
    assert summary["formatted_address"] == original["formattedAddress"]
    assert summary["latitude"] == original["location"]["latitude"]
    assert summary["types"][0] == "dentist"
    assert summary["website"] == original.get("websiteUri", "")
    assert summary["user_rating_count"] == original.get("userRatingCount")


@pytest.mark.parametrize(
    ("city", "street_shape", "region", "country", "prefix"),
    [
        ("Berlin", "{route} {number}", "Berlin", "DE", "+4930"),
        ("Austin", "{number} {route}", "TX", "US", "+1"),
        ("London", "{number} {route}", "England", "GB", "+44207946"),
        ("Madrid", "{route}, {number}", "Comunidad de Madrid", "ES", "+3491"),
        ("Toronto", "{number} {route}", "ON", "CA", "+1"),
        ("Sydney", "{number} {route}", "NSW", "AU", "+612"),
    ],
)
def test_details_are_split_into_address_parts_and_e164(sandbox, make_client, city, street_shape, region, country, prefix):
    place = _place(city)
    details = parse_place_details(make_client().get_details(place["id"]), default_region=None)
    parts = {t: c for c in place["addressComponents"] for t in c["types"]}
    assert details["street"] == street_shape.format(route=parts["route"]["longText"], number=parts["street_number"]["longText"])
    assert details["city"] == city
    assert details["region"] == region
    assert details["postal_code"] == parts["postal_code"]["longText"]
    assert details["country_code"] == country
    assert details["phone_national"] == place["nationalPhoneNumber"]
    assert details["phone_e164"].startswith(prefix)
    assert phonenumbers.is_valid_number(phonenumbers.parse(details["phone_e164"]))
    assert details["name"] == place["displayName"]["text"]
    assert details["categories"][0] == place["primaryType"]
    assert "point_of_interest" not in details["categories"]
    assert details["price_level"] in (1, 2, 3)
    assert details["price_text"] == "$" * details["price_level"]
    assert details["utc_offset_minutes"] == place["utcOffsetMinutes"]
    assert details["opening_hours"]["weekday_descriptions"] == place["regularOpeningHours"]["weekdayDescriptions"]
    first = place["regularOpeningHours"]["periods"][0]
    day = ["sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday"][first["open"]["day"]]
    assert details["opening_hours"]["by_day"][day] == [
        f"{first['open']['hour']:02d}:{first['open']['minute']:02d}-{first['close']['hour']:02d}:{first['close']['minute']:02d}"]


def test_parse_details_uses_default_region_for_a_national_number():
    place = {"id": "ChIJtest", "displayName": {"text": "X"}, "nationalPhoneNumber": "(512) 555-0123"}
    assert parse_place_details(place, default_region="US")["phone_e164"] == "+15125550123"
    assert parse_place_details(place, default_region=None)["phone_e164"] == ""
    assert parse_place_details({"nationalPhoneNumber": "12"}, "US")["phone_e164"] == ""


def test_parse_details_without_optional_fields():
    details = parse_place_details({"id": "ChIJbare", "displayName": {"text": "Bare"}})
    assert details["street"] == "" and details["city"] == "" and details["country_code"] == ""
    assert details["rating"] is None and details["opening_hours"] is None and details["price_level"] is None


# --- Errors -------------------------------------------------------------------------
def test_invalid_key_is_a_config_error_without_retry(sandbox, make_client):
    with pytest.raises(PermanentError) as caught:
        make_client(api_key="not-a-key").search_text(query="dentist in Austin")
    assert caught.value.error_class == ErrorClass.CONFIG
    assert caught.value.message == "Google Places: INVALID_ARGUMENT (API key not valid. Please pass a valid API key.)"
    assert len(sandbox.app.request_log) == 1


def test_permission_denied_is_a_config_error(sandbox, make_client):
    with pytest.raises(PermanentError) as caught:
        make_client(api_key=places_api.KEY_DENIED).get_details(_place("Austin")["id"])
    assert caught.value.error_class == ErrorClass.CONFIG
    assert caught.value.message.startswith("Google Places: PERMISSION_DENIED (Places API (New) has not been used")


def test_empty_key_is_refused_before_any_request():
    with pytest.raises(PermanentError) as caught:
        PlacesClient(base_url="http://127.0.0.1:9", api_key="")
    assert caught.value.error_class == ErrorClass.CONFIG


# --- one retry layer: the client never retries (the engine does) ---------------------------
def test_rate_limit_is_raised_at_once_with_retry_after(sandbox, make_client):
    with pytest.raises(RetryableError) as caught:
        make_client(api_key=places_api.KEY_RATELIMITED_ONCE).search_text(query="gym", location_text="Berlin")
    error = caught.value
    assert error.error_class == ErrorClass.RATE_LIMITED
    assert error.retry_after == 1.0  # the sandbox's Retry-After: 1, for the engine's backoff
    assert error.message.startswith("Google Places: RESOURCE_EXHAUSTED (Quota exceeded") and "gave up" not in error.message
    assert len(sandbox.app.request_log) == 1


def test_daily_quota_is_not_retried_and_waits_until_reset(sandbox, make_client, sleeps):
    with pytest.raises(RetryableError) as caught:
        make_client(api_key=places_api.KEY_QUOTA).search_text(query="gym in Berlin")
    error = caught.value
    assert error.error_class == ErrorClass.QUOTA
    assert "daily quota used up" in error.message
    assert 0 < error.retry_after <= 25 * 3600
    assert sleeps == [] and len(sandbox.app.request_log) == 1


def test_seconds_until_quota_reset_is_midnight_pacific():
    import datetime as dt

    # 2025-01-15 07:00 UTC = 23:00 PST: one hour to midnight Pacific.
    assert seconds_until_quota_reset(dt.datetime(2025, 1, 15, 7, 0, tzinfo=dt.UTC)) == 3600


def test_5xx_is_raised_at_once_as_http_5xx(sandbox, make_client):
    client = make_client(api_key=places_api.KEY_500)
    with pytest.raises(RetryableError) as caught:
        client.get_details(_place("Toronto")["id"])
    assert caught.value.error_class == ErrorClass.HTTP_5XX
    assert caught.value.message == "Google Places: INTERNAL (Internal error encountered.)"
    assert len(sandbox.app.request_log) == 1 and client.requests_sent == 1


def test_unknown_place_is_not_found(sandbox, make_client):
    with pytest.raises(PermanentError) as caught:
        make_client().get_details("ChIJ" + "x" * 23)
    assert caught.value.error_class == ErrorClass.NOT_FOUND
    assert caught.value.message.startswith("Google Places: NOT_FOUND (The provided Place ID is no longer valid")
    assert len(sandbox.app.request_log) == 1


def test_other_4xx_is_permanent_http_4xx(sandbox, make_client):
    with pytest.raises(PermanentError) as caught:
        make_client().get_details("bad id!")
    assert caught.value.error_class == ErrorClass.HTTP_4XX
    assert "Not a valid Place ID" in caught.value.message


def test_invalid_json_is_a_parse_error(sandbox, make_client):
    with pytest.raises(RetryableError) as caught:
        make_client(api_key=places_api.KEY_BADJSON).get_details(_place("Austin")["id"])
    assert caught.value.error_class == ErrorClass.PARSE
    assert "invalid JSON in HTTP 200" in caught.value.message


def test_network_error_against_a_closed_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    client = PlacesClient(base_url=f"http://127.0.0.1:{port}", api_key="sandbox-key")
    with pytest.raises(RetryableError) as caught:
        client.search_text(query="dentist")
    assert caught.value.error_class == ErrorClass.NETWORK
    assert f"127.0.0.1:{port}" in caught.value.message
    assert client.requests_sent == 1
    client.close()


def test_timeout_against_a_slow_endpoint(sandbox, make_client):
    with pytest.raises(RetryableError) as caught:
        make_client(api_key=places_api.KEY_SLOW, timeout=0.2).get_details(_place("Austin")["id"])
    assert caught.value.error_class == ErrorClass.TIMEOUT
    assert "timeout after 0.2s" in caught.value.message
    assert len(sandbox.app.request_log) == 1


# --- before_request: budget hook ------------------------------------------------------
def test_before_request_is_called_for_every_http_request_with_its_field_mask(sandbox, make_client):
    calls = []
    client = make_client(before_request=lambda kind, mask: calls.append((kind, mask)))
    client.search_text(query="dentist", location_text="Austin, TX")
    client.get_details(_place("Madrid")["id"])
    assert calls == [("search", SEARCH_FIELD_MASK)] * 3 + [("details", DETAILS_FIELD_MASK)]
    assert len(sandbox.app.request_log) == 4
    # The client counts what it sent at list price: 3 × Text Search Enterprise + 1 × Place Details Enterprise.
    assert client.requests_sent == 4 and client.cost_micros == 3 * 35_000 + 20_000


def test_workflow_paused_from_before_request_propagates_before_sending(sandbox, make_client):
    def budget(kind, mask):
        raise WorkflowPaused("Google Places daily budget of 1000 requests used up; resumes at midnight")

    with pytest.raises(WorkflowPaused, match="daily budget"):
        make_client(before_request=budget).search_text(query="dentist in Austin")
    assert sandbox.app.request_log == []


def test_a_failure_after_the_first_page_keeps_the_pages_read(sandbox, make_client):
    calls = []

    def budget(kind, mask):
        calls.append(kind)
        if len(calls) > 1:
            raise WorkflowPaused("budget used up")

    client = make_client(before_request=budget)
    outcome = client.search_pages(client.search_body(query="dentist in Austin"))
    assert len(sandbox.app.request_log) == 1
    assert len(outcome.places) == 20 and outcome.pages == 1 and outcome.failed_page == 2
    assert isinstance(outcome.error, WorkflowPaused)
    assert outcome.partial_note == "partial: page 2 failed (budget used up); kept 20 place(s) of 1 page(s)"
    with pytest.raises(WorkflowPaused):  # search_text has no partial result to give: it raises
        make_client(before_request=budget).search_text(query="dentist in Austin")


# --- get_client from settings -----------------------------------------------------------
def test_get_client_uses_the_sandbox_port_and_key_when_enabled(sandbox):
    port = int(sandbox.base_url.rsplit(":", 1)[1])
    with override_settings(SANDBOX_ENABLED=True, GOOGLE_MAPS_API_KEY="", SANDBOX_PLACES_PORT=port,
                           GOOGLE_PLACES_BASE_URL="https://places.googleapis.com"):
        client = get_client()
    assert client.base_url == f"http://127.0.0.1:{port}"
    assert client.search_text(query="florist in Sydney")
    assert sandbox.app.request_log[0].api_key == places_api.SANDBOX_API_KEY
    client.close()


def test_get_client_respects_an_explicit_base_url(sandbox):
    with override_settings(SANDBOX_ENABLED=True, GOOGLE_MAPS_API_KEY="", GOOGLE_PLACES_BASE_URL=sandbox.base_url,
                           GOOGLE_PLACES_LANGUAGE="de", GOOGLE_PLACES_REGION="de", GOOGLE_PLACES_TIMEOUT=30):
        client = get_client()
    assert client.base_url == sandbox.base_url
    client.search_text(query="gym in Berlin")
    record = sandbox.app.request_log[0]
    assert record.api_key == places_api.SANDBOX_API_KEY
    assert record.body["languageCode"] == "de" and record.body["regionCode"] == "de"
    client.close()


def test_get_client_talks_to_google_with_the_real_key():
    with override_settings(SANDBOX_ENABLED=False, GOOGLE_MAPS_API_KEY="AIza-test",
                           GOOGLE_PLACES_BASE_URL="https://places.googleapis.com"):
        client = get_client()
    assert client.base_url == "https://places.googleapis.com"
    assert client._http.headers["X-Goog-Api-Key"] == "AIza-test"
    client.close()


# --- fidelity: payloads in Google's documented shapes ------------------------------------------------------

def _with_components(*components, **extra):
    return {"id": "ChIJfidelity0000000000000", "addressComponents": [
        {"longText": long, "shortText": short, "types": types, "languageCode": "en"} for long, short, types in components
    ], **extra}


@pytest.mark.parametrize("country, expected", [
    ("AU", "5/123 George St"),      # unit before the civic number, as Australia writes it
    ("CA", "5-123 George St"),      # Canada Post: unit-civic
    ("US", "123 George St #5"),
    ("GB", "5, 123 George St"),
    ("DE", "George St 123, 5"),
])
def test_street_keeps_the_subpremise(country, expected):
    place = _with_components(("5", "5", ["subpremise"]), ("123", "123", ["street_number"]),
                             ("George Street", "George St", ["route"]),
                             ("Country", country, ["country", "political"]))
    place["addressComponents"][2]["longText"] = "George St"
    assert parse_place_details(place)["street"] == expected


def test_country_only_when_google_sent_it():
    place = {"id": "ChIJnoaddress000000000000", "formattedAddress": "Somewhere", "nationalPhoneNumber": "(512) 555-0134"}
    facts = parse_place_details(place, default_region="us")
    assert facts["country_code"] == ""  # not invented from the default region…
    assert facts["phone_e164"] == "+15125550134"  # …which still reads the national phone number


def test_iana_time_zone_is_kept_with_the_offset():
    place = {"id": "ChIJtimezone0000000000000", "utcOffsetMinutes": -300,
             "timeZone": {"id": "America/New_York", "version": "2024a"}}
    facts = parse_place_details(place)
    assert (facts["time_zone"], facts["utc_offset_minutes"]) == ("America/New_York", -300)
    assert parse_place_details({"id": "x", "utcOffsetMinutes": 60})["time_zone"] == ""  # no fixed-offset label


def test_moved_place_id_of_a_relocated_place():
    # The documented response for a place that moved (Place Details (New), "Get place details for a moved place").
    place = {"id": "ChIJUfQdGInVzkwRzAjmjzWB7CQ", "businessStatus": "CLOSED_PERMANENTLY",
             "displayName": {"text": "Marche IGA St-Canut", "languageCode": "en"},
             "movedPlace": "places/ChIJ36QT7n8qz0wRDqVZ_UBlUlQ", "movedPlaceId": "ChIJ36QT7n8qz0wRDqVZ_UBlUlQ"}
    facts = parse_place_details(place)
    assert facts["moved_place_id"] == "ChIJ36QT7n8qz0wRDqVZ_UBlUlQ" and facts["business_status"] == "CLOSED_PERMANENTLY"
    only_resource = {k: v for k, v in place.items() if k != "movedPlaceId"}
    assert parse_place_details(only_resource)["moved_place_id"] == "ChIJ36QT7n8qz0wRDqVZ_UBlUlQ"
    assert parse_place_details({"id": "x", "businessStatus": "CLOSED_PERMANENTLY"})["moved_place_id"] == ""


def test_always_open_hours_fill_all_seven_days():
    # Google's documented shape for a place open 24/7: one period, opening Sunday 00:00, no close.
    hours = {"openNow": True, "periods": [{"open": {"day": 0, "hour": 0, "minute": 0}}],
             "weekdayDescriptions": [f"{d}: Open 24 hours" for d in
                                     ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")]}
    parsed = parse_place_details({"id": "x", "regularOpeningHours": hours})["opening_hours"]
    assert parsed["always_open"] is True
    assert parsed["by_day"] == {day: ["00:00-24:00"] for day in
                                ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")}


def test_postal_address_and_short_address_fill_in_for_missing_components():
    place = {"id": "ChIJpostal00000000000000", "shortFormattedAddress": "1600 Amphitheatre Pkwy, Mountain View",
             "postalAddress": {"regionCode": "US", "languageCode": "en", "postalCode": "94043",
                               "administrativeArea": "CA", "locality": "Mountain View",
                               "addressLines": ["1600 Amphitheatre Pkwy"]}}
    facts = parse_place_details(place)
    assert (facts["street"], facts["city"], facts["region"], facts["postal_code"], facts["country_code"]) == (
        "1600 Amphitheatre Pkwy", "Mountain View", "CA", "94043", "US")
    assert facts["formatted_address"] == "1600 Amphitheatre Pkwy, Mountain View"


def test_details_mask_asks_for_the_fidelity_fields_and_the_sandbox_sends_the_time_zone(sandbox, make_client):
    for field in ("timeZone", "movedPlaceId", "postalAddress", "shortFormattedAddress"):
        assert field in DETAILS_FIELD_MASK.split(",")
    details = make_client().get_details(_place("Berlin")["id"])
    assert details["timeZone"] == {"id": "Europe/Berlin"}
    assert parse_place_details(details)["time_zone"] == "Europe/Berlin"
