"""The sync hooks in batches against the CRM sandbox over real HTTP: one vendor call for many contacts,
one outcome per contact, idempotency keys per contact and content version."""
from __future__ import annotations

import pytest

from contacts.crm import ContactPayload
from contacts.crm.common import idempotency_key
from contacts.crm.hubspot import HubSpotClient
from contacts.crm.webhook import WebhookClient
from contacts.models import Contact
from contacts.services import contact_payloads
from curation import engine, registry
from scrapersky.sandbox.crm import HUBSPOT_TOKEN, WEBHOOK_SECRET
from tests.contacts.factories import ContactFactory
from tests.contacts.test_workflows import crm, run  # noqa: F401 - the fixture
from tests.pages.factories import DomainFactory

pytestmark = pytest.mark.django_db


def _emails(n: int, domain: str = "batch.example") -> list[Contact]:
    site = DomainFactory(domain=domain)
    return [ContactFactory(domain=site, value=f"person{i}@{domain}") for i in range(n)]


def test_hubspot_sends_100_per_call_and_a_refused_contact_fails_alone(crm):
    contacts = _emails(150)
    rejected = ContactFactory(domain=contacts[0].domain, value="owner@rejected.example")
    report = run("hubspot_sync", [*contacts, rejected])
    calls = crm.requests_to("/hubspot/crm/v3/objects/contacts/batch/upsert")
    assert [len(c["body"]["inputs"]) for c in calls] == [100, 51], "HubSpot's batch limit, one call per 100"
    assert (report.completed, report.errored) == (150, 1)
    assert {c.hubspot_sync_processing_status for c in contacts} == {"Completed"}
    assert len({c.hubspot_remote_id for c in contacts}) == 150, "each row got its own HubSpot id"
    stored = {c["properties"]["email"]: c["id"] for c in crm.state()["hubspot"]["contacts"]}
    assert all(stored[c.normalized] == c.hubspot_remote_id for c in contacts), "results landed on the right rows"
    assert (rejected.hubspot_sync_processing_status, rejected.hubspot_sync_error_class) == ("Error", "http_4xx")
    assert "rejected by a portal rule" in rejected.hubspot_sync_processing_error
    assert all(c["body"]["inputs"][0]["objectWriteTraceId"] for c in calls)


def test_hubspot_batch_refused_as_a_whole_is_resent_one_by_one(crm_sandbox):
    good = [ContactPayload(contact_id=f"c{i}", kind="email", email=f"p{i}@ok.example") for i in range(3)]
    bad = ContactPayload(contact_id="bad", kind="email", email="not-an-email@nowhere")
    with HubSpotClient(base_url=crm_sandbox.hubspot_url, access_token=HUBSPOT_TOKEN, max_retries=0) as client:
        results = client.upsert_contacts([*good, bad])
    assert {key: type(v).__name__ for key, v in results.items()} == {
        "c0": "SyncResult", "c1": "SyncResult", "c2": "SyncResult", "bad": "PermanentError"}
    assert "invalid" in results["bad"].message
    sizes = [len(r["body"]["inputs"]) for r in crm_sandbox.requests_to("/hubspot/crm/v3/objects/contacts/batch")]
    assert sizes == [4, 1, 1, 1, 1], "the refused batch, then one call per contact"


def test_brevo_imports_a_batch_and_a_contact_brevo_skips_fails_alone(crm):
    contacts = _emails(5)
    phone = ContactFactory(phone=True, domain=contacts[0].domain, value="+4930555000", name="Person 3")
    Contact.objects.filter(pk=contacts[3].pk).update(name="Person 3")
    Contact.objects.filter(pk=contacts[4].pk).update(name="Person 4")
    ContactFactory(phone=True, domain=contacts[0].domain, value="+4930555001", name="Person 4")
    # Brevo already has another contact with Person 4's number: its import row is skipped by Brevo
    crm.app.brevo_contacts["other@elsewhere.example"] = {
        "id": 999, "email": "other@elsewhere.example", "attributes": {"SMS": "+4930555001"}, "listIds": [],
        "createdAt": "2020-01-01T00:00:00.000Z", "modifiedAt": "2020-01-01T00:00:00.000Z"}
    report = run("brevo_sync", [*contacts, phone])
    imports = crm.requests_to("/brevo/v3/contacts/import")
    assert len(imports) == 1 and len(imports[0]["body"]["jsonBody"]) == 5, "one import, no per-contact calls"
    assert not [r for r in crm.requests_to("/brevo/v3/contacts") if r["method"] == "POST" and
                r["path"] == "/brevo/v3/contacts"]
    assert (report.completed, report.errored) == (5, 1)
    stored = {c["email"]: c for c in crm.state()["brevo"]["contacts"]}
    for contact in contacts[:4]:
        assert contact.brevo_sync_processing_status == "Completed"
        assert contact.brevo_remote_id == str(stored[contact.normalized]["id"])
    assert stored[contacts[3].normalized]["attributes"]["SMS"] == "+4930555000"
    skipped = contacts[4]
    assert (skipped.brevo_sync_processing_status, skipped.brevo_sync_error_class) == ("Error", "http_4xx")
    assert "skipped" in skipped.brevo_sync_processing_error
    assert phone.brevo_sync_processing_status == "Completed" and phone.brevo_sync_detail.startswith("Skipped")


def test_each_contact_is_retried_on_its_own(crm, settings):
    contacts = _emails(3)
    settings.BREVO_LIST_IDS = []  # no list: one upsert per contact, some of them rate-limited
    crm.app.brevo_contacts.clear()
    settings.BREVO_API_KEY = "sandbox-brevo-key-ratelimited-once"
    run("brevo_sync", contacts)
    assert {c.brevo_sync_processing_status for c in contacts} == {"Queued"}
    assert {c.brevo_sync_attempts for c in contacts} == {1}
    # the rate limit is over for these requests: the retry completes them, each once
    Contact.objects.filter(pk__in=[c.pk for c in contacts[:2]]).update(brevo_sync_available_at=None)
    engine.workflow_run(registry.get("brevo_sync"))  # two are due again, the third still backs off
    for contact in contacts:
        contact.refresh_from_db()
    assert [c.brevo_sync_processing_status for c in contacts] == ["Completed", "Completed", "Queued"]
    assert len(crm.state()["brevo"]["contacts"]) == 2


def test_webhook_delivers_an_array_with_one_key_per_contact_and_content_version(crm):
    contacts = _emails(3)
    run("webhook_sync", contacts)
    [request] = crm.requests_to("/webhook/sync")
    items = request["body"]["contacts"]
    payloads = contact_payloads(list(Contact.objects.select_related("domain", "business")
                                     .filter(pk__in=[c.pk for c in contacts])))
    assert sorted(i["id"] for i in items) == sorted(idempotency_key(p) for p in payloads.values())
    deliveries = {d["idempotency_key"]: d for d in crm.state()["webhooks"]["deliveries"]}
    assert {c.webhook_delivery_id for c in contacts} == {d["id"] for d in deliveries.values()}
    # the same data again (a re-run after a lost lease): every item is a redelivery at the receiver
    run("webhook_sync", contacts, reprocess=True)
    assert all(d["redeliveries"] == 1 for d in crm.state()["webhooks"]["deliveries"])
    assert all("already delivered" in c.webhook_sync_detail for c in contacts)
    # changed data is a new content version: a new key, a new delivery for that contact only
    Contact.objects.filter(pk=contacts[0].pk).update(title="Owner")
    run("webhook_sync", contacts, reprocess=True)
    assert len(crm.state()["webhooks"]["deliveries"]) == 4


def test_a_fax_number_is_never_sent_as_a_phone(crm_sandbox):
    fax = ContactPayload(contact_id="f1", kind="fax", fax_e164="+4930123499")
    assert "fax number" in HubSpotClient.unsupported(fax)
    with WebhookClient(url=crm_sandbox.webhook_url("sync"), secret=WEBHOOK_SECRET, max_retries=0) as client:
        results = client.send_many("contacts.synced", [(idempotency_key(fax), fax)])
    assert results["f1"].remote_id.startswith("dlv_")
    [delivery] = crm_sandbox.state()["webhooks"]["deliveries"]
    assert delivery["document"]["contact"] == {"contact_id": "f1", "kind": "fax", "fax_e164": "+4930123499"}


def test_payloads_take_a_fixed_number_of_queries_for_rows_loaded_without_their_relations(django_assert_max_num_queries):
    """The sync hooks get the engine's rows (no domain or business loaded) and do not read them again: the
    payloads of 30 contacts over 3 sites cost the same few queries as those of one."""
    from tests.contacts.factories import ContactSourceFactory
    from tests.places.factories import LocalBusinessFactory

    sites = [DomainFactory(domain=f"site{i}.example") for i in range(3)]
    business = LocalBusinessFactory(domain=sites[0], name="Praxis Eins", city="Berlin", phone_e164="+4930111111")
    other = LocalBusinessFactory(domain=sites[2], name="Second Site Co")
    contacts = [ContactFactory(domain=sites[i % 3], name=f"Ana Person{i}") for i in range(30)]
    Contact.objects.filter(pk=contacts[2].pk).update(business=other)
    ContactFactory(phone=True, domain=sites[0], value="+4930555123", name="Ana Person0")
    source = ContactSourceFactory(contact=contacts[0])
    rows = list(Contact.objects.filter(pk__in=[c.pk for c in contacts]))  # what the engine hands a hook
    with django_assert_max_num_queries(4):  # domains, businesses, own phones, sources
        payloads = contact_payloads(rows)
    first = payloads[contacts[0].pk]
    assert (first.company_name, first.city, first.business_phone_e164) == ("Praxis Eins", "Berlin", "+4930111111")
    assert (first.phone_e164, first.source_url, first.domain) == ("+4930555123", source.page.url, "site0.example")
    assert payloads[contacts[2].pk].company_name == "Second Site Co", "the contact's own business wins"
    assert payloads[contacts[1].pk].company_name is None and payloads[contacts[1].pk].domain == "site1.example"
    assert business.pk != other.pk


def test_a_payloads_present_fields_are_computed_once_and_handed_out_as_copies():
    payload = ContactPayload(contact_id="c1", kind="email", email=" a@b.example ", full_name="", city=None)
    first = payload.present()
    first["email"] = "changed"
    assert payload.present() == {"contact_id": "c1", "kind": "email", "email": "a@b.example"}
    assert payload.present() is not payload.present()
    assert payload == ContactPayload(contact_id="c1", kind="email", email=" a@b.example ", full_name="", city=None)
