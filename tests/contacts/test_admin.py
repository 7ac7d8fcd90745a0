"""Contacts admin: change list with filters, provenance inline, export actions, the suppression form."""
from __future__ import annotations

import csv
import io

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.urls import reverse
from openpyxl import load_workbook

from contacts.models import Suppression
from tests.contacts.factories import ContactFactory, ContactSourceFactory
from tests.pages.factories import PageFactory

pytestmark = pytest.mark.django_db
CHANGELIST = "admin:contacts_contact_changelist"


def test_changelist_filters_and_detail(admin_client):
    role = ContactFactory(value="info@acme.com", is_role=True, validation_result="valid")
    personal = ContactFactory(value="anna@acme.com")
    ContactSourceFactory(contact=role, page=PageFactory(domain=role.domain, url="https://acme.com/contact",
                                                        category="contact"))
    url = reverse(CHANGELIST)
    page = admin_client.get(url)
    assert page.status_code == 200
    for action in ("brevo_sync__selected", "hubspot_sync__retry_errors", "webhook_sync__rerun",
                   "contact_validation__selected", "export_csv", "export_xlsx", "export_choose_columns"):
        assert action.encode() in page.content
    for query, shown, hidden in [("role=role", role, personal), ("role=personal", personal, role),
                                 ("validation=valid", role, personal), ("found_on=contact", role, personal),
                                 ("kind__exact=email", role, None), (f"domain={role.domain_id}", role, None)]:
        content = admin_client.get(f"{url}?{query}").content
        assert shown.normalized.encode() in content, query
        if hidden is not None:
            assert hidden.normalized.encode() not in content, query
    detail = admin_client.get(reverse("admin:contacts_contact_change", args=[role.pk]))
    assert detail.status_code == 200
    assert b"https://acme.com/contact" in detail.content and b"found on (provenance)" in detail.content.lower()


def test_selected_queues_through_the_action(admin_client):
    contact = ContactFactory()
    response = admin_client.post(reverse(CHANGELIST), {ACTION_CHECKBOX_NAME: [str(contact.pk)],
                                                       "action": "webhook_sync__selected", "index": 0})
    assert response.status_code == 302
    contact.refresh_from_db()
    assert contact.webhook_sync_processing_status == "Queued" and contact.brevo_sync_processing_status is None


def test_export_actions(admin_client):
    contact = ContactFactory(value="jörg@acme.com", name="Jörg")
    csv_response = admin_client.post(reverse(CHANGELIST), {ACTION_CHECKBOX_NAME: [str(contact.pk)],
                                                           "action": "export_csv", "index": 0})
    raw = b"".join(csv_response.streaming_content)
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
    assert rows[0]["Email"] == "jörg@acme.com" and rows[0]["Full name"] == "Jörg"
    xlsx = admin_client.post(reverse(CHANGELIST), {ACTION_CHECKBOX_NAME: [str(contact.pk)],
                                                   "action": "export_xlsx", "index": 0})
    sheet = load_workbook(io.BytesIO(b"".join(xlsx.streaming_content))).active
    assert sheet.cell(row=2, column=2).value == "jörg@acme.com"
    # choose columns: first the form, then the file
    form = admin_client.post(reverse(CHANGELIST), {ACTION_CHECKBOX_NAME: [str(contact.pk)],
                                                   "action": "export_choose_columns", "index": 0})
    assert form.status_code == 200 and b'name="columns"' in form.content
    chosen = admin_client.post(reverse(CHANGELIST), {ACTION_CHECKBOX_NAME: [str(contact.pk)],
                                                     "action": "export_choose_columns", "apply": "1",
                                                     "columns": ["domain", "email"], "format": "csv", "index": 0})
    lines = b"".join(chosen.streaming_content).decode("utf-8-sig").splitlines()
    assert lines == ["Domain,Email", f"{contact.domain.domain},jörg@acme.com"]


def test_suppression_form_normalises(admin_client, admin_user):
    response = admin_client.post(reverse("admin:contacts_suppression_add"),
                                 {"value": "https://www.Example.co.uk/contact", "reason": "complaint"})
    assert response.status_code == 302, response.content
    entry = Suppression.objects.get()
    assert (entry.kind, entry.value, entry.created_by) == ("domain", "example.co.uk", admin_user)
    bad = admin_client.post(reverse("admin:contacts_suppression_add"), {"value": "co.uk"})
    assert bad.status_code == 200 and b"public suffix" in bad.content


def test_contact_rows_link_to_their_business_and_the_pages_they_were_found_on(admin_client):
    from tests.places.factories import LocalBusinessFactory

    business = LocalBusinessFactory()
    contact = ContactFactory(value="info@linked.example", business=business)
    source = ContactSourceFactory(contact=contact, page=PageFactory(domain=contact.domain,
                                                                    url="https://linked.example/kontakt"))
    content = admin_client.get(reverse(CHANGELIST)).content.decode()
    assert reverse("admin:places_localbusiness_change", args=[business.pk]) in content
    pages_url = f"{reverse('admin:pages_page_changelist')}?contact={contact.pk}"
    assert pages_url in content
    detail = admin_client.get(reverse("admin:contacts_contact_change", args=[contact.pk])).content.decode()
    assert pages_url in detail and "1 page(s)" in detail
    assert reverse("admin:pages_page_change", args=[source.page.pk]) in detail, "provenance links to the page row"
    filtered = admin_client.get(reverse(CHANGELIST), {"page": str(source.page.pk)})
    assert list(filtered.context["cl"].queryset) == [contact]
    assert "linked.example/kontakt" in filtered.content.decode(), "the applied filter names the page"
