"""Services of the places app that are not hooks: search validation, the budget, the staging status service."""
from __future__ import annotations

import datetime as dt

import pytest

from curation.exceptions import ErrorClass, WorkflowPaused
from curation.services import CurationInputError
from places import budget
from places.models import GooglePlacesUsage
from places.services import google_readiness, place_search_clean, place_search_create, place_staging_status_set
from tests.places.factories import PlaceFactory

pytestmark = pytest.mark.django_db


def test_search_clean_normalises():
    params = place_search_clean(query="  dentist ", location_text=" Austin, TX ", latitude="30.1", longitude=-97,
                                radius_m=1500.4, language="pt-BR", region="US", max_results="12")
    assert params == {"query": "dentist", "location_text": "Austin, TX", "latitude": 30.1, "longitude": -97.0,
                      "radius_m": 1500, "language": "pt-BR", "region": "us", "max_results": 12, "cover_area": False,
                      "area_text": "", "south": None, "west": None, "north": None, "east": None,
                      "max_requests": None, "max_cost_usd": None}


def test_search_clean_lists_every_problem():
    with pytest.raises(CurationInputError) as info:
        place_search_clean(query="", latitude=100, longitude=0, radius_m=60_000, language="english!", max_results=0)
    message = info.value.message
    for fragment in ("query", "invalid coordinates", "radius must be between", "language", "max_results"):
        assert fragment in message


def test_create_is_refused_without_a_key_outside_the_sandbox(settings):
    settings.SANDBOX_ENABLED, settings.GOOGLE_MAPS_API_KEY = False, ""
    assert "GOOGLE_MAPS_API_KEY" in google_readiness()
    with pytest.raises(CurationInputError, match="cannot run"):
        place_search_create(query="dentist")
    settings.GOOGLE_MAPS_API_KEY = "real-key"
    assert google_readiness() is None


def test_budget_counts_per_day_and_kind(settings):
    settings.GOOGLE_PLACES_DAILY_LIMIT = 3
    budget.spend("search")
    budget.spend("details")
    budget.spend("details")
    usage = GooglePlacesUsage.objects.get(day=budget.today())
    assert (usage.requests, usage.search_requests, usage.details_requests) == (3, 1, 2)
    with pytest.raises(WorkflowPaused) as info:
        budget.spend("details")
    assert info.value.message.startswith("Google Places daily budget of 3 requests reached; resumes at 00:00 UTC")
    assert info.value.error_class == ErrorClass.QUOTA and 0 < info.value.retry_after <= budget.RECHECK_SECONDS
    assert budget.used_today() == 3, "a refused request is not counted"
    GooglePlacesUsage.objects.filter(day=budget.today()).update(day=budget.today() - dt.timedelta(days=1))
    budget.spend("search")  # a new UTC day starts from zero
    assert budget.used_today() == 1


def test_budget_limit_zero_means_unlimited(settings):
    settings.GOOGLE_PLACES_DAILY_LIMIT = 0
    for _ in range(5):
        budget.spend("search")
    assert budget.used_today() == 5


def test_seconds_until_reset():
    now = dt.datetime(2026, 1, 1, 23, 0, tzinfo=dt.UTC)
    assert budget.seconds_until_reset(now) == 3600


def test_staging_status_service_translates_place_ids():
    rows = PlaceFactory.create_batch(2)
    result = place_staging_status_set(place_ids=[rows[0].place_id, rows[0].place_id], status="Selected")
    assert (result.updated_count, result.queued_count) == (1, 1)
    with pytest.raises(CurationInputError) as info:
        place_staging_status_set(place_ids=["nope"], status="Selected")
    assert info.value.not_found_ids == ["nope"]
    with pytest.raises(CurationInputError):
        place_staging_status_set(place_ids=[], status="Selected")
