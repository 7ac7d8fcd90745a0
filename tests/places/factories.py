"""Factories of the places models; `FACTORIES` feeds the contract suite (tests/factories.py)."""
from __future__ import annotations

import datetime
import uuid

import factory
from django.utils import timezone

from places.models import LocalBusiness, Place, PlaceSearch


def _now():
    return timezone.now()


def _states(prefix: str, *, curation: bool = True) -> dict:
    """Traits for a workflow's states: queued, processing (live lease), completed, errored."""
    selected = {f"{prefix}_curation_status": "Selected"} if curation else {}
    return {
        "queued": factory.Trait(**selected, **{
            f"{prefix}_processing_status": "Queued",
            f"{prefix}_queued_at": factory.LazyFunction(_now),
            f"{prefix}_available_at": factory.LazyFunction(_now),
        }),
        "processing": factory.Trait(**selected, **{
            f"{prefix}_processing_status": "Processing",
            f"{prefix}_attempts": 1,
            f"{prefix}_lease_token": factory.LazyFunction(uuid.uuid4),
            f"{prefix}_lease_until": factory.LazyFunction(lambda: timezone.now() + timezone.timedelta(minutes=5)),
            f"{prefix}_locked_by": "test-host:1:1",
        }),
        "completed": factory.Trait(**selected, **{
            f"{prefix}_processing_status": "Completed",
            f"{prefix}_attempts": 1,
            f"{prefix}_processed_at": factory.LazyFunction(_now),
        }),
        "errored": factory.Trait(**selected, **{
            f"{prefix}_processing_status": "Error",
            f"{prefix}_processing_error": "Google Places: NOT_FOUND (The provided Place ID is no longer valid.)",
            f"{prefix}_error_class": "not_found",
            f"{prefix}_attempts": 1,
            f"{prefix}_processed_at": factory.LazyFunction(_now),
        }),
    }


class PlaceSearchFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PlaceSearch

    query = "dentist"
    location_text = factory.Sequence(lambda n: f"Austin, TX #{n}")
    max_results = 60

    Params = type("Params", (), {
        **_states("place_search", curation=False),
        "ran": factory.Trait(
            place_search_processing_status="Completed", place_search_attempts=1,
            place_search_processed_at=factory.LazyFunction(_now), results_found=3, results_new=2, results_known=1,
        ),
    })


class PlaceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Place

    place_id = factory.Sequence(lambda n: f"ChIJtestplace{n:012d}")
    name = factory.Sequence(lambda n: f"Test Dental {n}")
    formatted_address = factory.Sequence(lambda n: f"{100 + n} Congress Ave, Austin, TX 78701, USA")
    types = factory.LazyFunction(lambda: ["dentist", "health", "point_of_interest", "establishment"])
    primary_type = "dentist"
    latitude = 30.2672
    longitude = -97.7431
    rating = 4.5
    user_rating_count = 120
    business_status = "OPERATIONAL"
    website = ""
    phone = ""
    first_seen_at = factory.LazyFunction(_now)
    last_seen_at = factory.LazyFunction(_now)

    Params = type("Params", (), {
        **_states("deep_scan"),
        "with_website": factory.Trait(
            website=factory.Sequence(lambda n: f"https://www.testdental{n}.com/"),
            website_domain=factory.Sequence(lambda n: f"testdental{n}.com"),
            phone="+1 512-555-0100",
        ),
    })


class LocalBusinessFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = LocalBusiness

    place_id = factory.Sequence(lambda n: f"ChIJtestbusiness{n:09d}")
    name = factory.Sequence(lambda n: f"Test Business {n}")
    formatted_address = "1 Main St, Austin, TX 78701, USA"
    city = "Austin"
    region = "TX"
    country_code = "US"
    website = factory.Sequence(lambda n: f"https://www.testbusiness{n}.com/")
    categories = factory.LazyFunction(lambda: ["dentist"])
    primary_category = "dentist"
    rating = 4.2
    reviews_count = 40
    business_status = "OPERATIONAL"
    last_scanned_at = factory.LazyFunction(_now)

    Params = type("Params", (), {
        **_states("domain_extraction"),
        "no_website": factory.Trait(website=""),
        # Deep-scanned from a place of its own, `days_old` days ago (freshness tests).
        "scanned": factory.Trait(
            source_place=factory.SubFactory(PlaceFactory, deep_scan_processing_status="Completed",
                                            deep_scan_curation_status="Selected"),
            last_scanned_at=factory.LazyAttribute(lambda o: _now() - datetime.timedelta(days=o.days_old)),
        ),
        "days_old": 0,
    })


FACTORIES = {
    "places.PlaceSearch": PlaceSearchFactory,
    "places.Place": PlaceFactory,
    "places.LocalBusiness": LocalBusinessFactory,
}
