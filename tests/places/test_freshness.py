"""Freshness: re-scanning businesses (admin action, the opt-in PLACES_RESCAN_DAYS schedule), curation and budget."""
from __future__ import annotations

import pytest
from django_q.models import Schedule

from curation import registry
from curation.schedules import schedules_sync
from places import tasks
from places.models import Place
from places.services import business_rescan, business_rescan_stale
from tests.places.factories import LocalBusinessFactory

pytestmark = pytest.mark.django_db


def queued(businesses):
    return {b.pk for b in businesses
            if Place.objects.get(pk=b.source_place_id).deep_scan_processing_status == "Queued"}


def test_stale_businesses_are_requeued_and_rejected_ones_never(google, settings):
    settings.PLACES_RESCAN_DAYS = 30
    old, fresh = LocalBusinessFactory(scanned=True, days_old=45), LocalBusinessFactory(scanned=True, days_old=3)
    rejected_place = LocalBusinessFactory(scanned=True, days_old=90)
    Place.objects.filter(pk=rejected_place.source_place_id).update(deep_scan_curation_status="Rejected")
    rejected_business = LocalBusinessFactory(scanned=True, days_old=90, domain_extraction_curation_status="Rejected")
    result = tasks.rescan_stale()
    assert result == {"queued": 1, "over_budget": 0, "skipped": 2}
    assert queued([old, fresh, rejected_place, rejected_business]) == {old.pk}
    # The re-scan goes through the audited status service (Selected, reprocess).
    place = Place.objects.get(pk=old.source_place_id)
    assert place.deep_scan_curation_status == "Selected" and place.deep_scan_attempts == 0


def test_rescan_respects_the_daily_budget_oldest_first(google, settings):
    settings.GOOGLE_PLACES_DAILY_BUDGET_USD = 0.05  # two Place Details Enterprise requests ($0.02 each)
    rows = [LocalBusinessFactory(scanned=True, days_old=d) for d in (10, 50, 30)]
    result = business_rescan(older_than_days=5)
    assert result == {"queued": 2, "over_budget": 1, "skipped": 0}
    assert queued(rows) == {rows[1].pk, rows[2].pk}  # the two oldest


def test_the_schedule_exists_only_when_switched_on(settings):
    settings.PLACES_RESCAN_DAYS = 0
    schedules_sync()
    assert not Schedule.objects.filter(name="curation:places:rescan_stale").exists()
    assert business_rescan_stale() == {"queued": 0, "over_budget": 0, "skipped": 0, "off": True}
    settings.PLACES_RESCAN_DAYS = 14
    result = schedules_sync()
    assert "curation:places:rescan_stale" in result.created
    schedule = Schedule.objects.get(name="curation:places:rescan_stale")
    assert (schedule.func, schedule.minutes) == ("places.tasks.rescan_stale", 24 * 60)
    settings.PLACES_RESCAN_DAYS = 0
    assert "curation:places:rescan_stale" in schedules_sync().deleted
    assert "places:rescan_stale" in registry.all_schedules()


def test_rescan_rejects_a_bad_age():
    from curation.services import CurationInputError

    with pytest.raises(CurationInputError, match="at least 1"):
        business_rescan(older_than_days=0)
