"""contacts.manual: hand-made contacts go through extraction's rules and the one status service."""
from __future__ import annotations

import pytest

from contacts.manual import contact_create, contact_delete, contact_update
from contacts.models import Contact, ContactSource
from curation import registry
from curation.models import CurationEvent
from curation.services import CurationInputError
from pages.services import AlreadyKnown
from tests.contacts.factories import ContactFactory
from tests.factories import put_in_state
from tests.pages.factories import DomainFactory, PageFactory
from tests.places.factories import LocalBusinessFactory

pytestmark = pytest.mark.django_db


def test_create_normalises_classifies_and_records_manual_provenance(admin_user):
    domain = DomainFactory(domain="bakery-one.com")
    page = PageFactory(domain=domain)
    email, phone = contact_create(domain_id=domain.pk, page_id=page.pk, email="Info@Bakery-One.com",
                                  phone_number="+49 30 1234567", name="Front desk", user=admin_user)
    assert (email.normalized, email.is_role, email.on_domain, email.name) == \
        ("info@bakery-one.com", True, True, "Front desk")
    assert (phone.kind, phone.normalized, phone.number_type) == ("phone", "+49301234567", "fixed_line")
    assert set(ContactSource.objects.values_list("method", flat=True)) == {"manual"}
    assert CurationEvent.objects.filter(note="created by hand", actor=admin_user).count() == 2


def test_create_reads_a_national_number_in_the_business_region():
    domain = DomainFactory(domain="bakery-one.co.uk")
    business = LocalBusinessFactory(domain=domain, country_code="GB")
    [phone] = contact_create(domain_id=domain.pk, phone_number="020 7946 0958")
    assert (phone.normalized, phone.business_id) == ("+442079460958", business.pk)
    with pytest.raises(CurationInputError, match="country code"):
        contact_create(domain_id=DomainFactory().pk, phone_number="020 7946 0958")


def test_create_is_all_or_nothing():
    domain = DomainFactory()
    existing = ContactFactory(domain=domain, value=f"taken@{domain.domain}")
    with pytest.raises(AlreadyKnown) as known:
        contact_create(domain_id=domain.pk, email="taken@" + domain.domain, phone_number="+49 30 1234567")
    assert known.value.existing == [str(existing.pk)]
    with pytest.raises(CurationInputError):
        contact_create(domain_id=domain.pk, email="fresh@" + domain.domain, phone_number="12")
    assert list(Contact.objects.values_list("pk", flat=True)) == [existing.pk]


def test_update_changes_the_name_and_statuses_through_the_service():
    contact = ContactFactory(name="")
    result = contact_update(contact=contact, name="Ann", statuses={"contact_validation": "Selected"})
    assert result.name_changed and result.statuses[0].queued_count == 1
    contact.refresh_from_db()
    assert (contact.name, contact.contact_validation_processing_status) == ("Ann", "Queued")
    with pytest.raises(CurationInputError):
        contact_update(contact=contact, name="Bob", statuses={"contact_validation": "Completed"})
    contact.refresh_from_db()
    assert contact.name == "Ann", "all or nothing"


def test_delete_spares_a_contact_a_worker_holds():
    busy, free = ContactFactory(), ContactFactory()
    put_in_state(registry.get("webhook_sync"), [busy], processing="Processing", curation="Selected")
    assert contact_delete(contact=busy) is False
    assert contact_delete(contact=free) is True
    assert list(Contact.objects.values_list("pk", flat=True)) == [busy.pk]
