"""The original's record routes and odd ones out (reference §5.1), as its clients send them (issue #13):
`POST /sitemap-files/`, `GET|PUT|DELETE /sitemap-files/{id}`, `POST /contacts/`, `PUT /contacts/{id}`,
`GET /scan/status/{job_id}`, `GET /localminer-discoveryscan/debug/info` and
`POST /localminer-discoveryscan/places/staging/batch`."""
from __future__ import annotations

import json
import uuid

import pytest

from contacts.models import Contact, ContactSource
from curation import registry
from curation.models import CurationEvent
from pages.models import Domain, SitemapFile
from places.models import Place
from tests.contacts.factories import ContactFactory, ContactSourceFactory
from tests.factories import put_in_state
from tests.pages.factories import DomainFactory, PageFactory, SitemapFileFactory
from tests.places.factories import PlaceFactory, PlaceSearchFactory

pytestmark = pytest.mark.django_db

SITEMAP_READ = {"id", "domain_id", "sitemap_url", "status", "url_count", "deep_scrape_curation_status",
                "domain_name", "created_at", "updated_at", "created_by", "updated_by", "file_path",
                "error_message", "processing_time"}
CONTACT_READ = {"id", "domain_id", "page_id", "email", "email_type", "has_gmail", "context", "source_url", "name",
                "phone_number", "source_job_id", "contact_curation_status", "contact_processing_status",
                "hubspot_sync_status", "brevo_sync_status", "mautic_sync_status", "n8n_sync_status",
                "debounce_validation_status", "debounce_result"}


# --- WF5: sitemap-file records ----------------------------------------------------------------------------

def test_sitemap_file_create_as_the_original_client_sends_it(api_client):
    domain = DomainFactory(domain="bakery-one.com")
    body = {"domain_id": str(domain.pk), "sitemap_url": "https://www.bakery-one.com/sitemap.xml",
            "status": "Pending", "url_count": 0}  # pydantic clients send the defaults
    response = api_client.post("/api/v3/sitemap-files/", body, format="json")
    assert response.status_code == 201, response.content
    created = response.json()
    assert SITEMAP_READ <= set(created)
    assert (created["sitemap_url"], created["domain_id"], created["domain_name"],
            created["deep_scrape_curation_status"], created["status"]) == \
        ("https://www.bakery-one.com/sitemap.xml", str(domain.pk), "bakery-one.com", "New", "Pending")
    row = SitemapFile.objects.get(pk=created["id"])
    assert (row.domain_id, row.discovered_how, row.sitemap_import_processing_status) == (domain.pk, "submitted", None)
    again = api_client.post("/api/v3/sitemap-files", body, format="json")  # the unslashed form too
    assert again.status_code == 409 and again.json()["existing"] == [created["id"]]
    assert SitemapFile.objects.count() == 1


@pytest.mark.parametrize("body, message", [
    ({"domain_id": "<drop>", "sitemap_url": "https://bakery-one.com/sitemap.xml"}, "domain_id"),
    ({"domain_id": "not-a-uuid", "sitemap_url": "https://bakery-one.com/sitemap.xml"}, "domain_id"),
    ({"domain_id": None, "sitemap_url": "ftp://bakery-one.com/sitemap.xml"}, "domain_id"),
    ({"sitemap_url": "https://bakery-one.com/about"}, "not a sitemap URL"),
    ({"sitemap_url": "https://other-shop.com/sitemap.xml"}, "is not on bakery-one.com"),
    ({}, "sitemap_url"),
    ({"sitemap_url": ["https://bakery-one.com/sitemap.xml"]}, "sitemap_url"),
])
def test_sitemap_file_create_refuses_bad_input_with_a_400_and_creates_nothing(api_client, body, message):
    domain = DomainFactory(domain="bakery-one.com")
    body = {k: v for k, v in {"domain_id": str(domain.pk), **body}.items() if v != "<drop>"}
    response = api_client.post("/api/v3/sitemap-files/", body, format="json")
    assert response.status_code == 400, response.content
    assert message in response.json()["detail"]
    assert not SitemapFile.objects.exists()


def test_sitemap_file_record_read_unslashed_is_the_original_slashed_is_ours(api_client):
    row = SitemapFileFactory(errored=True)
    original = api_client.get(f"/api/v3/sitemap-files/{row.pk}")
    assert original.status_code == 200
    assert SITEMAP_READ <= set(original.json()) and original.json()["sitemap_url"] == row.url
    assert original.json()["sitemap_import_status"] == "Error"
    ours = api_client.get(f"/api/v3/sitemap-files/{row.pk}/")
    assert ours.status_code == 200 and "sitemap_url" not in ours.json() and ours.json()["url"] == row.url
    missing = api_client.get(f"/api/v3/sitemap-files/{uuid.uuid4()}")
    assert missing.status_code == 404 and "not found" in missing.json()["detail"]


def test_sitemap_file_update_selects_through_the_status_service(api_client):
    row, twin = SitemapFileFactory(), SitemapFileFactory()
    response = api_client.put(f"/api/v3/sitemap-files/{row.pk}", {"deep_scrape_curation_status": "Selected"},
                              format="json")
    assert response.status_code == 200, response.content
    assert (response.json()["deep_scrape_curation_status"], response.json()["sitemap_import_status"]) == \
        ("Selected", "Queued")
    # exactly as our own API queues its twin
    ours = api_client.put("/api/v3/workflows/sitemap_import/status", {"ids": [str(twin.pk)], "status": "Selected"},
                          format="json")
    assert ours.status_code == 200
    fields = ("sitemap_import_curation_status", "sitemap_import_processing_status")
    assert SitemapFile.objects.filter(pk=row.pk).values_list(*fields).get() == \
        SitemapFile.objects.filter(pk=twin.pk).values_list(*fields).get() == ("Selected", "Queued")
    assert CurationEvent.objects.filter(object_id=str(row.pk), curation_to="Selected", source="api").exists()
    # a read-modify-write client sends the whole record back: unchanged fields are fine, on the slashed path too
    record = api_client.get(f"/api/v3/sitemap-files/{row.pk}").json()
    record["deep_scrape_curation_status"] = "Not a Fit"
    rejected = api_client.put(f"/api/v3/sitemap-files/{row.pk}/", record, format="json")
    assert rejected.status_code == 200, rejected.content
    assert rejected.json()["deep_scrape_curation_status"] == "Not a Fit"
    row.refresh_from_db()
    assert (row.sitemap_import_curation_status, row.sitemap_import_processing_status) == ("Rejected", None)


@pytest.mark.parametrize("body, message", [
    ({}, "No update data provided"),
    ({"sitemap_url": "https://elsewhere.com/sitemap.xml", "deep_scrape_curation_status": "Selected"}, "identity"),
    ({"url_count": 999}, "workers"),
    ({"deep_scrape_curation_status": "Bogus"}, "Unknown status"),
    ({"deep_scrape_curation_status": ["Selected"]}, "Unknown status"),
    (["deep_scrape_curation_status"], "JSON object"),
])
def test_sitemap_file_update_bad_input_is_a_400_that_changes_nothing(api_client, body, message):
    row = SitemapFileFactory()
    response = api_client.put(f"/api/v3/sitemap-files/{row.pk}", body, format="json")
    assert response.status_code == 400, response.content
    assert message in response.json()["detail"]
    row.refresh_from_db()
    assert (row.sitemap_import_curation_status, row.sitemap_import_processing_status) == ("New", None)


def test_sitemap_file_delete_needs_the_permission_and_spares_a_file_being_imported(
        curator_client, operator_client):
    row, busy = SitemapFileFactory(), SitemapFileFactory(processing=True)
    page = PageFactory(domain=row.domain, sitemap_file=row)
    assert curator_client.delete(f"/api/v3/sitemap-files/{row.pk}").status_code == 403
    conflict = operator_client.delete(f"/api/v3/sitemap-files/{busy.pk}")
    assert conflict.status_code == 409 and "try again" in conflict.json()["detail"]
    assert operator_client.delete(f"/api/v3/sitemap-files/{row.pk}/").status_code == 204, "the slashed form too"
    assert list(SitemapFile.objects.values_list("pk", flat=True)) == [busy.pk]
    page.refresh_from_db()
    assert page.sitemap_file_id is None, "its pages stay"


# --- WF8: contact records -----------------------------------------------------------------------------

def test_contact_create_with_email_and_phone_records_manual_provenance(api_client, admin_user):
    domain = DomainFactory(domain="bakery-one.com")
    page = PageFactory(domain=domain, url="https://bakery-one.com/contact")
    body = {"email": " Owner@Bakery-One.com ", "phone_number": "+1 (512) 555-0142", "name": "Ann Owner",
            "domain_id": str(domain.pk), "page_id": str(page.pk), "email_type": "FREE", "has_gmail": True,
            "context": "typed in", "source_url": "https://bakery-one.com/contact", "source_job_id": None}
    response = api_client.post("/api/v3/contacts/", body, format="json")
    assert response.status_code == 201, response.content
    created = response.json()
    assert CONTACT_READ <= set(created)
    assert (created["email"], created["name"], created["page_id"], created["source_url"],
            created["contact_curation_status"], created["email_type"], created["has_gmail"]) == \
        ("owner@bakery-one.com", "Ann Owner", str(page.pk), page.url, "New", "CORPORATE", False), \
        "email_type and has_gmail are derived here"
    email = Contact.objects.get(pk=created["id"])
    phone = Contact.objects.get(pk=created["phone_contact_id"])
    assert (email.kind, email.normalized, email.on_domain) == ("email", "owner@bakery-one.com", True)
    assert (phone.kind, phone.normalized) == ("phone", "+15125550142")
    assert set(ContactSource.objects.values_list("contact_id", "page_id", "method")) == \
        {(email.pk, page.pk, "manual"), (phone.pk, page.pk, "manual")}
    events = CurationEvent.objects.filter(note="created by hand", source="api", actor=admin_user)
    assert set(events.values_list("object_id", flat=True)) == {str(email.pk), str(phone.pk)}
    duplicate = api_client.post("/api/v3/contacts", {"email": "owner@bakery-one.com", "domain_id": str(domain.pk)},
                                format="json")
    assert duplicate.status_code == 409 and duplicate.json()["existing"] == [str(email.pk)]
    assert Contact.objects.count() == 2


@pytest.mark.parametrize("body, message", [
    ({"email": "not an address"}, "not a valid address"),
    ({"email": "ok@bakery-one.com", "phone_number": "555-0142"}, "country code"),
    ({"name": "Nobody"}, "email or phone_number is required"),
    ({"email": "ok@bakery-one.com", "domain_id": str(uuid.uuid4())}, "no domain"),
    ({"email": "ok@bakery-one.com", "page_id": "other-domain"}, "is not on bakery-one.com"),
])
def test_contact_create_refuses_bad_input_with_a_400_and_creates_nothing(api_client, body, message):
    domain = DomainFactory(domain="bakery-one.com")
    body = {"domain_id": str(domain.pk), **body}
    if body.get("page_id") == "other-domain":
        body["page_id"] = str(PageFactory(domain=DomainFactory(domain="other-shop.com")).pk)
    response = api_client.post("/api/v3/contacts/", body, format="json")
    assert response.status_code == 400, response.content
    assert message in response.json()["detail"]
    assert not Contact.objects.exists() and not CurationEvent.objects.exists()


def test_contact_create_needs_the_add_permission_an_operator_holds(curator_client, operator_client):
    domain = DomainFactory()
    body = {"email": f"a@{domain.domain}", "domain_id": str(domain.pk)}
    assert curator_client.post("/api/v3/contacts/", body, format="json").status_code == 403
    assert not Contact.objects.exists()
    assert operator_client.post("/api/v3/contacts/", body, format="json").status_code == 201
    assert list(Contact.objects.values_list("value", flat=True)) == [f"a@{domain.domain}"]


def test_contact_update_renames_and_queues_through_the_status_services(api_client, settings):
    settings.BREVO_API_KEY, settings.BREVO_BASE_URL = "key", "https://brevo.invalid/v3"
    contact = ContactFactory(name="")
    ContactSourceFactory(contact=contact)
    record = api_client.get(f"/api/v3/contacts/{contact.pk}").json()
    record.update(name="Ann Owner", contact_curation_status="Queued", brevo_sync_status="Selected")
    response = api_client.put(f"/api/v3/contacts/{contact.pk}", record, format="json")  # the whole record back
    assert response.status_code == 200, response.content
    assert (response.json()["name"], response.json()["contact_curation_status"],
            response.json()["debounce_validation_status"], response.json()["brevo_sync_status"]) == \
        ("Ann Owner", "Queued", "Queued", "Queued")
    contact.refresh_from_db()
    assert (contact.name, contact.contact_validation_processing_status, contact.brevo_sync_processing_status) == \
        ("Ann Owner", "Queued", "Queued")
    assert set(CurationEvent.objects.filter(object_id=str(contact.pk)).values_list("workflow", "curation_to")) == \
        {("contact_validation", "Selected"), ("brevo_sync", "Selected")}


@pytest.mark.parametrize("body, message", [
    ({"email": "someone-else@example.org", "name": "X"}, "identity"),
    ({"phone_number": "+15125550142", "name": "X"}, "identity"),
    ({"brevo_sync_status": "Complete", "name": "X"}, "set by the workers"),
    ({"contact_processing_error": "boom", "name": "X"}, "set by the workers"),
    ({"contact_curation_status": "Complete", "name": "X"}, "Unknown status"),
    ({"mautic_sync_status": "Selected", "name": "X"}, "set by the workers"),  # it never had a worker (B-24)
    ({"brevo_sync_status": ["Selected"], "name": "X"}, "set by the workers"),
    ({"contact_curation_status": {"a": 1}, "name": "X"}, "Unknown status"),
    ({"name": 5}, "name must be a string"),
])
def test_contact_update_bad_input_is_a_400_that_changes_nothing(api_client, body, message):
    contact = ContactFactory(name="Before")
    response = api_client.put(f"/api/v3/contacts/{contact.pk}", body, format="json")
    assert response.status_code == 400, response.content
    assert message in response.json()["detail"]
    contact.refresh_from_db()
    assert (contact.name, contact.normalized, contact.hubspot_sync_curation_status,
            contact.contact_validation_processing_status) == ("Before", contact.value.lower(), "New", None)


def test_contact_record_routes_answer_on_both_slash_forms_and_need_their_permissions(
        api_client, viewer_client, curator_client):
    contact = ContactFactory(name="Before")
    assert viewer_client.put(f"/api/v3/contacts/{contact.pk}", {"name": "X"}, format="json").status_code == 403
    renamed = curator_client.put(f"/api/v3/contacts/{contact.pk}/", {"name": "After"}, format="json")
    assert renamed.status_code == 200 and renamed.json()["name"] == "After", "PUT on the slashed form: the original"
    assert "normalized" in viewer_client.get(f"/api/v3/contacts/{contact.pk}/").json(), "GET slashed: ours"
    put_in_state(registry.get("brevo_sync"), [contact], processing="Processing", curation="Selected")
    busy = api_client.delete(f"/api/v3/contacts/{contact.pk}")
    assert busy.status_code == 409 and Contact.objects.filter(pk=contact.pk).exists()


def test_a_rescrape_does_not_mark_a_manual_source_gone(api_client):
    from contacts.services import page_contacts_record
    from pages.models import PageContent

    domain = DomainFactory(domain="bakery-one.com")
    page = PageFactory(domain=domain, url="https://bakery-one.com/contact")
    created = api_client.post("/api/v3/contacts/", {"email": "ann@bakery-one.com", "domain_id": str(domain.pk),
                                                    "page_id": str(page.pk)}, format="json")
    assert created.status_code == 201
    content = PageContent.objects.create(page=page, final_url=page.url, status_code=200, content_hash="0" * 64,
                                         fetched_at=page.created_at, html="<p>No contacts here.</p>")
    page_contacts_record(page=page, content=content)
    assert ContactSource.objects.get(method="manual").still_on_page is True


# --- WF8: the email scanner's job status ----------------------------------------------------------------

def test_scan_status_answers_a_sitemap_scan_job_in_the_original_shape(api_client):
    started = api_client.post("/api/v3/sitemap/scan", {"base_url": "https://bakery-one.com", "max_pages": 100},
                              format="json")
    assert started.status_code == 202
    job_id = started.json()["job_id"]
    for path in (f"/api/v3/scan/status/{job_id}", f"/api/v3/scan/status/{job_id}/"):
        response = api_client.get(path, follow=False)
        assert response.status_code == 200, (path, response.status_code)
        body = response.json()
        assert set(body) == {"job_id", "status", "progress", "domain_id", "created_by", "result_data", "error",
                             "job_metadata", "created_at", "updated_at"}
        assert (body["job_id"], body["status"], body["progress"], body["domain_id"]) == \
            (job_id, "pending", 0.0, job_id)
        assert body["result_data"]["domain"] == "bakery-one.com" and body["result_data"]["contacts_found"] == 0
    put_in_state(registry.get("sitemap_discovery"), [Domain.objects.get(pk=job_id)], processing="Error")
    failed = api_client.get(f"/api/v3/scan/status/{job_id}").json()
    assert (failed["status"], failed["progress"]) == ("failed", 1.0) and failed["error"]


def test_scan_status_answers_a_place_search_and_404s_json_for_anything_else(api_client):
    search = PlaceSearchFactory()
    put_in_state(registry.get("place_search"), [search], processing="Completed", curation=None)
    body = api_client.get(f"/api/v3/scan/status/{search.pk}").json()
    assert (body["job_id"], body["status"], body["progress"], body["job_metadata"]["job_type"]) == \
        (str(search.pk), "complete", 1.0, "places_search")
    missing = api_client.get(f"/api/v3/scan/status/{uuid.uuid4()}")
    assert missing.status_code == 404 and missing.json() == {"detail": "Scan job not found"}
    assert api_client.get("/api/v3/scan/status/not-a-uuid").status_code == 404
    assert api_client.get("/api/v3/scan/status/not-a-uuid")["Content-Type"].startswith("application/json")


# --- WF1: debug info and the Results Viewer's batch update ---------------------------------------------------

def test_debug_info_is_the_operators_and_tells_queues_versions_and_broker_but_no_secret(
        settings, operator_client, curator_client):
    settings.GOOGLE_MAPS_API_KEY = "AIza-very-secret-key"
    settings.BREVO_API_KEY = "brevo-very-secret-key"
    SitemapFileFactory(queued=True)
    assert curator_client.get("/api/v3/localminer-discoveryscan/debug/info").status_code == 403
    for path in ("/api/v3/localminer-discoveryscan/debug/info", "/api/v3/localminer-discoveryscan/debug/info/"):
        response = operator_client.get(path)
        assert response.status_code == 200, (path, response.status_code)
    body = response.json()
    queues = {q["workflow"]: q for q in body["queues"]}
    assert set(queues) == {wf.name for wf in registry.all_workflows()}
    assert (queues["sitemap_import"]["queued"], queues["sitemap_import"]["processing"]) == (1, 0)
    assert body["broker"]["kind"] in ("orm", "redis") and body["api_key_status"] == "CONFIGURED"
    assert body["versions"]["django"] and body["versions"]["django_q2"]
    text = json.dumps(body)
    for secret in ("very-secret", settings.SECRET_KEY, settings.DATABASES["default"]["NAME"], "/work/", "postgres"):
        assert secret not in text


def test_results_viewer_batch_update_is_the_staging_status_update(api_client):
    places = PlaceFactory.create_batch(2)
    twin = PlaceFactory()
    body = {"place_ids": [p.place_id for p in places], "status": "Selected", "tenant_id": "default-tenant"}
    response = api_client.post("/api/v3/localminer-discoveryscan/places/staging/batch", body, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["success"] is True
    assert (response.json()["updated_count"], response.json()["queued_count"]) == (2, 2)
    ours = api_client.put("/api/v3/places/staging/status", {"place_ids": [twin.place_id], "status": "Selected"},
                          format="json")
    assert ours.status_code == 200
    states = set(Place.objects.values_list("deep_scan_curation_status", "deep_scan_processing_status"))
    assert states == {("Selected", "Queued")}, "the batch route queues exactly as PUT /places/staging/status"
    # the handler's own shape: a list of places, each with its status (all or nothing)
    listed = [{"place_id": places[0].place_id, "status": "Not a Fit"}, {"id": str(places[1].pk), "status": "Maybe"}]
    again = api_client.post("/api/v3/localminer-discoveryscan/places/staging/batch/", listed, format="json")
    assert again.status_code == 200 and again.json()["updated_count"] == 2
    assert dict(Place.objects.filter(pk__in=[p.pk for p in places]).values_list("place_id", "deep_scan_curation_status")) \
        == {places[0].place_id: "Rejected", places[1].place_id: "Maybe"}


@pytest.mark.parametrize("body, message", [
    ({"place_ids": ["ChIJnope"], "status": "Selected"}, "not found"),
    ({"place_ids": [], "status": "Selected"}, "non-empty"),
    ({"place_ids": ["<first>"], "status": "approved"}, "Unknown status"),
    ([{"place_id": "<first>", "status": "Selected"}, {"status": "Maybe"}], "place_id"),
    ([{"place_id": "<first>", "status": "Selected"}, {"place_id": "ChIJnope", "status": "Maybe"}], "not found"),
    ("Selected", "Send"),
    ({"place_ids": ["<first>"], "status": ["Selected"]}, "status must be a string"),
    ([{"place_id": "<first>", "status": {"x": 1}}], "status must be a string"),
    ([{"place_id": ["<first>"], "status": "Maybe"}], "place_id"),
])
def test_results_viewer_batch_update_bad_input_is_a_400_that_changes_nothing(api_client, body, message):
    place = PlaceFactory()
    text = json.dumps(body).replace("<first>", place.place_id)
    response = api_client.post("/api/v3/localminer-discoveryscan/places/staging/batch", text,
                               content_type="application/json")
    assert response.status_code == 400, response.content
    assert message in response.json()["detail"]
    place.refresh_from_db()
    assert (place.deep_scan_curation_status, place.deep_scan_processing_status) == ("New", None)


def test_results_viewer_batch_update_needs_the_change_permission(viewer_client, curator_client):
    place = PlaceFactory()
    body = {"place_ids": [place.place_id], "status": "Maybe"}
    assert viewer_client.post("/api/v3/localminer-discoveryscan/places/staging/batch", body,
                              format="json").status_code == 403
    assert curator_client.post("/api/v3/localminer-discoveryscan/places/staging/batch", body,
                               format="json").status_code == 200
