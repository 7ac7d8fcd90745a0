"""A stale worker cannot change a places workflow's results (issue #10, finding 1)."""
from __future__ import annotations

from datetime import timedelta

import pytest

from curation import registry, services
from curation.lease import LeaseLost
from places.models import LocalBusiness
from places.services import business_domain_extract
from tests.factories import lease_for
from tests.places.factories import LocalBusinessFactory

pytestmark = pytest.mark.django_db


def test_stale_domain_extraction_cannot_overwrite_the_newer_result():
    wf = registry.get("domain_extraction")
    business = LocalBusinessFactory(website="https://www.old-bakery.com/")
    # Worker 1 loads the row and claims it, then stalls past its lease.
    stale_record = LocalBusiness.objects.get(pk=business.pk)
    stale = lease_for(wf, stale_record, worker="worker-1")
    services.processing_rescue(workflow=wf, now=stale.deadline + timedelta(seconds=1))
    # The curator corrects the website; worker 2 reclaims the row and completes it.
    LocalBusiness.objects.filter(pk=business.pk).update(website="https://www.new-bakery.com/")
    fresh_record = LocalBusiness.objects.get(pk=business.pk)
    business_domain_extract(record=fresh_record, lease=lease_for(wf, fresh_record, worker="worker-2"))
    fresh = LocalBusiness.objects.select_related("domain").get(pk=business.pk)
    assert fresh.domain.domain == "new-bakery.com" and fresh.domain_extraction_processing_status == "Completed"

    # Worker 1 wakes up with its old copy of the row and tries to write its (outdated) result.
    with pytest.raises(LeaseLost):
        business_domain_extract(record=stale_record, lease=stale)

    after = LocalBusiness.objects.select_related("domain").get(pk=business.pk)
    assert after.domain.domain == "new-bakery.com", "the stale worker overwrote the newer result"
    assert after.website_normalized == fresh.website_normalized
    assert (after.domain_extraction_processing_status, after.domain_extraction_processed_at) == (
        "Completed", fresh.domain_extraction_processed_at)
