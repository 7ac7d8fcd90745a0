"""The original WF8 contact routes (reference §3 WF8, §5.1/§5.2), as its clients (the React app, n8n) send them."""
from __future__ import annotations

import uuid

import pytest
from rest_framework.test import APIClient

from contacts.models import Contact
from curation import registry
from tests.contacts.factories import ContactFactory, ContactSourceFactory
from tests.factories import put_in_state

pytestmark = pytest.mark.django_db

SECRET = "n8n-shared-secret-123"


@pytest.fixture
def crms_configured(settings):
    settings.BREVO_API_KEY, settings.BREVO_BASE_URL = "key", "https://brevo.invalid/v3"
    settings.HUBSPOT_ACCESS_TOKEN, settings.HUBSPOT_BASE_URL = "token", "https://hubspot.invalid"
    settings.WEBHOOK_SYNC_URL, settings.WEBHOOK_SYNC_SECRET = "https://n8n.invalid/hook", "secret"
    return settings


def test_contacts_list_is_a_bare_list_with_the_original_names_and_filters(api_client):
    info = ContactFactory(value="info@bakery-one.com", is_role=True)
    source = ContactSourceFactory(contact=info)
    gmail = ContactFactory(value="owner@gmail.com", on_domain=False, is_free_provider=True, name="Ann Owner")
    phone = ContactFactory(phone=True)
    put_in_state(registry.get("brevo_sync"), [gmail], processing="Completed", curation="Selected")
    rows = api_client.get("/api/v3/contacts", {"limit": 100, "offset": 0}).json()
    assert isinstance(rows, list) and len(rows) == 3, "a plain list, as the original (no total)"
    by_id = {r["id"]: r for r in rows}
    first = by_id[str(info.pk)]
    assert (first["email"], first["email_type"], first["has_gmail"], first["phone_number"]) == \
        ("info@bakery-one.com", "SERVICE", False, None)
    assert first["page_id"] == str(source.page_id) and first["source_url"] == source.page.url
    assert (first["contact_curation_status"], first["brevo_sync_status"], first["mautic_sync_status"]) == \
        ("New", "New", "New")
    assert by_id[str(gmail.pk)]["brevo_sync_status"] == "Complete" and by_id[str(gmail.pk)]["has_gmail"] is True
    assert by_id[str(phone.pk)]["email"] is None and by_id[str(phone.pk)]["phone_number"] == phone.normalized
    filtered = api_client.get("/api/v3/contacts", {"has_gmail": "true", "name_contains": "ann"}).json()
    assert [r["id"] for r in filtered] == [str(gmail.pk)]
    assert [r["id"] for r in api_client.get("/api/v3/contacts", {"email_type": "SERVICE"}).json()] == [str(info.pk)]
    assert [r["id"] for r in api_client.get("/api/v3/contacts", {"brevo_sync_status": "Complete"}).json()] == \
        [str(gmail.pk)]
    assert [r["id"] for r in api_client.get("/api/v3/contacts", {"page_id": str(source.page_id)}).json()] == \
        [str(info.pk)]
    assert api_client.get("/api/v3/contacts", {"email_type": "BOGUS"}).status_code == 400
    assert set(api_client.get("/api/v3/contacts/").json()) == {"count", "next", "previous", "results"}, "ours"


def test_contact_status_route_is_reachable_and_queued_means_validation(api_client):
    rows = ContactFactory.create_batch(2)
    response = api_client.put("/api/v3/contacts/status", {"contact_ids": [str(r.pk) for r in rows],
                                                          "status": "Queued"}, format="json")
    assert response.status_code == 200, "not shadowed by contacts/{id} (the original's B-2)"
    assert response.json()["queued_count"] == 2
    assert set(Contact.objects.values_list("contact_validation_processing_status", flat=True)) == {"Queued"}
    listed = api_client.get("/api/v3/contacts").json()
    assert {(r["contact_curation_status"], r["debounce_validation_status"]) for r in listed} == {("Queued", "Queued")}
    skipped = api_client.put("/api/v3/contacts/status/filtered",
                             {"status": "Skipped", "email_contains": rows[0].normalized}, format="json")
    assert skipped.status_code == 200 and skipped.json()["dequeued_count"] == 1
    assert api_client.put("/api/v3/contacts/status", {"contact_ids": [str(rows[0].pk)], "status": "Complete"},
                          format="json").status_code == 400, "the system's states are not settable"


def test_crm_select_queues_each_destination_workflow(api_client, crms_configured):
    contact = ContactFactory()
    response = api_client.put("/api/v3/contacts/crm/select", {"contact_ids": [str(contact.pk)],
                                                              "crms": ["brevo", "n8n"], "action": "select"},
                              format="json")
    assert response.status_code == 200, response.content
    assert response.json()["queued_count"] == 2 and response.json()["crms"] == ["brevo", "n8n"]
    contact.refresh_from_db()
    assert (contact.brevo_sync_processing_status, contact.webhook_sync_processing_status,
            contact.hubspot_sync_processing_status) == ("Queued", "Queued", None)
    unselect = api_client.put("/api/v3/contacts/crm/select", {"contact_ids": [str(contact.pk)], "crms": ["brevo"],
                                                              "action": "unselect"}, format="json")
    assert unselect.status_code == 200
    contact.refresh_from_db()
    assert (contact.brevo_sync_curation_status, contact.brevo_sync_processing_status) == ("New", None)
    mautic = api_client.put("/api/v3/contacts/crm/select", {"contact_ids": [str(contact.pk)], "crms": ["mautic"]},
                            format="json")
    assert mautic.status_code == 400 and "mautic" in mautic.json()["detail"]


def test_crm_select_refuses_an_unconfigured_destination(api_client, settings):
    settings.BREVO_API_KEY = ""
    contact = ContactFactory()
    response = api_client.put("/api/v3/contacts/crm/select", {"contact_ids": [str(contact.pk)], "crms": ["brevo"]},
                              format="json")
    assert response.status_code == 400 and "BREVO_API_KEY" in response.json()["detail"]


def test_validate_reports_like_the_original(api_client):
    fresh, done, busy = ContactFactory.create_batch(3)
    wf = registry.get("contact_validation")
    put_in_state(wf, [done], processing="Completed", curation="Selected")
    put_in_state(wf, [busy], processing="Processing", curation="Selected")
    response = api_client.post("/api/v3/contacts/validate",
                               {"contact_ids": [str(fresh.pk), str(done.pk), str(busy.pk), "nope",
                                                str(uuid.uuid4())]}, format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["success"], body["queued_count"], body["already_processing"], body["already_validated"]) == \
        (True, 1, 1, 1)
    assert len(body["invalid_ids"]) == 2
    states = dict(Contact.objects.values_list("pk", "contact_validation_processing_status"))
    assert (states[fresh.pk], states[done.pk], states[busy.pk]) == ("Queued", "Completed", "Processing")


def test_validate_all_with_the_original_filters(api_client):
    target = ContactFactory(value="sales@target-shop.com")
    other = ContactFactory(value="info@other-shop.com")
    response = api_client.post("/api/v3/contacts/validate/all",
                               {"filters": {"search_email": "target", "validation_status": "not_validated"},
                                "max_contacts": 100}, format="json")
    assert response.status_code == 200 and response.json()["queued_count"] == 1
    states = dict(Contact.objects.values_list("pk", "contact_validation_processing_status"))
    assert (states[target.pk], states[other.pk]) == ("Queued", None)
    assert api_client.post("/api/v3/contacts/validate/all", {"filters": {"first_name": "x"}},
                           format="json").status_code == 400, "a clear 400, not the original's 500 (B-9)"


def test_validation_status_and_summary_are_reachable(api_client):
    valid = ContactFactory(validation_result="valid")
    ContactFactory(validation_result="invalid")
    ContactFactory()
    status = api_client.get("/api/v3/contacts/validation-status", {"contact_ids": f"{valid.pk},nope"})
    assert status.status_code == 200, "not shadowed by contacts/{id} (B-2)"
    assert status.json()["contacts"][0]["debounce_result"] == "valid" and status.json()["invalid_ids"] == ["nope"]
    summary = api_client.get("/api/v3/contacts/validation-summary").json()
    assert (summary["total"], summary["valid"], summary["invalid"], summary["not_validated"]) == (3, 1, 1, 1)


def test_one_contact_unslashed_is_the_original_item_and_delete_needs_the_permission(api_client, curator_client):
    contact = ContactFactory()
    body = api_client.get(f"/api/v3/contacts/{contact.pk}").json()
    assert body["id"] == str(contact.pk) and body["email"] == contact.normalized
    assert "normalized" in api_client.get(f"/api/v3/contacts/{contact.pk}/").json(), "slashed: our own contact"
    assert curator_client.delete(f"/api/v3/contacts/{contact.pk}").status_code == 403
    assert api_client.delete(f"/api/v3/contacts/{contact.pk}").status_code == 204
    assert not Contact.objects.exists()
    assert api_client.get(f"/api/v3/contacts/{contact.pk}").status_code == 404


# --- n8n -------------------------------------------------------------------------------------------------------

def test_n8n_enrichment_callback_with_the_bearer_secret(settings):
    settings.ENRICHMENT_WEBHOOK_SECRET = SECRET
    contact = ContactFactory()
    body = {"contact_id": str(contact.pk), "enrichment_id": "enr-1", "status": "complete",
            "timestamp": "2026-11-27T00:00:00Z",
            "enriched_data": {"phone": "+1 512 555 0100", "company": {"name": "Bakery One"}},
            "metadata": {"enrichment_duration_seconds": 2.5, "api_calls_made": 3, "cost_estimate": 0.01}}
    client = APIClient()
    assert client.post("/api/v3/webhooks/n8n/enrichment-complete", body, format="json").status_code == 401
    client.credentials(HTTP_AUTHORIZATION="Bearer wrong")
    assert client.post("/api/v3/webhooks/n8n/enrichment-complete", body, format="json").status_code == 401
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {SECRET}")
    response = client.post("/api/v3/webhooks/n8n/enrichment-complete", body, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["success"] is True and response.json()["enrichment_id"] == "enr-1"
    contact.refresh_from_db()
    assert (contact.enrichment_status, contact.enriched_company["name"]) == ("complete", "Bakery One")
    again = client.post("/api/v3/webhooks/n8n/enrichment-complete/", body, format="json")
    assert again.status_code == 200 and again.json()["duplicate"] is True, "idempotent on enrichment_id"
    unknown = client.post("/api/v3/webhooks/n8n/enrichment-complete", {**body, "contact_id": str(uuid.uuid4()),
                                                                        "enrichment_id": "enr-2"}, format="json")
    assert unknown.status_code == 404
    assert client.post("/api/v3/webhooks/n8n/enrichment-complete", {"status": "complete"},
                       format="json").status_code == 422
    health = client.get("/api/v3/webhooks/n8n/health")
    assert health.status_code == 200 and health.json()["status"] == "healthy"


def test_n8n_routes_refuse_everything_when_no_secret_is_configured(settings):
    settings.ENRICHMENT_WEBHOOK_SECRET = ""
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Bearer ")
    assert client.get("/api/v3/webhooks/n8n/health").status_code == 401
