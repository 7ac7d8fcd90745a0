"""contact_extraction: the processing-only workflow on what page_scrape stored (one parse → metadata + contacts)."""
from __future__ import annotations

from datetime import timedelta

import pytest

from contacts.models import Contact, ContactSource
from contacts.services import page_content_extract, page_content_extraction_queue
from curation import engine, registry, services
from curation.lease import LeaseLost
from pages.models import PageContent
from tests.factories import lease_for
from tests.pages.factories import DomainFactory, PageContentFactory, PageFactory

pytestmark = pytest.mark.django_db

HTML = """<html lang="de"><head><title>Kontakt | Bäckerei Huber</title>
<meta name="description" content="So erreichen Sie uns"><link rel="canonical" href="/kontakt"></head>
<body><h1>Kontakt</h1><p>Mail: <a href="mailto:info@baeckerei-huber.de">info@baeckerei-huber.de</a></p>
<p>Telefon: <a href="tel:+49 30 1234567">030 1234567</a></p>
<a href="https://www.facebook.com/baeckereihuber">Facebook</a></body></html>"""


@pytest.fixture
def wf():
    return registry.get("contact_extraction")


def _content(html: str = HTML, **kwargs) -> PageContent:
    page = PageFactory(domain=DomainFactory(domain="baeckerei-huber.de"), url="https://baeckerei-huber.de/kontakt")
    return PageContentFactory(page=page, html=html, **kwargs)


def test_declared_processing_only_after_the_scrape(wf):
    assert (wf.model, wf.curation, wf.after) == ("pages.PageContent", False, "page_scrape")
    assert registry.get("contact_validation").after == "contact_extraction"


def test_extraction_writes_metadata_and_contacts_through_the_lease(wf):
    content = _content(queued=True)
    report = engine.workflow_run(wf)
    assert (report.completed, report.errored) == (1, 0)
    content.refresh_from_db()
    assert content.contact_extraction_processing_status == "Completed"
    assert (content.title, content.h1, content.language) == ("Kontakt | Bäckerei Huber", "Kontakt", "de")
    assert content.meta_description == "So erreichen Sie uns"
    assert content.canonical_url == "https://baeckerei-huber.de/kontakt"
    assert content.social_links == ["https://facebook.com/baeckereihuber"] and content.word_count > 3
    found = set(Contact.objects.filter(domain=content.page.domain).values_list("kind", "normalized"))
    assert found == {("email", "info@baeckerei-huber.de"), ("phone", "+49301234567")}
    assert ContactSource.objects.filter(page=content.page).count() == 2


def test_a_non_html_content_keeps_empty_metadata_but_gives_its_contacts(wf):
    content = _content("Write to info@baeckerei-huber.de", content_type="text/plain", queued=True)
    assert engine.workflow_run(wf).completed == 1
    content.refresh_from_db()
    assert content.title == "" and content.word_count == 0
    assert Contact.objects.filter(normalized="info@baeckerei-huber.de").exists()


def test_the_scrape_hands_over_by_queueing_again_whatever_the_state(wf):
    content = _content(completed=True)
    assert page_content_extraction_queue(page=content.page, content=content) is True
    content.refresh_from_db()
    assert content.contact_extraction_processing_status == "Queued" and content.contact_extraction_attempts == 0


def test_content_replaced_mid_extraction_discards_the_stale_run(wf):
    """A page scraped again while its old content is being extracted: the run in flight loses its lease and
    writes nothing; the new content is extracted instead."""
    content = _content(HTML.replace("info@", "old@"))
    stale = lease_for(wf, content, worker="worker-1")
    # page_scrape stores the new content (inside its own transaction) and hands it over
    PageContent.objects.filter(pk=content.pk).update(html=HTML)
    page_content_extraction_queue(page=content.page, content=content)
    with pytest.raises(LeaseLost):
        page_content_extract(record=content, lease=stale)
    assert not Contact.objects.exists(), "the stale run wrote contacts of the old content"
    assert PageContent.objects.get(pk=content.pk).title == ""
    assert engine.workflow_run(wf).completed == 1
    assert list(Contact.objects.filter(kind="email").values_list("normalized", flat=True)) == [
        "info@baeckerei-huber.de"]


def test_stale_extraction_cannot_overwrite_the_newer_result(wf):
    content = _content()
    stale = lease_for(wf, content, worker="worker-1")
    services.processing_rescue(workflow=wf, now=stale.deadline + timedelta(seconds=1))
    page_content_extract(record=PageContent.objects.get(pk=content.pk), lease=lease_for(wf, content, worker="worker-2"))
    PageContent.objects.filter(pk=content.pk).update(title="kept")
    with pytest.raises(LeaseLost):
        page_content_extract(record=PageContent.objects.get(pk=content.pk), lease=stale)
    assert PageContent.objects.get(pk=content.pk).title == "kept"
    assert PageContent.objects.get(pk=content.pk).contact_extraction_processing_status == "Completed"
