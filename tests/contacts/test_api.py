"""The contacts API: list and filters, exports opened back, suppressions, the enrichment callback."""
from __future__ import annotations

import csv
import io
import json
import uuid

import pytest
from openpyxl import load_workbook
from rest_framework.test import APIClient

from contacts.crm.webhook import sign
from contacts.models import Contact, EnrichmentEvent, Suppression
from tests.contacts.factories import ContactFactory, ContactSourceFactory
from tests.pages.factories import DomainFactory, PageFactory

pytestmark = pytest.mark.django_db
SECRET = "enrich-secret"


def test_list_filters_and_retrieve(api_client):
    domain = DomainFactory(domain="müller-shop.de")
    info = ContactFactory(domain=domain, value="info@muller-shop.de", is_role=True, validation_result="valid")
    person = ContactFactory(domain=domain, value="anna@muller-shop.de", brevo_errored=True)
    ContactSourceFactory(contact=info, page=PageFactory(domain=domain, url="https://muller-shop.de/kontakt",
                                                        category="contact"))
    ContactFactory(phone=True)
    body = api_client.get("/api/v3/contacts/").json()
    assert body["count"] == 3
    assert {"brevo_sync_processing_status", "webhook_sync_error_class", "found_on_count"} <= set(body["results"][0])
    def ids(query):
        return {r["id"] for r in api_client.get(f"/api/v3/contacts/?{query}").json()["results"]}
    assert ids("is_role=true") == {str(info.pk)}
    assert ids("validation_result=valid") == {str(info.pk)}
    assert ids("brevo_sync_processing_status=Error") == {str(person.pk)}
    assert ids("found_on_category=contact") == {str(info.pk)}
    assert ids("kind=email&domain_name=müller-shop.de") == {str(info.pk), str(person.pk)}
    detail = api_client.get(f"/api/v3/contacts/{info.pk}/").json()
    assert detail["sources"][0]["page_url"] == "https://muller-shop.de/kontakt"


def test_auth_required_and_writes_need_permission(viewer_client):
    assert APIClient().get("/api/v3/contacts/").status_code == 401
    assert APIClient().get("/api/v3/contacts/export/").status_code == 401
    assert viewer_client.get("/api/v3/contacts/").status_code == 200
    assert viewer_client.post("/api/v3/suppressions/", {"value": "a@b.de"}, format="json").status_code == 403
    contact = ContactFactory()
    response = viewer_client.put("/api/v3/workflows/brevo_sync/status", {"ids": [str(contact.pk)], "status": "Selected"},
                                 format="json")
    assert response.status_code == 403


def test_filtered_status_uses_the_contact_filters(api_client):
    role = ContactFactory(is_role=True)
    ContactFactory(is_role=False)
    response = api_client.put("/api/v3/workflows/contact_validation/status/filtered",
                              {"filters": {"is_role": True}, "status": "Selected"}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["queued_count"] == 1
    role.refresh_from_db()
    assert role.contact_validation_processing_status == "Queued"


def test_export_csv_has_bom_utf8_and_chosen_columns(api_client):
    domain = DomainFactory(domain="zahnarzt.de")
    contact = ContactFactory(domain=domain, value="jörg@zahnarzt.de", name="Jörg Ñandú", title="=cmd()")
    ContactSourceFactory(contact=contact, page=PageFactory(domain=domain, url="https://zahnarzt.de/kontakt"))
    ContactFactory(phone=True, value="+493012345678")
    response = api_client.get("/api/v3/contacts/export/?format=csv&columns=email,phone,full_name,job_title,"
                              "found_on_urls,methods,still_on_page&kind=email")
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    raw = b"".join(response.streaming_content)
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert rows[0] == ["Email", "Phone (E.164)", "Full name", "Job title", "Found on URLs", "Extraction methods",
                       "Still on page"]
    assert rows[1] == ["jörg@zahnarzt.de", "", "Jörg Ñandú", "'=cmd()", "https://zahnarzt.de/kontakt", "mailto", "yes"]
    assert len(rows) == 2


def test_export_xlsx_opens(api_client):
    ContactFactory(value="info@acme.com")
    ContactFactory(phone=True, value="+14155550123")
    response = api_client.get("/api/v3/contacts/export/?format=xlsx&columns=kind,email,phone")
    assert response.status_code == 200
    workbook = load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    rows = list(workbook.active.iter_rows(values_only=True))
    assert rows[0] == ("Kind", "Email", "Phone (E.164)")
    assert sorted(rows[1:], key=str) == sorted([("email", "info@acme.com", None), ("phone", None, "+14155550123")],
                                               key=str)


def test_export_has_faxes_in_their_own_column(api_client):
    ContactFactory(phone=True, value="+493012345678")
    ContactFactory(fax=True, value="+493012345679")
    response = api_client.get("/api/v3/contacts/export/?format=csv&columns=kind,phone,fax")
    assert response.status_code == 200, response.content
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    assert rows[0] == ["Kind", "Phone (E.164)", "Fax (E.164)"]
    assert sorted(rows[1:]) == [["fax", "", "+493012345679"], ["phone", "+493012345678", ""]]
    assert api_client.get("/api/v3/contacts/?kind=fax").json()["count"] == 1


def test_export_bad_columns_is_a_400_listing_the_allowed_ones(api_client):
    response = api_client.get("/api/v3/contacts/export/?columns=email,shoe_size")
    assert response.status_code == 400
    assert "shoe_size" in response.json()["detail"] and "found_on_urls" in response.json()["detail"]
    assert api_client.get("/api/v3/contacts/export/?format=pdf").status_code == 400


def test_suppressions_create_list_delete(api_client):
    response = api_client.post("/api/v3/suppressions/", {"values": ["Jane@Example.COM", "https://www.shop.co.uk/x",
                                                                    "junk"], "reason": "opt-out"}, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert [(r["kind"], r["value"]) for r in body["created"]] == [("email", "jane@example.com"), ("domain", "shop.co.uk")]
    assert body["errors"][0]["input"] == "junk"
    again = api_client.post("/api/v3/suppressions/", {"value": "jane@example.com"}, format="json")
    assert again.status_code == 200 and again.json()["existing"]
    assert api_client.get("/api/v3/suppressions/").json()["count"] == 2
    entry = Suppression.objects.get(value="jane@example.com")
    assert api_client.delete(f"/api/v3/suppressions/{entry.pk}/").status_code == 204
    assert api_client.post("/api/v3/suppressions/", {"value": "nope"}, format="json").status_code == 400


# --- the enrichment callback -----------------------------------------------------------------

def _post(body: dict | bytes, *, secret=SECRET, header="signature"):
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    headers = {}
    if header == "signature":
        headers["HTTP_X_SCRAPERSKY_SIGNATURE"] = sign(raw, secret)
    elif header == "secret":
        headers["HTTP_X_SCRAPERSKY_SECRET"] = secret
    return APIClient().post("/api/v3/webhooks/enrichment", raw, content_type="application/json", **headers)


@pytest.fixture
def enrichment_secret(settings):
    settings.ENRICHMENT_WEBHOOK_SECRET = SECRET


def _payload(contact, **extra):
    return {"contact_id": str(contact.pk), "enrichment_id": "enr-1", "status": "complete",
            "timestamp": "2025-01-31T12:00:00Z", **extra}


def test_enrichment_refused_when_not_configured(settings):
    settings.ENRICHMENT_WEBHOOK_SECRET = ""
    response = _post(_payload(ContactFactory()), secret="")
    assert response.status_code == 401, "an unconfigured endpoint never accepts a callback"
    assert "ENRICHMENT_WEBHOOK_SECRET" in response.json()["detail"]


def test_enrichment_bad_signature_is_401(enrichment_secret):
    contact = ContactFactory()
    assert _post(_payload(contact), secret="wrong").status_code == 401
    assert _post(_payload(contact), header=None).status_code == 401
    assert "Invalid or missing signature" in _post(_payload(contact), secret="wrong").json()["detail"]
    assert APIClient().get("/api/v3/webhooks/enrichment").status_code == 401
    assert not EnrichmentEvent.objects.exists()


def test_enrichment_unknown_contact_is_404_and_invalid_is_422(enrichment_secret):
    assert _post(_payload(ContactFactory(), contact_id=str(uuid.uuid4()))).status_code == 404
    contact = ContactFactory()
    assert _post(_payload(contact, status="done")).status_code == 422
    assert _post(_payload(contact, enriched_data={"confidence_score": 400})).status_code == 422
    assert _post(b"not json").status_code == 422
    assert _post([1, 2]).status_code == 422


def test_enrichment_writes_only_provided_fields_and_is_idempotent(enrichment_secret):
    contact = ContactFactory(enriched_phone="+4930111")
    body = _payload(contact, enriched_data={
        "company": {"name": "Acme GmbH", "industry": "Dental"},
        "social_profiles": {"linkedin": "https://linkedin.com/company/acme"},
        "confidence_score": 80,
    }, metadata={"api_calls_made": 3})
    response = _post(body, header="secret")
    assert response.status_code == 200, response.content
    result = response.json()
    assert result["success"] and not result["duplicate"]
    assert result["updated_fields"] == ["enriched_company", "enriched_social_profiles", "enrichment_confidence",
                                        "enrichment_metadata"]
    contact.refresh_from_db()
    assert contact.enriched_company == {"name": "Acme GmbH", "industry": "Dental"}
    assert contact.enriched_phone == "+4930111", "not provided: untouched"
    assert (contact.enrichment_status, contact.last_enrichment_id, contact.enrichment_confidence) == (
        "complete", "enr-1", 80)
    # redelivery: 200, nothing changes
    Contact.objects.filter(pk=contact.pk).update(enriched_company={"name": "changed by a curator"})
    again = _post(body)
    assert again.status_code == 200 and again.json()["duplicate"] is True
    contact.refresh_from_db()
    assert contact.enriched_company == {"name": "changed by a curator"}
    assert EnrichmentEvent.objects.count() == 1
    # the same id for another contact is refused
    assert _post(_payload(ContactFactory())).status_code == 422


def test_csv_export_is_streamed(api_client):
    ContactFactory.create_batch(3)
    response = api_client.get("/api/v3/contacts/export/?format=csv&columns=email")
    assert response.status_code == 200 and response.streaming
    assert not hasattr(response, "file_to_stream") or response.file_to_stream is None, "no file written first"
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    assert len(rows) == 4
