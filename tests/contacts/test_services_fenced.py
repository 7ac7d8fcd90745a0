"""A stale worker cannot change a contacts workflow's results (issue #10, finding 1)."""
from __future__ import annotations

from datetime import timedelta

import dns.rdata
import dns.rdataclass
import dns.rdatatype
import dns.resolver
import pytest

from contacts.models import Contact
from contacts.services import contact_validate
from curation import registry, services
from curation.lease import LeaseLost
from tests.contacts.factories import ContactFactory
from tests.factories import lease_for

pytestmark = pytest.mark.django_db


class _Resolver:
    """DNS, the workflow's network boundary: MX records for domains in `mx`, NXDOMAIN for the rest."""

    mx: dict = {}

    def resolve(self, name, rdtype):
        if rdtype == "MX" and name in self.mx:
            return [dns.rdata.from_text(dns.rdataclass.IN, dns.rdatatype.MX, self.mx[name])]
        raise dns.resolver.NXDOMAIN()


def resolver_factory():
    return _Resolver()


def test_stale_validation_cannot_overwrite_the_newer_result(settings):
    settings.CONTACTS_DNS_RESOLVER_FACTORY = "tests.contacts.test_services_fenced.resolver_factory"
    wf = registry.get("contact_validation")
    contact = ContactFactory(value="info@bakery-berlin.de")
    stale = lease_for(wf, Contact.objects.get(pk=contact.pk), worker="worker-1")
    services.processing_rescue(workflow=wf, now=stale.deadline + timedelta(seconds=1))

    # Worker 2 reclaims the row after the domain got its mail server: valid.
    _Resolver.mx = {"bakery-berlin.de": "10 mx.bakery-berlin.de."}
    contact_validate(record=contact, lease=lease_for(wf, contact, worker="worker-2"))
    fresh = Contact.objects.get(pk=contact.pk)
    assert fresh.validation_result == "valid" and fresh.contact_validation_processing_status == "Completed"

    # Worker 1 had stalled; the DNS answer it now gets (no MX yet, as when it started) must not land.
    _Resolver.mx = {}
    with pytest.raises(LeaseLost):
        contact_validate(record=contact, lease=stale)

    after = Contact.objects.get(pk=contact.pk)
    assert (after.validation_result, after.mx_hosts) == ("valid", ["mx.bakery-berlin.de"])
    assert after.validation_history == fresh.validation_history and len(after.validation_history) == 1
    assert after.validated_at == fresh.validated_at
