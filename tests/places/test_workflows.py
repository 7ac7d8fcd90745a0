"""WF1–WF3 end to end through the engine, against the Places sandbox over real HTTP."""
from __future__ import annotations

import pytest

from curation import engine, registry, services
from curation.exceptions import ErrorClass
from pages.models import Domain
from places.models import GooglePlacesUsage, LocalBusiness, Place, PlaceSearch, PlaceSearchResult
from places.services import place_search_create
from scrapersky.sandbox import places_api
from tests.factories import lease_for, put_in_state
from tests.places.factories import LocalBusinessFactory, PlaceFactory

pytestmark = pytest.mark.django_db


def run(name: str):
    return engine.workflow_run(registry.get(name), time_budget=60)


def select(name: str, rows, **kwargs):
    return services.curation_status_set(workflow=registry.get(name), ids=[r.pk for r in rows], status="Selected",
                                        **kwargs)


def searches_sent(sandbox):
    return [r for r in sandbox.app.request_log if r.path == "/v1/places:searchText"]


def details_sent(sandbox):
    return [r for r in sandbox.app.request_log if r.path.startswith("/v1/places/")]


# --- WF1: place search ---------------------------------------------------------------------------------

def test_search_creates_places_with_provenance_and_counts(google, admin_user):
    search = place_search_create(query="dentist", location_text="Austin, TX", max_results=25, user=admin_user)
    assert search.place_search_processing_status == "Queued"
    report = run("place_search")
    assert report.completed == 1, report
    search.refresh_from_db()
    assert search.place_search_processing_status == "Completed"
    assert (search.results_found, search.results_new, search.results_known) == (25, 25, 0)
    assert Place.objects.count() == 25
    assert set(Place.objects.values_list("deep_scan_curation_status", "deep_scan_processing_status")) == {("New", None)}
    # Provenance keeps Google's rank.
    ranked = list(PlaceSearchResult.objects.filter(search=search).order_by("rank").values_list("place__place_id", "rank"))
    expected = [p["id"] for p in places_api.PlacesSandbox(places_api.load_dataset())._match("dentist in Austin, TX", None, None)[:25]]
    assert [pid for pid, _ in ranked] == expected
    assert [rank for _, rank in ranked] == list(range(1, 26))
    place = Place.objects.get(place_id=expected[0])
    assert place.name and "Austin" in place.formatted_address and place.raw["id"] == place.place_id
    assert place.first_search == search and place.last_search == search
    with_site = Place.objects.exclude(website="").first()
    assert with_site.website_domain or with_site.website  # domain key computed offline where it applies
    assert [r.body["pageSize"] for r in searches_sent(google)] == [20, 5]


def test_the_same_search_twice_dedupes_and_keeps_provenance_and_curation(google):
    first = place_search_create(query="dentist", location_text="Austin, TX", max_results=20)
    run("place_search")
    chosen = Place.objects.order_by("place_id")[:2]
    select("deep_scan", chosen)
    put_in_state(registry.get("deep_scan"), [chosen[0]], processing="Completed", curation="Selected")
    Place.objects.filter(pk=chosen[1].pk).update(name="Edited locally")
    before = Place.objects.get(pk=chosen[0].pk)

    second = place_search_create(query="dentist", location_text="Austin, TX", max_results=20)
    run("place_search")
    second.refresh_from_db()
    assert (second.results_found, second.results_new, second.results_known) == (20, 0, 20)
    assert Place.objects.count() == 20, "no duplicate places"
    assert PlaceSearchResult.objects.filter(search=first).count() == 20
    assert PlaceSearchResult.objects.filter(search=second).count() == 20
    assert all(p.searches.count() == 2 for p in Place.objects.all())
    after = Place.objects.get(pk=chosen[0].pk)
    # B-6 for places: a later search refreshes facts and last seen, never the deep scan's statuses.
    assert (after.deep_scan_curation_status, after.deep_scan_processing_status) == ("Selected", "Completed")
    assert after.last_seen_at > before.last_seen_at and after.first_seen_at == before.first_seen_at
    assert after.first_search == first and after.last_search == second
    other = Place.objects.get(pk=chosen[1].pk)
    assert other.deep_scan_processing_status == "Queued" and other.name != "Edited locally"


def test_overlapping_searches_count_new_and_known(google):
    place_search_create(query="dentist", location_text="Austin, TX", max_results=10)
    run("place_search")
    wider = place_search_create(query="dentist", location_text="Austin, TX", max_results=30)
    run("place_search")
    wider.refresh_from_db()
    assert (wider.results_found, wider.results_new, wider.results_known) == (30, 20, 10)
    assert Place.objects.count() == 30


def test_search_hook_is_idempotent(google):
    from places.services import place_search_run

    search = place_search_create(query="dentist", location_text="Austin", max_results=8)
    workflow = registry.get("place_search")
    place_search_run(record=search, lease=lease_for(workflow, search))
    place_search_run(record=search, lease=lease_for(workflow, search))
    search.refresh_from_db()
    assert (search.results_found, search.results_new, search.results_known) == (8, 8, 0)
    assert Place.objects.count() == 8 and PlaceSearchResult.objects.count() == 8


def test_search_without_matches_completes_with_zero_counts(google):
    search = place_search_create(query="zzzunknownbusiness", location_text="Nowhere")
    run("place_search")
    search.refresh_from_db()
    assert search.place_search_processing_status == "Completed"
    assert (search.results_found, search.results_new, search.results_known) == (0, 0, 0)


def test_search_bias_circle_and_language_reach_google(google):
    search = place_search_create(query="dentist", latitude=30.2672, longitude=-97.7431, radius_m=5000,
                                 language="de", region="us", max_results=5)
    run("place_search")
    body = searches_sent(google)[0].body
    assert body["locationBias"]["circle"]["radius"] == 5000
    assert body["languageCode"] == "de" and body["regionCode"] == "us"
    search.refresh_from_db()
    assert search.place_search_processing_status == "Completed"


# --- WF2: deep scan -------------------------------------------------------------------------------------

def _found(query="dentist", location="Austin, TX", n=5):
    place_search_create(query=query, location_text=location, max_results=n)
    run("place_search")
    return list(Place.objects.order_by("place_id"))


def test_deep_scan_upserts_a_business_with_split_address_and_phone(google):
    place = next(p for p in _found() if p.phone)
    select("deep_scan", [place])
    assert run("deep_scan").completed == 1
    place.refresh_from_db()
    assert place.deep_scan_processing_status == "Completed" and place.last_deep_scanned_at is not None
    business = LocalBusiness.objects.get(place_id=place.place_id)
    assert business.source_place == place and place.business == business
    assert business.city == "Austin" and business.region == "TX" and business.country_code == "US"
    assert business.postal_code and business.street and business.formatted_address == place.formatted_address
    assert business.phone_e164.startswith("+1") and business.phone_national
    assert business.categories and business.primary_category == business.categories[0]
    assert business.time_zone == "America/Chicago" and business.utc_offset_minutes == -360
    assert business.last_scanned_at is not None
    assert (place.deep_scan_requests, place.deep_scan_cost_micros) == (1, 20_000)  # Place Details Enterprise
    assert business.raw["id"] == place.place_id
    assert (business.domain_extraction_curation_status, business.domain_extraction_processing_status) == ("New", None)
    assert len(details_sent(google)) == 1


def test_deep_scan_twice_keeps_one_business_and_its_curation(google):
    """B-6: a re-scan updates facts and never resets the business's own statuses."""
    place = _found(n=3)[0]
    select("deep_scan", [place])
    run("deep_scan")
    business = LocalBusiness.objects.get()
    select("domain_extraction", [business])
    run("domain_extraction")
    business.refresh_from_db()
    assert business.domain_extraction_processing_status == "Completed"
    LocalBusiness.objects.filter(pk=business.pk).update(name="Stale name", rating=1.0)

    select("deep_scan", [place], reprocess=True)  # "Re-run"
    assert run("deep_scan").completed == 1
    assert LocalBusiness.objects.count() == 1
    again = LocalBusiness.objects.get()
    assert again.pk == business.pk
    assert again.name == place.name and again.rating == place.rating, "facts refreshed"
    assert (again.domain_extraction_curation_status, again.domain_extraction_processing_status) == ("Selected", "Completed")
    assert again.domain_id == business.domain_id and again.last_scanned_at > business.last_scanned_at


def test_deep_scan_of_an_unknown_place_id_ends_in_error_not_found(google):
    place = PlaceFactory(place_id="ChIJdoesNotExistAnywhere0")
    select("deep_scan", [place])
    report = run("deep_scan")
    assert report.errored == 1
    place.refresh_from_db()
    assert place.deep_scan_processing_status == "Error"
    assert place.deep_scan_error_class == ErrorClass.NOT_FOUND
    assert "NOT_FOUND" in place.deep_scan_processing_error
    assert not LocalBusiness.objects.exists()


@pytest.mark.parametrize("key", ["not-a-valid-key", places_api.KEY_DENIED])
def test_a_bad_key_ends_in_error_config(google, settings, key):
    place = PlaceFactory(place_id="ChIJH2s4Nftp5O2ddPhkRUywQSr")
    select("deep_scan", [place])
    settings.GOOGLE_MAPS_API_KEY = key
    run("deep_scan")
    place.refresh_from_db()
    assert (place.deep_scan_processing_status, place.deep_scan_error_class) == ("Error", ErrorClass.CONFIG)
    assert place.deep_scan_processing_error.startswith("Google Places: ")


def test_a_flaky_google_is_retried_by_the_engine_not_the_client(google, settings):
    settings.GOOGLE_MAPS_API_KEY = places_api.KEY_FLAKY
    search = place_search_create(query="dentist", location_text="Austin, TX", max_results=3)
    report = run("place_search")
    assert report.retried == 1 and len(searches_sent(google)) == 1
    search.refresh_from_db()
    assert search.place_search_processing_status == "Queued"
    assert search.place_search_processing_error == (
        "Attempt 1 of 3 failed, retrying: Google Places: UNAVAILABLE (The service is currently unavailable.)")
    PlaceSearch.objects.filter(pk=search.pk).update(place_search_available_at=None)
    run("place_search")
    search.refresh_from_db()
    assert search.place_search_processing_status == "Completed" and search.results_found == 3
    assert len(searches_sent(google)) == 2 and search.requests_used == 2


@pytest.mark.parametrize("workflow, max_attempts", [("place_search", 3), ("deep_scan", 5)])
def test_a_5xx_storm_spends_one_billed_request_per_attempt(google, settings, workflow, max_attempts):
    """One retry layer: during an outage a row sends exactly max_attempts requests, and says so."""
    if workflow == "deep_scan":
        rows = _found(n=1)
        select("deep_scan", rows)
    else:
        rows = [place_search_create(query="dentist", location_text="Austin, TX", max_results=60)]
    sent_before = len(google.app.request_log)
    settings.GOOGLE_MAPS_API_KEY = places_api.KEY_500
    model = type(rows[0])
    for attempt in range(1, max_attempts + 1):
        run(workflow)
        row = model.objects.get(pk=rows[0].pk)
        status = getattr(row, f"{workflow}_processing_status")
        assert len(google.app.request_log) - sent_before == attempt
        if attempt < max_attempts:
            assert status == "Queued"
            assert getattr(row, f"{workflow}_processing_error") == (
                f"Attempt {attempt} of {max_attempts} failed, retrying: Google Places: INTERNAL (Internal error encountered.)")
            model.objects.filter(pk=row.pk).update(**{f"{workflow}_available_at": None})
    assert status == "Error" and getattr(row, f"{workflow}_error_class") == ErrorClass.HTTP_5XX
    assert getattr(row, f"{workflow}_processing_error") == (
        f"Google Places: INTERNAL (Internal error encountered.) (gave up after {max_attempts} attempts)")
    run(workflow)  # nothing more is sent for an errored row
    assert len(google.app.request_log) - sent_before == max_attempts
    billed = row.requests_used if workflow == "place_search" else row.deep_scan_requests
    assert billed == max_attempts


def test_a_failed_second_page_keeps_the_first_and_completes_with_a_note(google, settings):
    settings.GOOGLE_MAPS_API_KEY = places_api.KEY_LATER_PAGES_FAIL
    search = place_search_create(query="dentist", location_text="Austin, TX", max_results=60)
    report = run("place_search")
    assert report.completed == 1
    search.refresh_from_db()
    assert search.place_search_processing_status == "Completed" and search.place_search_processing_error == ""
    assert search.results_found == 20 == Place.objects.count()
    assert search.note == ("partial: page 2 failed (Google Places: UNAVAILABLE (The service is currently unavailable.)); "
                           "kept 20 place(s) of 1 page(s)")
    assert search.requests_used == 2 and len(searches_sent(google)) == 2


def test_google_daily_quota_goes_back_to_the_queue_as_quota(google, settings):
    settings.GOOGLE_MAPS_API_KEY = places_api.KEY_QUOTA
    search = place_search_create(query="dentist", location_text="Austin, TX", max_results=3)
    report = run("place_search")
    assert report.retried == 1
    search.refresh_from_db()
    assert search.place_search_processing_status == "Queued"
    assert search.place_search_error_class == ErrorClass.QUOTA
    assert "daily quota" in search.place_search_processing_error


# --- the daily budget ----------------------------------------------------------------------------------------

def test_budget_reached_pauses_deep_scan_without_counting_attempts(google, settings):
    places = _found(n=3)  # 1 search request
    settings.GOOGLE_PLACES_DAILY_LIMIT = 3  # two details calls left
    select("deep_scan", places)
    report = run("deep_scan")
    assert report.completed == 2 and report.released == 1
    assert report.paused.startswith("Google Places daily budget of 3 requests reached; resumes at 00:00 UTC")
    waiting = Place.objects.get(deep_scan_processing_status="Queued")
    assert waiting.deep_scan_attempts == 0, "a paused row does not spend an attempt"
    assert waiting.deep_scan_processing_error.startswith("Waiting: Google Places daily budget of 3 requests")
    assert len(details_sent(google)) == 2, "nothing is sent once the budget is spent"
    usage = GooglePlacesUsage.objects.get()
    assert (usage.requests, usage.search_requests, usage.details_requests) == (3, 1, 2)
    # Raising the limit lets the row run when it is due again.
    settings.GOOGLE_PLACES_DAILY_LIMIT = 10
    Place.objects.filter(pk=waiting.pk).update(deep_scan_available_at=None)
    assert run("deep_scan").completed == 1


def test_budget_reached_before_a_search_pauses_it_without_an_attempt(google, settings):
    settings.GOOGLE_PLACES_DAILY_LIMIT = 1
    place_search_create(query="plumber", location_text="Austin, TX", max_results=5)
    run("place_search")  # spends the one request of the day
    search = place_search_create(query="dentist", location_text="Austin, TX", max_results=60)
    report = run("place_search")
    assert "daily budget of 1 requests reached" in report.paused
    search.refresh_from_db()
    assert (search.place_search_processing_status, search.place_search_attempts) == ("Queued", 0)
    assert search.results_found is None and search.requests_used == 0
    assert len(searches_sent(google)) == 1


def test_budget_reached_between_pages_keeps_the_first_page(google, settings):
    settings.GOOGLE_PLACES_DAILY_LIMIT = 1
    search = place_search_create(query="dentist", location_text="Austin, TX", max_results=60)
    run("place_search")
    search.refresh_from_db()
    assert search.place_search_processing_status == "Completed" and search.results_found == 20
    assert search.note.startswith("partial: page 2 failed (Google Places daily budget of 1 requests reached")
    assert len(searches_sent(google)) == 1


def test_the_money_budget_pauses_and_today_spend_is_reported(google, settings):
    from places.budget import spend_today

    settings.GOOGLE_PLACES_DAILY_BUDGET_USD = 0.05  # one Text Search Enterprise request ($0.035), not two
    place_search_create(query="plumber", location_text="Austin, TX", max_results=5)
    run("place_search")
    search = place_search_create(query="dentist", location_text="Austin, TX", max_results=5)
    report = run("place_search")
    assert report.paused.startswith("Google Places daily budget of $0.05 reached (the next request costs $0.035)")
    search.refresh_from_db()
    assert search.place_search_processing_status == "Queued" and search.place_search_attempts == 0
    today = spend_today()
    assert (today["requests"], today["cost_micros"], today["cost"], today["budget"]) == (1, 35_000, "$0.035", "$0.05")
    assert today["remaining_micros"] == 15_000


# --- WF3: domain extraction ------------------------------------------------------------------------------------

def _extract(business):
    select("domain_extraction", [business])
    assert run("domain_extraction").completed == 1
    business.refresh_from_db()
    return business


def test_own_site_gets_a_domain():
    business = _extract(LocalBusinessFactory(website="HTTPS://WWW.Rookmere-Dental.com:443/?utm_source=gmb#top"))
    assert business.website_kind == "own_site"
    assert business.website_normalized == "https://www.rookmere-dental.com"
    assert business.domain.domain == "rookmere-dental.com"
    assert business.domain.homepage_url == "https://www.rookmere-dental.com"
    assert (business.domain.source, business.domain.kind) == ("domain_extraction", "own_site")
    assert business.domain.sitemap_discovery_curation_status == "New"
    assert business.domain.sitemap_discovery_processing_status is None, "curators decide (no auto-queue, B-15)"


def test_social_profile_becomes_a_social_link_not_a_domain():
    business = _extract(LocalBusinessFactory(website="https://www.facebook.com/rookmeredental/?ref=gmb"))
    assert business.website_kind == "social_profile" and business.domain is None
    assert business.social_links == {"facebook": "https://www.facebook.com/rookmeredental/"}
    assert not Domain.objects.exists()


@pytest.mark.parametrize("website,kind", [
    ("https://www.yelp.com/biz/rookmere-dental-austin", "directory"),
    ("https://linktr.ee/rookmere", "link_shortener"),
    ("https://bit.ly/3abcdef", "link_shortener"),
])
def test_directories_and_shorteners_are_recorded_not_crawled(website, kind):
    business = _extract(LocalBusinessFactory(website=website))
    assert business.website_kind == kind and business.domain is None and business.website_note
    assert not Domain.objects.exists()


def test_site_builder_subdomain_is_its_own_domain():
    business = _extract(LocalBusinessFactory(website="https://rookmere.wixsite.com/dental"))
    assert business.website_kind == "site_builder"
    assert (business.domain.domain, business.domain.kind) == ("rookmere.wixsite.com", "site_builder")
    assert business.domain.homepage_url == "https://rookmere.wixsite.com/dental"


def test_no_website_completes_with_the_reason():
    business = _extract(LocalBusinessFactory(no_website=True))
    assert business.domain_extraction_processing_status == "Completed"
    assert business.website_kind == "none" and "No website" in business.website_note
    assert business.domain is None


def test_not_a_website_completes_with_the_reason():
    business = _extract(LocalBusinessFactory(website="mailto:info@rookmere.com"))
    assert business.website_kind == "invalid" and "mailto" in business.website_note
    assert business.domain_extraction_processing_status == "Completed"


def test_chain_two_businesses_one_domain_and_rerun_is_idempotent():
    a = LocalBusinessFactory(website="https://www.brindlewick.com/locations/austin?utm_source=gmb")
    b = LocalBusinessFactory(website="http://shop.brindlewick.com/")
    select("domain_extraction", [a, b])
    run("domain_extraction")
    assert Domain.objects.count() == 1
    domain = Domain.objects.get()
    assert domain.domain == "brindlewick.com"
    assert set(domain.businesses.all()) == {a, b}
    select("domain_extraction", [a, b], reprocess=True)
    run("domain_extraction")
    assert Domain.objects.count() == 1 and domain.businesses.count() == 2


# --- the whole pipeline ---------------------------------------------------------------------------------------------

def test_search_select_scan_extract_end_to_end(google, admin_user):
    search = place_search_create(query="brindlewick dentist", location_text="Austin, TX", user=admin_user)
    run("place_search")
    search.refresh_from_db()
    assert search.results_found == 6
    places = list(Place.objects.all())
    assert {p.website_domain for p in places} == {"brindlewickdental.com"}  # a chain
    select("deep_scan", places, actor=admin_user)
    assert run("deep_scan").completed == 6
    businesses = list(LocalBusiness.objects.all())
    assert len(businesses) == 6
    select("domain_extraction", businesses, actor=admin_user)
    assert run("domain_extraction").completed == 6
    domain = Domain.objects.get()
    assert domain.domain == "brindlewickdental.com" and domain.businesses.count() == 6
    assert PlaceSearch.objects.get().place_search_processing_status == "Completed"


def test_a_moved_place_is_linked_and_rescanned_on_request(google, _places_server):
    import copy

    from places.services import place_moved_follow

    switch, _url, dataset = _places_server
    data = copy.deepcopy(dataset)
    old, new = [p for p in data if "Austin" in p["formattedAddress"]][:2]
    old.update(businessStatus="CLOSED_PERMANENTLY", movedPlace=f"places/{new['id']}", movedPlaceId=new["id"])
    switch.app = places_api.make_app(data)
    place = PlaceFactory(place_id=old["id"])
    select("deep_scan", [place])
    assert run("deep_scan").completed == 1
    place.refresh_from_db()
    business = LocalBusiness.objects.get(place_id=old["id"])
    assert business.moved_place_id == new["id"] and business.business_status == "CLOSED_PERMANENTLY"
    assert place.moved_to.place_id == new["id"]
    assert place.moved_to.deep_scan_curation_status == "New", "the new place waits for a curator"
    place_moved_follow(ids=[place.pk])
    moved = Place.objects.get(place_id=new["id"])
    assert moved.deep_scan_processing_status == "Queued"
    assert run("deep_scan").completed == 1
    assert LocalBusiness.objects.get(place_id=new["id"]).business_status == new["businessStatus"]
