"""Model constraints of the places app."""
from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction

from places.models import LocalBusiness, Place, PlaceSearch, PlaceSearchResult
from tests.places.factories import LocalBusinessFactory, PlaceFactory, PlaceSearchFactory

pytestmark = pytest.mark.django_db


def _violates(make):
    with pytest.raises(IntegrityError), transaction.atomic():
        make()


def test_place_id_is_unique_on_places_and_businesses():
    PlaceFactory(place_id="ChIJsame00000")
    _violates(lambda: PlaceFactory(place_id="ChIJsame00000"))
    LocalBusinessFactory(place_id="ChIJsame00000")
    _violates(lambda: LocalBusinessFactory(place_id="ChIJsame00000"))


def test_search_constraints():
    _violates(lambda: PlaceSearchFactory(max_results=61))
    _violates(lambda: PlaceSearchFactory(max_results=0))
    _violates(lambda: PlaceSearchFactory(latitude=1.0))
    _violates(lambda: PlaceSearchFactory(radius_m=100))
    assert PlaceSearchFactory(latitude=1.0, longitude=2.0, radius_m=100).pk


def test_provenance_is_unique_per_search_and_place():
    search, place = PlaceSearchFactory(), PlaceFactory()
    PlaceSearchResult.objects.create(search=search, place=place, rank=1)
    _violates(lambda: PlaceSearchResult.objects.create(search=search, place=place, rank=2))
    assert list(place.searches.all()) == [search] and list(search.places.all()) == [place]


def test_processing_needs_a_lease():
    _violates(lambda: Place.objects.filter(pk=PlaceFactory().pk).update(deep_scan_processing_status="Processing"))


def test_strings_and_category():
    assert str(PlaceSearch(query="dentist", location_text="Austin, TX")) == "dentist in Austin, TX"
    assert str(PlaceSearch(query="dentist")) == "dentist"
    assert Place(primary_type="", types=["cafe", "food"]).category == "cafe"
    assert Place(place_id="ChIJx", name="").__str__() == "ChIJx"
    assert str(LocalBusiness(place_id="ChIJy", name="Joe's")) == "Joe's"


def test_deleting_a_place_keeps_its_business():
    place = PlaceFactory()
    business = LocalBusinessFactory(place_id=place.place_id, source_place=place)
    place.delete()
    business.refresh_from_db()
    assert business.source_place is None and business.place_id == place.place_id
