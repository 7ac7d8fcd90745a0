"""WF8 through the engine: validation with a fake DNS resolver, the syncs against the CRM sandbox over real HTTP."""
from __future__ import annotations

import dns.exception
import dns.rdata
import dns.rdataclass
import dns.rdatatype
import dns.resolver
import pytest

from contacts.models import Contact
from curation import engine, registry, services
from scrapersky.sandbox.crm import BREVO_KEY, HUBSPOT_TOKEN, WEBHOOK_SECRET
from tests.contacts.factories import ContactFactory, ContactSourceFactory, SuppressionFactory
from tests.pages.factories import DomainFactory
from tests.places.factories import LocalBusinessFactory

pytestmark = pytest.mark.django_db


# --- DNS: the network boundary of contact_validation ----------------------------------------------

class FakeResolver:
    """Answers from a table {(name, rdtype): records | exception}; NoAnswer otherwise."""

    table: dict = {}
    calls: list = []

    def resolve(self, name, rdtype):
        FakeResolver.calls.append((name, rdtype))
        answer = FakeResolver.table.get((name, rdtype), dns.resolver.NoAnswer())
        if isinstance(answer, Exception):
            raise answer
        return answer


def fake_resolver_factory():
    return FakeResolver()


def mx(text):
    return dns.rdata.from_text(dns.rdataclass.IN, dns.rdatatype.MX, text)


@pytest.fixture
def dns_table(settings):
    settings.CONTACTS_DNS_RESOLVER_FACTORY = "tests.contacts.test_workflows.fake_resolver_factory"
    FakeResolver.table = {}
    FakeResolver.calls = []
    yield FakeResolver.table


def run(name: str, contacts, reprocess=False):
    wf = registry.get(name)
    services.curation_status_set(workflow=wf, ids=[c.pk for c in contacts], status="Selected", reprocess=reprocess)
    report = engine.workflow_run(wf)
    for contact in contacts:
        contact.refresh_from_db()
    return report


def test_validation_results(dns_table):
    dns_table[("firma.de", "MX")] = [mx("10 mx1.firma.de.")]
    dns_table[("nowhere.de", "MX")] = dns.resolver.NXDOMAIN()
    dns_table[("slow.de", "MX")] = dns.exception.Timeout()
    dns_table[("mailinator.com", "MX")] = [mx("10 mail.mailinator.com.")]
    good = ContactFactory(value="info@firma.de")
    dead = ContactFactory(value="a@nowhere.de")
    slow = ContactFactory(value="b@slow.de")
    throwaway = ContactFactory(value="x@mailinator.com")
    phone = ContactFactory(phone=True, value="+493012345678")
    bad_phone = ContactFactory(phone=True, value="+4912")
    report = run("contact_validation", [good, dead, slow, throwaway, phone, bad_phone])
    assert report.completed == 6
    assert (good.validation_result, good.mx_hosts, good.is_role) == ("valid", ["mx1.firma.de"], True)
    assert good.validated_at is not None and good.validation_history[0]["result"] == "valid"
    assert dead.validation_result == "invalid" and "NXDOMAIN" in dead.validation_reason
    assert slow.validation_result == "unknown", "a DNS failure is unknown, never invalid"
    assert "timeout" in slow.validation_reason.lower()
    assert throwaway.validation_result == "risky" and throwaway.is_disposable
    assert (phone.validation_result, phone.number_type) == ("valid", "fixed_line")
    assert bad_phone.validation_result == "invalid"


def test_unknown_is_never_promoted_and_history_is_kept(dns_table):
    dns_table[("flaky.de", "MX")] = dns.resolver.NoNameservers()
    contact = ContactFactory(value="a@flaky.de")
    run("contact_validation", [contact])
    assert contact.validation_result == "unknown"
    dns_table[("flaky.de", "MX")] = [mx("5 mx.flaky.de.")]
    run("contact_validation", [contact], reprocess=True)
    assert contact.validation_result == "valid"
    assert [h["result"] for h in contact.validation_history] == ["valid", "unknown"]


# --- the CRM sandbox -------------------------------------------------------------------------

@pytest.fixture
def crm(settings, crm_sandbox):
    settings.BREVO_BASE_URL = crm_sandbox.brevo_url
    settings.BREVO_API_KEY = BREVO_KEY
    settings.BREVO_LIST_IDS = [3]
    settings.HUBSPOT_BASE_URL = crm_sandbox.hubspot_url
    settings.HUBSPOT_ACCESS_TOKEN = HUBSPOT_TOKEN
    settings.WEBHOOK_SYNC_URL = crm_sandbox.webhook_url("sync")
    settings.WEBHOOK_SYNC_SECRET = WEBHOOK_SECRET
    settings.CRM_TIMEOUT = 30.0
    settings.CRM_MAX_RETRIES = 0
    return crm_sandbox


def _person():
    domain = DomainFactory(domain="zahnarzt-mueller.de")
    LocalBusinessFactory(domain=domain, name="Zahnarzt Müller", city="Berlin", country_code="DE",
                         phone_e164="+493099999999", website="https://zahnarzt-mueller.de/")
    contact = ContactFactory(domain=domain, value="anna.mueller@zahnarzt-mueller.de", name="Dr. Anna Müller",
                             title="Inhaberin")
    ContactSourceFactory(contact=contact)
    return contact


def test_brevo_create_update_and_idempotent_retry(crm):
    contact = _person()
    run("brevo_sync", [contact])
    assert contact.brevo_sync_processing_status == "Completed", contact.brevo_sync_processing_error
    [stored] = crm.state()["brevo"]["contacts"]
    assert contact.brevo_remote_id == str(stored["id"]) and contact.brevo_synced_at
    assert stored["email"] == "anna.mueller@zahnarzt-mueller.de"
    assert stored["attributes"] == {"FIRSTNAME": "Anna", "LASTNAME": "Müller", "JOB_TITLE": "Inhaberin",
                                    "COMPANY": "Zahnarzt Müller"}, "no placeholders, no shared business phone as SMS"
    assert stored["listIds"] == [3]
    Contact.objects.filter(pk=contact.pk).update(title="Geschäftsführerin")
    run("brevo_sync", [contact], reprocess=True)
    contacts = crm.state()["brevo"]["contacts"]
    assert len(contacts) == 1 and contacts[0]["attributes"]["JOB_TITLE"] == "Geschäftsführerin"
    assert contact.brevo_remote_id == str(stored["id"]) and "updated" in contact.brevo_sync_detail


def test_brevo_rate_limit_is_retried_later(crm, settings):
    settings.BREVO_API_KEY = "sandbox-brevo-key-ratelimited"
    contact = _person()
    run("brevo_sync", [contact])
    assert contact.brevo_sync_processing_status == "Queued"
    assert contact.brevo_sync_error_class == "rate_limited"
    assert "Attempt 1 of 5" in contact.brevo_sync_processing_error


def test_brevo_bad_key_is_a_config_error(crm, settings):
    settings.BREVO_API_KEY = "wrong-key"
    contact = _person()
    run("brevo_sync", [contact])
    assert (contact.brevo_sync_processing_status, contact.brevo_sync_error_class) == ("Error", "config")
    assert "401" in contact.brevo_sync_processing_error


def test_brevo_5xx_once_then_the_retry_updates_the_same_contact(crm, settings):
    settings.BREVO_API_KEY = "sandbox-brevo-key-500-once"
    settings.CRM_MAX_RETRIES = 1
    contact = _person()
    run("brevo_sync", [contact])
    assert contact.brevo_sync_processing_status == "Completed", contact.brevo_sync_processing_error
    assert len(crm.state()["brevo"]["contacts"]) == 1


def test_hubspot_create_update_and_errors(crm, settings):
    contact = _person()
    run("hubspot_sync", [contact])
    assert contact.hubspot_sync_processing_status == "Completed", contact.hubspot_sync_processing_error
    [stored] = crm.state()["hubspot"]["contacts"]
    assert contact.hubspot_remote_id == str(stored["id"])
    props = stored["properties"]
    assert props["email"] == "anna.mueller@zahnarzt-mueller.de"
    assert (props["firstname"], props["lastname"], props["company"], props["city"]) == (
        "Anna", "Müller", "Zahnarzt Müller", "Berlin")
    assert props["phone"] == "+493099999999"
    run("hubspot_sync", [contact], reprocess=True)
    assert len(crm.state()["hubspot"]["contacts"]) == 1
    assert "updated" in contact.hubspot_sync_detail

    other = ContactFactory(domain=contact.domain, value="info@zahnarzt-mueller.de")
    settings.HUBSPOT_ACCESS_TOKEN = "sandbox-hubspot-token-ratelimited"
    run("hubspot_sync", [other])
    assert (other.hubspot_sync_processing_status, other.hubspot_sync_error_class) == ("Queued", "rate_limited")
    settings.HUBSPOT_ACCESS_TOKEN = "bad-token"
    third = ContactFactory(domain=contact.domain, value="team@zahnarzt-mueller.de")
    run("hubspot_sync", [third])
    assert (third.hubspot_sync_processing_status, third.hubspot_sync_error_class) == ("Error", "config")


@pytest.mark.parametrize("name,vendor", [("brevo_sync", "Brevo"), ("hubspot_sync", "HubSpot")])
def test_a_phone_contact_is_skipped_with_the_reason_not_an_error(crm, name, vendor):
    """Issue 16: a contact a CRM cannot take (no email) is skipped with a clear reason, never an Error."""
    prefix = name.split("_")[0]
    person = _person()
    phone = ContactFactory(phone=True, domain=person.domain)
    run(name, [phone, person])
    assert getattr(phone, f"{name}_processing_status") == "Completed"
    assert getattr(phone, f"{name}_error_class") == ""
    detail = getattr(phone, f"{prefix}_sync_detail")
    assert detail.startswith("Skipped, nothing sent:") and f"{vendor} " in detail and "phone number" in detail
    assert getattr(phone, f"{prefix}_remote_id") == "" and getattr(phone, f"{prefix}_synced_at") is None
    assert getattr(person, f"{name}_processing_status") == "Completed" and getattr(person, f"{prefix}_remote_id")
    stored = crm.state()[prefix]["contacts"]
    assert len(stored) == 1, "only the email contact reached the CRM"


@pytest.mark.parametrize("name,vendor", [("brevo_sync", "Brevo"), ("hubspot_sync", "HubSpot")])
def test_a_fax_contact_is_never_sent_to_a_crm(crm, name, vendor):
    """Issue 12: a fax (its own contact kind) is stored and exported, never synced as a phone."""
    prefix = name.split("_")[0]
    fax = ContactFactory(fax=True)
    run(name, [fax])
    assert getattr(fax, f"{name}_processing_status") == "Completed"
    detail = getattr(fax, f"{prefix}_sync_detail")
    assert detail.startswith("Skipped, nothing sent:") and "fax number" in detail
    assert not crm.state()[prefix]["contacts"]


def test_a_fax_contact_reaches_the_webhook_as_a_fax_not_a_phone(crm):
    fax = ContactFactory(fax=True)
    run("webhook_sync", [fax])
    assert fax.webhook_sync_processing_status == "Completed", fax.webhook_sync_processing_error
    [delivery] = crm.state()["webhooks"]["deliveries"]
    document = delivery["document"]["contact"]
    assert document["kind"] == "fax" and document.get("fax_e164") == fax.normalized
    assert not document.get("phone_e164")


def test_webhook_signed_delivery_and_idempotent_redelivery(crm):
    contact = _person()
    run("webhook_sync", [contact])
    assert contact.webhook_sync_processing_status == "Completed", contact.webhook_sync_processing_error
    [delivery] = crm.state()["webhooks"]["deliveries"]
    assert contact.webhook_delivery_id == delivery["id"]
    document = delivery["document"]["contact"]
    assert document["email"] == "anna.mueller@zahnarzt-mueller.de" and document["company_name"] == "Zahnarzt Müller"
    assert None not in document.values()
    run("webhook_sync", [contact], reprocess=True)  # same data: same key, the receiver sees a redelivery
    deliveries = crm.state()["webhooks"]["deliveries"]
    assert len(deliveries) == 1 and deliveries[0]["redeliveries"] == 1
    assert "already delivered" in contact.webhook_sync_detail


def test_webhook_wrong_secret_is_a_config_error(crm, settings):
    settings.WEBHOOK_SYNC_SECRET = "not-the-secret"
    contact = _person()
    run("webhook_sync", [contact])
    assert (contact.webhook_sync_processing_status, contact.webhook_sync_error_class) == ("Error", "config")


@pytest.mark.parametrize("name", ["brevo_sync", "hubspot_sync", "webhook_sync"])
def test_suppressed_contacts_are_never_sent(crm, name):
    contact = _person()
    by_domain = ContactFactory(domain=contact.domain, value="info@zahnarzt-mueller.de")
    SuppressionFactory(kind="email", value="anna.mueller@zahnarzt-mueller.de", reason="opted out by phone")
    run(name, [contact])
    assert getattr(contact, f"{name}_processing_status") == "Error"
    assert getattr(contact, f"{name}_error_class") == "blocked"
    assert "opted out by phone" in getattr(contact, f"{name}_processing_error")
    SuppressionFactory(kind="domain", value="zahnarzt-mueller.de")
    run(name, [by_domain])
    assert getattr(by_domain, f"{name}_error_class") == "blocked"
    state = crm.state()
    assert not state["brevo"]["contacts"] and not state["hubspot"]["contacts"] and not state["webhooks"]["deliveries"]


def test_invalid_contacts_are_not_synced(crm):
    contact = _person()
    Contact.objects.filter(pk=contact.pk).update(validation_result="invalid", validation_reason="NXDOMAIN")
    run("brevo_sync", [contact])
    assert contact.brevo_sync_error_class == "blocked" and "invalid" in contact.brevo_sync_processing_error


@pytest.mark.parametrize("name,setting,message", [
    ("brevo_sync", "BREVO_API_KEY", "BREVO_API_KEY is not set"),
    ("hubspot_sync", "HUBSPOT_ACCESS_TOKEN", "HUBSPOT_ACCESS_TOKEN is not set"),
    ("webhook_sync", "WEBHOOK_SYNC_URL", "WEBHOOK_SYNC_URL is not set"),
])
def test_unconfigured_sync_refuses_to_queue(settings, name, setting, message):
    setattr(settings, setting, "")
    contact = ContactFactory()
    with pytest.raises(services.CurationInputError) as exc:
        services.curation_status_set(workflow=registry.get(name), ids=[contact.pk], status="Selected")
    assert message in exc.value.message and "cannot run" in exc.value.message
    contact.refresh_from_db()
    assert getattr(contact, f"{name}_processing_status") is None
    assert getattr(contact, f"{name}_curation_status") == "New"


def test_a_failure_in_one_destination_leaves_the_others_alone(crm, settings):
    """B-4: each destination has its own statuses; a HubSpot failure retries HubSpot only."""
    contact = _person()
    settings.HUBSPOT_ACCESS_TOKEN = "sandbox-hubspot-token-ratelimited"
    for name in ("brevo_sync", "hubspot_sync", "webhook_sync"):
        services.curation_status_set(workflow=registry.get(name), ids=[contact.pk], status="Selected")
    for name in ("brevo_sync", "hubspot_sync", "webhook_sync"):
        engine.workflow_run(registry.get(name))
    contact.refresh_from_db()
    assert contact.brevo_sync_processing_status == "Completed" and contact.brevo_remote_id
    assert contact.webhook_sync_processing_status == "Completed" and contact.webhook_delivery_id
    assert contact.hubspot_sync_processing_status == "Queued" and contact.hubspot_sync_error_class == "rate_limited"
    assert contact.hubspot_sync_attempts == 1 and contact.brevo_sync_attempts == 1
    brevo_requests = len(crm.requests_to("/brevo"))
    # HubSpot recovers; its retry runs HubSpot only
    settings.HUBSPOT_ACCESS_TOKEN = HUBSPOT_TOKEN
    Contact.objects.filter(pk=contact.pk).update(hubspot_sync_available_at=None)
    engine.workflow_run(registry.get("hubspot_sync"))
    for name in ("brevo_sync", "webhook_sync"):
        engine.workflow_run(registry.get(name))
    contact.refresh_from_db()
    assert contact.hubspot_sync_processing_status == "Completed" and contact.hubspot_remote_id
    assert len(crm.requests_to("/brevo")) == brevo_requests, "Brevo was not called again"
