"""The coverage planner (places/coverage.py) on the sandbox's dense city, over real HTTP."""
from __future__ import annotations

import math

import pytest

from curation import engine, registry
from places import coverage
from places.coverage import Box, can_split, circle_box, grid, split
from places.models import Place, PlaceSearch, PlaceSearchResult, PlaceSearchTile, TileStatus
from places.services import place_search_create, place_search_estimate, place_search_clean
from scrapersky.sandbox import places_api

pytestmark = pytest.mark.django_db


def run_until_done(search, rounds=40):
    """Run the place_search queue until the search is finished (slices hand the row back in between)."""
    for _ in range(rounds):
        engine.workflow_run(registry.get("place_search"), time_budget=600)
        search.refresh_from_db()
        if search.place_search_processing_status in ("Completed", "Error"):
            return search
    raise AssertionError(f"search still {search.place_search_processing_status}: {search.place_search_processing_error}")


def searches_sent(sandbox):
    return [r for r in sandbox.app.request_log if r.path == "/v1/places:searchText"]


def dense_ids(dense_city):
    return {p["id"] for p in dense_city["places"]}


# --- geometry -------------------------------------------------------------------------------------------

def test_split_covers_the_tile_exactly_and_cuts_at_the_median():
    box = Box(0.0, 0.0, 1.0, 1.0)
    points = [(0.1, 0.1)] * 30 + [(0.9, 0.9)] * 10
    quarters = split(box, points)
    assert len(quarters) == 4
    assert sum((q.north - q.south) * (q.east - q.west) for q in quarters) == pytest.approx(1.0)
    # The cut follows the places (median near 0.1) but never makes a sliver (≥ 20 % from an edge).
    assert quarters[0].north == pytest.approx(0.2) and quarters[0].east == pytest.approx(0.2)
    assert split(box, [])[0].north == pytest.approx(0.5)


def test_grid_and_minimum_size():
    box = circle_box(43.9, -120.5, 30_000)
    tiles = grid(box)
    assert len(tiles) == 9  # 60 km square → 3 × 3 tiles of at most 20 km
    assert min(t.south for t in tiles) == pytest.approx(box.south) and max(t.east for t in tiles) == pytest.approx(box.east)
    small = Box(43.9, -120.5, 43.9 + 400 / coverage.METRES_PER_DEGREE, -120.5 + 0.004)
    assert not can_split(small, 250) and can_split(small, 100)


# --- the dense city ------------------------------------------------------------------------------------

def test_all_dentists_in_the_dense_city_are_found_with_few_requests(dense_google, _dense_city, admin_user):
    search = place_search_create(query="dentist", cover_area=True, area_text="Quillhaven, OR", user=admin_user)
    search = run_until_done(search)
    assert search.place_search_processing_status == "Completed", search.place_search_processing_error
    expected = dense_ids(_dense_city)
    found = set(PlaceSearchResult.objects.filter(search=search).values_list("place__place_id", flat=True))
    coverage_ratio = len(found & expected) / len(expected)
    assert coverage_ratio >= 0.99, coverage_ratio
    assert found <= expected  # the rectangles restrict: no place from elsewhere
    # Deduplicated across tiles: one Place and one provenance row per place; the provenance keeps every tile.
    assert Place.objects.filter(place_id__in=expected).count() == len(found) == search.results_found
    multi = PlaceSearchResult.objects.filter(search=search).order_by("-id")
    assert any(len(r.tiles) > 1 for r in multi)  # a place seen by a full tile and by its quarter
    assert all(len(r.tiles) >= 1 and all(isinstance(rank, int) for _key, rank in r.tiles) for r in multi[:50])
    # Coverage recorded; requests close to the minimum (20 places a request) plus the one area lookup.
    sent = len(searches_sent(dense_google))
    assert search.requests_used == sent
    minimum = math.ceil(len(expected) / 20)
    assert sent <= 2.5 * minimum, (sent, minimum)
    tiles = PlaceSearchTile.objects.filter(search=search)
    assert search.tiles_total == tiles.count() and search.tiles_done == tiles.exclude(status=TileStatus.PENDING).count()
    assert tiles.filter(status=TileStatus.SPLIT).exists() and search.tiles_saturated == 0
    assert search.area_resolved.startswith("Quillhaven") and search.south < 43.9012 < search.north
    assert search.cost_micros == (sent - 1) * 35_000 + 32_000  # Text Search Enterprise $35 / 1000; the lookup is Pro, $32
    print(f"\ncoverage {coverage_ratio:.2%}: {len(found)} of {len(expected)}; {sent} requests, minimum {minimum}")


def test_the_search_stops_at_its_request_budget_and_says_so(dense_google):
    search = place_search_create(query="dentist", cover_area=True, area_text="Quillhaven, OR", max_requests=10)
    search = run_until_done(search)
    assert search.place_search_processing_status == "Completed"
    assert len(searches_sent(dense_google)) == 10 == search.requests_used
    assert search.note.startswith("stopped: request budget of 10 reached")
    assert PlaceSearchTile.objects.filter(search=search, status=TileStatus.PENDING).exists()
    assert 20 < search.results_found < 1200


def test_a_tile_still_full_at_the_smallest_size_is_reported_saturated(dense_google):
    # A 2 km box downtown (about 140 dentists) that may not be split below 2 km.
    box = circle_box(43.9012, -120.4987, 1000)
    search = place_search_create(query="dentist", cover_area=True, south=box.south, west=box.west, north=box.north,
                                 east=box.east, min_tile_m=2000)
    search = run_until_done(search)
    assert search.place_search_processing_status == "Completed"
    assert search.tiles_saturated == 1 and search.results_found == 60 and search.requests_used == 3
    assert "1 tile(s) still full at 2000 m" in search.note
    assert PlaceSearchTile.objects.filter(search=search, status=TileStatus.SATURATED).count() == search.tiles_saturated


def test_a_slice_hands_the_row_back_and_the_next_run_resumes(dense_google, monkeypatch):
    monkeypatch.setattr(coverage, "SLICE_SECONDS", 0.0)  # one tile per run
    search = place_search_create(query="dentist", cover_area=True, latitude=43.9012, longitude=-120.4987,
                                 radius_m=3000)
    engine.workflow_run(registry.get("place_search"), time_budget=600)
    search.refresh_from_db()
    assert search.place_search_processing_status == "Queued" and search.place_search_attempts == 0
    assert search.tiles_done == 1 and "continuing: 1 of" in search.place_search_processing_error
    search = run_until_done(search, rounds=200)
    assert search.place_search_processing_status == "Completed"
    tiles = PlaceSearchTile.objects.filter(search=search)
    # Every tile was searched once: no request repeated across the slices.
    assert sum(tiles.values_list("requests", flat=True)) == len(searches_sent(dense_google)) == search.requests_used


def test_area_input_is_validated_and_nothing_is_created(google):
    from curation.services import CurationInputError

    for bad in ({"cover_area": True}, {"cover_area": True, "area_text": "X", "south": 1, "west": 1, "north": 2, "east": 2},
                {"cover_area": True, "south": 2, "west": 1, "north": 1, "east": 2},
                {"cover_area": True, "latitude": 1, "longitude": 1},
                {"area_text": "Quillhaven"}, {"cover_area": True, "area_text": "X", "max_requests": 0},
                {"cover_area": True, "area_text": "X", "location_text": "Austin"}):
        with pytest.raises(CurationInputError):
            place_search_create(query="dentist", **bad)
    assert not PlaceSearch.objects.exists()


def test_estimates_before_running():
    plain = place_search_estimate(**place_search_clean(query="dentist", location_text="Austin", max_results=45))
    assert plain["max_requests"] == 3 and plain["total_micros"] == 3 * 35_000 and plain["total"] == "$0.105"
    box = circle_box(43.9, -120.5, 30_000)
    area = place_search_estimate(**place_search_clean(query="dentist", cover_area=True, south=box.south, west=box.west,
                                                     north=box.north, east=box.east, max_requests=200))
    assert area["tiles"] == 9 and area["min_requests"] == 27 and area["max_requests"] == 200
    assert area["max_total"] == "$7.00" and "never more than 200 requests" in area["summary"]
    named = place_search_estimate(**place_search_clean(query="dentist", cover_area=True, area_text="Quillhaven",
                                                      max_cost_usd="1.00"))
    assert named["min_requests"] == 4 and named["max_requests"] == 28  # $1 buys 28 requests at $0.035


def test_a_5xx_storm_on_an_area_search_spends_one_request_per_attempt_then_ends_partial(dense_google, settings,
                                                                                       monkeypatch):
    monkeypatch.setattr(coverage, "SLICE_SECONDS", 0.0)  # one tile per run
    search = place_search_create(query="dentist", cover_area=True, latitude=43.9012, longitude=-120.4987,
                                 radius_m=3000)
    for _ in range(3):  # a few tiles done (the first is split, its quarters follow)
        engine.workflow_run(registry.get("place_search"), time_budget=600)
    search.refresh_from_db()
    done, sent = search.tiles_done, len(searches_sent(dense_google))
    assert done == 3 and search.place_search_processing_status == "Queued"
    settings.GOOGLE_MAPS_API_KEY = places_api.KEY_500
    for attempt in (1, 2, 3):
        engine.workflow_run(registry.get("place_search"), time_budget=600)
        search.refresh_from_db()
        assert len(searches_sent(dense_google)) == sent + attempt  # one billed request per attempt, no client retry
        if attempt < 3:
            assert search.place_search_processing_error == (
                f"Attempt {attempt} of 3 failed, retrying: Google Places: INTERNAL (Internal error encountered.)")
            PlaceSearch.objects.filter(pk=search.pk).update(place_search_available_at=None)
    # The last attempt keeps what the tiles found and says exactly what is missing.
    assert search.place_search_processing_status == "Completed" and search.tiles_done == done
    failed = PlaceSearchTile.objects.get(search=search, status=TileStatus.FAILED)
    assert search.note.startswith(f"partial: tile {failed.key} failed (Google Places: INTERNAL (Internal error "
                                  f"encountered.)); {done} of {search.tiles_total} tiles searched")
    assert failed.requests == 3 and search.results_found > 60


def test_a_stale_worker_cannot_write_tiles_of_a_search_another_worker_took(dense_google, monkeypatch):
    from datetime import timedelta

    from curation import services
    from curation.lease import LeaseLost
    from places.services import place_search_run
    from tests.factories import lease_for

    monkeypatch.setattr(coverage, "SLICE_SECONDS", 0.0)  # one tile per run
    wf = registry.get("place_search")
    search = place_search_create(query="dentist", cover_area=True, latitude=43.9012, longitude=-120.4987,
                                 radius_m=3000)
    stale_record = PlaceSearch.objects.get(pk=search.pk)
    stale = lease_for(wf, stale_record, worker="worker-1")
    services.processing_rescue(workflow=wf, now=stale.deadline + timedelta(seconds=1))
    fresh_record = PlaceSearch.objects.get(pk=search.pk)
    with pytest.raises(coverage.SliceEnded):  # worker 2 searches the first tile, then hands the row back
        place_search_run(record=fresh_record, lease=lease_for(wf, fresh_record, worker="worker-2"))
    tiles = list(PlaceSearchTile.objects.filter(search=search).values_list("key", "status", "requests"))
    sent = len(searches_sent(dense_google))
    with pytest.raises(LeaseLost):  # worker 1 wakes up: its first write is refused, nothing changes
        place_search_run(record=stale_record, lease=stale)
    assert list(PlaceSearchTile.objects.filter(search=search).values_list("key", "status", "requests")) == tiles
    assert len(searches_sent(dense_google)) == sent, "a stale worker sends nothing once it knows"
