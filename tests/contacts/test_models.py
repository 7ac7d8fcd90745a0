"""Contact models: uniqueness, the engine's fields for four workflows, constraints."""
from __future__ import annotations

import uuid

import pytest
from django.db import IntegrityError, transaction

from contacts.models import Contact
from curation import registry
from tests.contacts.factories import ContactFactory, ContactSourceFactory, SocialLinkFactory, SuppressionFactory

pytestmark = pytest.mark.django_db


def test_one_contact_per_domain_kind_and_value():
    contact = ContactFactory(value="info@acme.com")
    with pytest.raises(IntegrityError), transaction.atomic():
        ContactFactory(domain=contact.domain, value="info@acme.com")
    ContactFactory(value="info@acme.com")  # another domain: another contact


def test_one_source_per_contact_page_and_method():
    source = ContactSourceFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        ContactSourceFactory(contact=source.contact, page=source.page, method=source.method)
    ContactSourceFactory(contact=source.contact, page=source.page, method="text")


def test_suppression_and_social_link_uniqueness():
    SuppressionFactory(kind="domain", value="acme.com")
    with pytest.raises(IntegrityError), transaction.atomic():
        SuppressionFactory(kind="domain", value="acme.com")
    link = SocialLinkFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        SocialLinkFactory(domain=link.domain, url=link.url)


def test_four_workflows_on_one_model_with_their_own_fields():
    names = {wf.name for wf in registry.for_model(Contact)}
    assert names == {"contact_validation", "brevo_sync", "hubspot_sync", "webhook_sync"}
    for wf in registry.for_model(Contact):
        for field in wf.required_fields():
            Contact._meta.get_field(field)


def test_processing_without_a_lease_is_refused():
    contact = ContactFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        Contact.objects.filter(pk=contact.pk).update(hubspot_sync_processing_status="Processing")
    Contact.objects.filter(pk=contact.pk).update(hubspot_sync_processing_status="Processing",
                                                 hubspot_sync_lease_token=uuid.uuid4(),
                                                 hubspot_sync_lease_until="2030-01-01T00:00:00Z")
