"""page_contacts_record: stored page HTML → deduplicated contacts with provenance and social links."""
from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from contacts.models import Contact, ContactSource, SocialLink
from contacts.services import contacts_reextract, page_content_extract, page_contacts_record
from curation import registry
from pages.models import PageContent
from scrapersky.sandbox import websites as sandbox_sites
from tests.factories import lease_for
from tests.pages.factories import DomainFactory, PageFactory
from tests.places.factories import LocalBusinessFactory

pytestmark = pytest.mark.django_db

CONTACT_HTML = """<html lang="de"><body>
<p>Mail: <a href="mailto:Info@Baeckerei-Huber.de">info@baeckerei-huber.de</a></p>
<p>Telefon: <a href="tel:+49 30 1234567">030 1234567</a></p>
<p>Inhaberin: Anna Huber, anna.huber@baeckerei-huber.de</p>
<a href="https://www.facebook.com/baeckereihuber">Facebook</a>
<a href="https://www.facebook.com/sharer/sharer.php?u=x">Share</a>
</body></html>"""


def _content(page, html: str, at=None) -> PageContent:
    content, _ = PageContent.objects.update_or_create(page=page, defaults={
        "final_url": page.url, "status_code": 200, "content_type": "text/html", "content_hash": "x" * 64,
        "size_bytes": len(html), "fetched_at": at or timezone.now(), "html": html,
    })
    return content


def test_contacts_with_provenance_and_socials():
    domain = DomainFactory(domain="baeckerei-huber.de")
    page = PageFactory(domain=domain, url="https://baeckerei-huber.de/kontakt")
    result = page_contacts_record(page=page, content=_content(page, CONTACT_HTML))
    contacts = {c.normalized: c for c in Contact.objects.filter(domain=domain)}
    assert set(contacts) == {"info@baeckerei-huber.de", "anna.huber@baeckerei-huber.de", "+49301234567"}
    assert result.contacts_created == 3
    info = contacts["info@baeckerei-huber.de"]
    assert info.kind == "email" and info.is_role and info.on_domain and not info.is_free_provider
    assert not contacts["anna.huber@baeckerei-huber.de"].is_role
    phone = contacts["+49301234567"]
    assert phone.kind == "phone" and phone.certain and phone.number_type
    [source] = info.sources.all()
    assert (source.page_id, source.method, source.still_on_page) == (page.pk, "mailto", True)
    assert contacts["anna.huber@baeckerei-huber.de"].sources.get().method == "text"
    assert phone.sources.get().method == "tel"
    # statuses untouched: new contacts wait for curators
    assert info.contact_validation_curation_status == "New" and info.brevo_sync_processing_status is None
    assert list(SocialLink.objects.filter(domain=domain).values_list("network", "url")) == [
        ("facebook", "https://facebook.com/baeckereihuber")]


def test_fax_numbers_are_stored_as_their_own_kind_and_socials_with_where_they_were_found():
    domain = DomainFactory(domain="kanzlei-berg.de")
    page = PageFactory(domain=domain, url="https://kanzlei-berg.de/kontakt")
    html = ('<html lang="de"><body><header><a href="https://www.xing.com/pages/kanzlei-berg">Xing</a></header>'
            '<p>Telefon: <a href="tel:+49302345678">030 2345678</a></p>'
            '<p>Fax: <a href="tel:+49302345679">030 2345679</a></p>'
            '<footer><a href="https://www.facebook.com/kanzleiberg">Facebook</a></footer></body></html>')
    page_contacts_record(page=page, content=_content(page, html))
    kinds = dict(Contact.objects.filter(domain=domain).values_list("normalized", "kind"))
    assert kinds == {"+49302345678": "phone", "+49302345679": "fax"}
    fax = Contact.objects.get(domain=domain, kind="fax")
    assert fax.sources.get().method == "tel" and fax.certain
    assert set(SocialLink.objects.filter(domain=domain).values_list("url", "network", "location")) == {
        ("https://xing.com/pages/kanzlei-berg", "xing", "header"),
        ("https://facebook.com/kanzleiberg", "facebook", "footer"),
    }


def test_same_contact_on_two_pages_is_one_contact_with_two_sources():
    domain = DomainFactory(domain="baeckerei-huber.de")
    contact_page = PageFactory(domain=domain, url="https://baeckerei-huber.de/kontakt")
    imprint = PageFactory(domain=domain, url="https://baeckerei-huber.de/impressum")
    page_contacts_record(page=contact_page, content=_content(contact_page, CONTACT_HTML))
    page_contacts_record(page=imprint, content=_content(imprint, "<p>E-Mail: info@baeckerei-huber.de</p>"))
    info = Contact.objects.get(normalized="info@baeckerei-huber.de")
    assert Contact.objects.filter(domain=domain, normalized="info@baeckerei-huber.de").count() == 1
    assert sorted(info.sources.values_list("page__url", "method")) == [
        ("https://baeckerei-huber.de/impressum", "text"), ("https://baeckerei-huber.de/kontakt", "mailto")]


def test_rescrape_updates_last_seen_and_still_on_page_and_never_duplicates():
    domain = DomainFactory(domain="baeckerei-huber.de")
    page = PageFactory(domain=domain, url="https://baeckerei-huber.de/kontakt")
    first_at = timezone.now() - timedelta(days=3)
    page_contacts_record(page=page, content=_content(page, CONTACT_HTML, at=first_at))
    info = Contact.objects.get(normalized="info@baeckerei-huber.de")
    Contact.objects.filter(pk=info.pk).update(brevo_sync_curation_status="Selected", brevo_sync_processing_status="Completed")

    later = timezone.now()
    content = _content(page, CONTACT_HTML, at=later)  # the contact_extraction hook, as a worker runs it
    page_content_extract(record=content, lease=lease_for(registry.get("contact_extraction"), content))
    assert Contact.objects.filter(domain=domain).count() == 3
    assert ContactSource.objects.filter(page=page).count() == 3
    source = ContactSource.objects.get(contact=info)
    assert source.first_seen == first_at and source.last_seen == later and source.still_on_page
    info.refresh_from_db()
    assert info.last_seen_at == later and info.first_seen_at == first_at
    assert (info.brevo_sync_curation_status, info.brevo_sync_processing_status) == ("Selected", "Completed")

    # the person's address disappears from the page
    result = page_contacts_record(page=page, content=_content(page, CONTACT_HTML.replace(
        "anna.huber@baeckerei-huber.de", ""), at=later + timedelta(days=1)))
    assert result.sources_gone == 1
    gone = ContactSource.objects.get(contact__normalized="anna.huber@baeckerei-huber.de")
    assert gone.still_on_page is False and gone.last_seen == later
    assert Contact.objects.filter(normalized="anna.huber@baeckerei-huber.de").exists(), "kept, with its history"

    # it comes back
    page_contacts_record(page=page, content=_content(page, CONTACT_HTML, at=later + timedelta(days=2)))
    assert ContactSource.objects.get(contact__normalized="anna.huber@baeckerei-huber.de").still_on_page is True


def test_business_country_reads_national_numbers_and_links_the_business():
    domain = DomainFactory(domain="shop-at.com")
    business = LocalBusinessFactory(domain=domain, country_code="AT")
    page = PageFactory(domain=domain, url="https://shop-at.com/kontakt")
    page_contacts_record(page=page, content=_content(page, "<p>Tel: 01 5123456</p>"))
    phone = Contact.objects.get(domain=domain, kind="phone")
    assert phone.normalized == "+4315123456"
    assert phone.business_id == business.pk
    assert phone.certain is False, "a number in running text is uncertain"


def test_sandbox_contact_page_gives_every_expected_contact():
    host = "index-acme.de"
    site = sandbox_sites.site_for(host)
    domain = DomainFactory(domain=host)
    pages = {}
    for key in ("contact", "team"):
        status, html = sandbox_sites._page(site, site["paths"][key])
        assert status == 200
        pages[key] = PageFactory(domain=domain, url=f"https://{host}{site['paths'][key]}")
        page_contacts_record(page=pages[key], content=_content(pages[key], html))
    page = pages["contact"]
    expected = sandbox_sites.expected_contacts(host)
    emails = set(Contact.objects.filter(domain=domain, kind="email").values_list("normalized", flat=True))
    assert set(expected["emails"]) <= emails
    phones = set(Contact.objects.filter(domain=domain, kind="phone").values_list("normalized", flat=True))
    assert set(expected["phones"]) <= phones
    methods = set(ContactSource.objects.filter(page=page).values_list("method", flat=True))
    assert {"mailto", "cfemail", "obfuscated", "tel"} <= methods
    person = Contact.objects.get(normalized=expected["people"][0]["email"])
    assert person.name == expected["people"][0]["name"]
    assert SocialLink.objects.filter(domain=domain).count() == len(expected["socials"])


def test_reextract_from_stored_content_without_fetching():
    domain = DomainFactory(domain="baeckerei-huber.de")
    page = PageFactory(domain=domain, url="https://baeckerei-huber.de/kontakt")
    _content(page, CONTACT_HTML)
    other = PageFactory(domain=DomainFactory(domain="other.de"), url="https://other.de/kontakt")
    _content(other, "<p>kontakt@other.de</p>")
    result = contacts_reextract(domain_ids=[domain.pk])
    assert result.contacts_created == 3
    assert not Contact.objects.filter(domain__domain="other.de").exists()
    again = contacts_reextract()
    assert again.contacts_created == 1 and again.contacts_updated == 3
    assert Contact.objects.count() == 4


# --- end to end: Selected pages → contacts (page_scrape against the website sandbox) -------------

from tests.pages.conftest import websites, websites_server  # noqa: E402,F401  (fixtures)


def test_selected_pages_become_deduplicated_contacts(websites):
    from curation import engine, registry, services

    host = "acme.de"
    expected = sandbox_sites.expected_contacts(host)
    domain = DomainFactory(domain=host)
    paths = expected["pages"][:6]
    pages = [PageFactory(domain=domain, url=f"https://{host}{path}") for path in paths]
    wf = registry.get("page_scrape")
    services.curation_status_set(workflow=wf, ids=[p.pk for p in pages], status="Selected")
    engine.workflow_run(wf)
    assert engine.workflow_run(registry.get("contact_extraction")).completed == len(pages)
    info = Contact.objects.get(domain=domain, normalized=expected["main_email"])
    assert info.sources.count() >= 2, "one contact, found on several pages"
    assert Contact.objects.filter(domain=domain, normalized=expected["main_email"]).count() == 1
    before = Contact.objects.filter(domain=domain).count()
    services.curation_status_set(workflow=wf, ids=[p.pk for p in pages], status="Selected", reprocess=True)
    engine.workflow_run(wf)
    assert engine.workflow_run(registry.get("contact_extraction")).completed == len(pages)
    assert Contact.objects.filter(domain=domain).count() == before
