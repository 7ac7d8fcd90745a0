"""manage.py export_contacts and reextract_contacts."""
from __future__ import annotations

import csv
import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone
from openpyxl import load_workbook

from contacts.models import Contact
from pages.models import PageContent
from tests.contacts.factories import ContactFactory
from tests.pages.factories import DomainFactory, PageFactory

pytestmark = pytest.mark.django_db


def test_export_csv_to_a_file_with_filters(tmp_path):
    ContactFactory(value="ok@acme.com", brevo_completed=True)
    ContactFactory(value="todo@acme.com")
    path = tmp_path / "out.csv"
    out = io.StringIO()
    call_command("export_contacts", "--columns", "email,curation_status", "--output", str(path),
                 "--workflow-status", "brevo_sync=Completed", stdout=out)
    assert "1 contact(s) exported" in out.getvalue()
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert rows == [["Email", "Curation status"], ["ok@acme.com", "New"]]


def test_export_xlsx_and_filter_option(tmp_path):
    ContactFactory(value="info@acme.com", is_role=True)
    ContactFactory(value="anna@acme.com")
    path = tmp_path / "out.xlsx"
    call_command("export_contacts", "--format", "xlsx", "--filter", "is_role=true", "--output", str(path),
                 stdout=io.StringIO())
    rows = list(load_workbook(path).active.iter_rows(values_only=True))
    assert len(rows) == 2 and "info@acme.com" in rows[1]


def test_export_errors():
    with pytest.raises(CommandError, match="shoe_size"):
        call_command("export_contacts", "--columns", "shoe_size")
    with pytest.raises(CommandError, match="Unknown filter"):
        call_command("export_contacts", "--filter", "colour=red")
    with pytest.raises(CommandError, match="WORKFLOW=STATUS"):
        call_command("export_contacts", "--workflow-status", "nope=Error")


def test_reextract_contacts():
    domain = DomainFactory(domain="acme.com")
    page = PageFactory(domain=domain, url="https://acme.com/contact")
    PageContent.objects.create(page=page, final_url=page.url, status_code=200, content_hash="0" * 64,
                               fetched_at=timezone.now(), html='<a href="mailto:info@acme.com">mail</a>')
    out = io.StringIO()
    call_command("reextract_contacts", "--domain", "acme.com", stdout=out)
    assert "1 contact(s) created" in out.getvalue()
    call_command("reextract_contacts", stdout=out)
    assert Contact.objects.filter(domain=domain).count() == 1
    with pytest.raises(CommandError, match="Unknown domain"):
        call_command("reextract_contacts", "--domain", "nope.com")
