"""`manage.py demo`: the whole chain in-process against the sandbox (real HTTP on loopback, sandbox DNS)."""
from __future__ import annotations

import csv
import io
import re

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command

from contacts.models import Contact
from curation.models import CurationEvent
from pages.models import Domain
from scrapersky.sandbox.websites import expected_contacts

pytestmark = [pytest.mark.django_db, pytest.mark.slow]

STAGES = ["place_search", "deep_scan", "domain_extraction", "sitemap_discovery", "sitemap_import", "page_scrape",
          "contact_extraction", "contact_validation", "brevo_sync", "webhook_sync"]


def run_demo(tmp_path, *args):
    out = io.StringIO()
    output = tmp_path / "demo-contacts.csv"
    call_command("demo", "--max", "5", "--output", str(output), *args, stdout=out)
    return out.getvalue(), output


def summary_rows(text: str) -> dict:
    summary = text.split("Summary", 1)[1]
    rows = {}
    for line in summary.splitlines():
        match = re.match(r"\s+([a-z_]+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+([\d.]+)", line)
        if match:
            rows[match[1]] = tuple(int(v) for v in match.groups()[1:5])
    return rows


def test_demo_runs_the_whole_chain_and_exports_the_contacts(tmp_path):
    before = (settings.FETCH_HOST_MAP, settings.CONTACTS_DNS_RESOLVER_FACTORY if hasattr(
        settings, "CONTACTS_DNS_RESOLVER_FACTORY") else None, settings.WEBHOOK_SYNC_URL)
    text, output = run_demo(tmp_path)

    rows = summary_rows(text)
    assert list(rows) == STAGES, text
    for stage, (count, completed, errors, waiting) in rows.items():
        assert count > 0 and completed == count and errors == 0 and waiting == 0, (stage, text)
    assert rows["deep_scan"][0] == 5
    assert "validation used the sandbox DNS" in text
    assert f"→ {output}" in text

    data = output.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf"), "UTF-8 with BOM (Excel)"
    table = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))
    assert table[0].keys() >= {"Kind", "Email", "Phone (E.164)", "Domain", "Validation", "Source URL"}
    assert len(table) >= 10 and len(table) == Contact.objects.count()
    assert {row["Validation"] for row in table} == {"valid"}, "the sandbox DNS answers MX for the sandbox's domains"

    domain = Domain.objects.filter(kind="own_site").order_by("domain").first()
    expected = expected_contacts(domain.domain)
    exported = {row["Email"] for row in table if row["Domain"] == domain.domain and row["Email"]}
    assert set(expected["emails"]) <= exported, (expected["emails"], exported)
    phones = {row["Phone (E.164)"] for row in table if row["Domain"] == domain.domain and row["Phone (E.164)"]}
    assert set(expected["phones"]) <= phones

    synced = Contact.objects.filter(kind="email").exclude(brevo_remote_id="")
    assert synced.count() == Contact.objects.filter(kind="email").count()
    assert not Contact.objects.filter(webhook_delivery_id="").exists()
    assert CurationEvent.objects.filter(source="demo", workflow="deep_scan").count() == 5, "audited as source=demo"

    after = (settings.FETCH_HOST_MAP, settings.CONTACTS_DNS_RESOLVER_FACTORY if hasattr(
        settings, "CONTACTS_DNS_RESOLVER_FACTORY") else None, settings.WEBHOOK_SYNC_URL)
    assert after == before, "the sandbox settings apply to the demo only"


def test_a_second_demo_skips_what_is_done_unless_reprocess(tmp_path):
    run_demo(tmp_path)
    text, output = run_demo(tmp_path)
    assert "already done (--reprocess to run them again)" in text
    assert summary_rows(text)["deep_scan"] == (5, 5, 0, 0)
    assert output.read_bytes().count(b"\n") > 10
    text, _ = run_demo(tmp_path, "--reprocess")
    assert "5 row(s) marked Selected → 5 queued" in text


def test_demo_shows_a_stage_problem_and_goes_on(tmp_path):
    text, output = run_demo(tmp_path, "--query", "zahnarzt", "--location", "Nowhere Island")
    assert "skipped: nothing to select" in text
    assert "Summary" in text and output.exists()


def test_demo_refuses_a_real_google_key(settings, tmp_path):
    settings.GOOGLE_MAPS_API_KEY = "AIza-real-key"
    with pytest.raises(CommandError, match="--allow-real"):
        run_demo(tmp_path)


def test_sandbox_dns_answers_only_for_the_sandbox_domains():
    import dns.resolver

    from contacts.validation import validate_email_address
    from scrapersky.sandbox.dns import make_resolver, sandbox_mail_domains

    assert "rookmere-dental.com" in sandbox_mail_domains()
    check = validate_email_address("info@rookmere-dental.com", resolver=make_resolver())
    assert check.deliverability == "deliverable" and check.mx_hosts[0] == "mx1.rookmere-dental.com"
    assert validate_email_address("a@not-in-the-sandbox.example", resolver=make_resolver()).deliverability \
        == "undeliverable"
    with pytest.raises(dns.resolver.NXDOMAIN):
        make_resolver().resolve("example.com", "MX")
