"""Pages models and pure services: uniqueness, categories, dates, metadata extraction, direct submission parsing."""
import pytest
from django.db import IntegrityError, transaction

from curation.services import CurationInputError
from pages.categorize import CATEGORIES
from pages.models import PAGE_CATEGORIES, Domain, DomainKind, DomainSource, Page, SitemapFile
from pages.services import domain_submit, domains_from_csv, page_metadata_extract, parse_lastmod
from tests.pages.factories import DomainFactory, PageFactory, SitemapFileFactory

pytestmark = pytest.mark.django_db


def test_sitemap_file_is_unique_per_domain_and_url():
    file = SitemapFileFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        SitemapFile.objects.create(domain=file.domain, url=file.url, discovered_how="robots")
    other = DomainFactory()
    SitemapFile.objects.create(domain=other, url=file.url, discovered_how="robots")  # another domain: allowed


def test_page_is_unique_per_domain_and_url():
    page = PageFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        Page.objects.create(domain=page.domain, url=page.url)


def test_page_confidence_is_a_probability():
    with pytest.raises(IntegrityError), transaction.atomic():
        PageFactory(confidence=1.5)


def test_page_categories_cover_the_categoriser():
    assert {value for value, _ in PAGE_CATEGORIES} == set(CATEGORIES)


def test_new_rows_arrive_with_curation_new_and_no_processing():
    page = PageFactory()
    file = SitemapFileFactory()
    assert page.page_scrape_curation_status == "New" and page.page_scrape_processing_status is None
    assert file.sitemap_import_curation_status == "New" and file.sitemap_import_processing_status is None


@pytest.mark.parametrize("text,expected", [
    ("2025-03-01", "2025-03-01T00:00:00+00:00"),
    ("2025-03-01T10:20:30+02:00", "2025-03-01T10:20:30+02:00"),
    ("2025-03-01T10:20:30Z", "2025-03-01T10:20:30+00:00"),
    ("Tue, 04 Mar 2025 08:00:00 GMT", "2025-03-04T08:00:00+00:00"),
    ("not a date", None),
    ("", None),
    ("1200-01-01", None),
])
def test_parse_lastmod(text, expected):
    value = parse_lastmod(text)
    assert (value.isoformat() if value else None) == expected


def test_page_metadata_extract():
    html = """<!DOCTYPE html><html lang="de-DE"><head><meta charset="utf-8">
    <title>  Kontakt |
      Bäckerei Müller </title>
    <meta name="Description" content="So erreichen Sie uns">
    <link rel="canonical" href="/kontakt">
    </head><body><script>var x = "not words at all in body";</script><h1>Kontakt <small>aufnehmen</small></h1>
    <p>Rufen Sie uns an oder schreiben Sie uns.</p>
    <style>.a{color:red}</style>
    <a href="https://www.facebook.com/baeckerei.mueller">Facebook</a>
    <a href="https://www.facebook.com/sharer/sharer.php?u=x">Share</a>
    <a href="https://instagram.com/baeckerei_mueller/">Instagram</a>
    <a href="/impressum">Impressum</a>
    </body></html>"""
    meta = page_metadata_extract(html, "https://www.mueller.de/kontakt?x=1")
    assert meta["title"] == "Kontakt | Bäckerei Müller"
    assert meta["meta_description"] == "So erreichen Sie uns"
    assert meta["h1"] == "Kontakt aufnehmen"
    assert meta["canonical_url"] == "https://www.mueller.de/kontakt"
    assert meta["language"] == "de-DE"
    assert meta["word_count"] == 14  # h1 (2) + paragraph (8) + 4 link texts; script and style are not words
    assert len(meta["social_links"]) == 2
    assert all("sharer" not in link for link in meta["social_links"])


def test_page_metadata_extract_empty_and_broken():
    empty = page_metadata_extract("", "https://a.com/")
    assert empty == {"title": "", "meta_description": "", "h1": "", "canonical_url": "", "language": "",
                     "word_count": 0, "social_links": []}
    assert page_metadata_extract("<html><body>just text</body></html>", "https://a.com/")["word_count"] == 2
    assert page_metadata_extract('<?xml version="1.0" encoding="utf-8"?><html><head><title>X</title></head></html>',
                                 "https://a.com/")["title"] == "X"


def test_domain_submit_normalises_dedupes_and_reports_errors():
    DomainFactory(domain="known.com")
    result = domain_submit(domains=[
        "example.com", "https://www.Example.com/about?utm_source=x", "HTTPS://www.foo.co.uk/x", "known.com",
        "not a domain", "", "https://www.facebook.com/somebakery", "mailto:info@x.com", "joes-pizza.wixsite.com",
    ], source=DomainSource.DIRECT)
    assert [e["domain"] for e in result.created] == ["example.com", "foo.co.uk", "joes-pizza.wixsite.com"]
    assert [e["domain"] for e in result.existing] == ["known.com"]
    assert [e["input"] for e in result.errors] == ["not a domain", "", "https://www.facebook.com/somebakery",
                                                  "mailto:info@x.com"]
    assert all(e["error"] for e in result.errors)
    assert "social" in result.errors[2]["error"].lower()
    foo = Domain.objects.get(domain="foo.co.uk")
    assert (foo.source, foo.kind, foo.homepage_url) == ("direct", DomainKind.OWN_SITE, "https://www.foo.co.uk")
    assert foo.sitemap_discovery_curation_status == "New" and foo.sitemap_discovery_processing_status is None
    assert Domain.objects.get(domain="joes-pizza.wixsite.com").kind == DomainKind.SITE_BUILDER
    again = domain_submit(domains=["example.com", "foo.co.uk"])
    assert not again.created and len(again.existing) == 2
    assert Domain.objects.filter(domain="example.com").count() == 1


def test_domain_submit_refuses_a_non_list():
    with pytest.raises(CurationInputError):
        domain_submit(domains="example.com")


@pytest.mark.parametrize("data,expected", [
    (b"domain\nexample.com\nfoo.de\n", ["example.com", "foo.de"]),
    (b"\xef\xbb\xbfName;Website\nAcme;https://acme.com\nFoo;foo.de\n", ["https://acme.com", "foo.de"]),
    (b"example.com\nfoo.de\n\n", ["example.com", "foo.de"]),
    ("name,url\nA,a.com\nB,\n", ["a.com", ""]),
])
def test_domains_from_csv(data, expected):
    assert domains_from_csv(data) == expected


@pytest.mark.parametrize("data", [b"", b"   \n", b"\xff\xfe\x00bad"])
def test_domains_from_csv_refuses_empty_or_undecodable(data):
    with pytest.raises(CurationInputError):
        domains_from_csv(data)
