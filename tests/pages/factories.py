"""Factories of the pages models; `FACTORIES` feeds the contract suite (tests/factories.py).

Domains use real-looking registrable names ("shop-3.com"): against the website
sandbox any host name is a site, and its prefix picks the site's shape
("index-acme.de", "nositemap-acme.com", …; see scrapersky/sandbox/websites.py).
"""
from __future__ import annotations

import hashlib
import uuid
from datetime import timedelta

import factory
from django.utils import timezone

from pages.categorize import categorize_url
from pages.models import Domain, DomainKind, DomainSource, Page, PageContent, PageSource, SitemapFile


def _now():
    return timezone.now()


def _states(prefix: str, *, curation: bool = True) -> dict:
    """Traits for a workflow's states: queued, processing (live lease), stuck (expired lease), completed, errored.
    `curation=False`: a processing-only workflow (no curation status to set)."""
    selected = {f"{prefix}_curation_status": "Selected"} if curation else {}
    return {
        "queued": factory.Trait(**selected, **{
            f"{prefix}_processing_status": "Queued",
            f"{prefix}_queued_at": factory.LazyFunction(_now),
            f"{prefix}_available_at": factory.LazyFunction(_now),
        }),
        "processing": factory.Trait(**selected, **{
            f"{prefix}_processing_status": "Processing",
            f"{prefix}_attempts": 1,
            f"{prefix}_lease_token": factory.LazyFunction(uuid.uuid4),
            f"{prefix}_lease_until": factory.LazyFunction(lambda: timezone.now() + timedelta(minutes=5)),
            f"{prefix}_locked_by": "test-host:1:1",
        }),
        "stuck": factory.Trait(**selected, **{
            f"{prefix}_processing_status": "Processing",
            f"{prefix}_attempts": 1,
            f"{prefix}_lease_token": factory.LazyFunction(uuid.uuid4),
            f"{prefix}_lease_until": factory.LazyFunction(lambda: timezone.now() - timedelta(seconds=1)),
            f"{prefix}_locked_by": "dead-host:1:1",
        }),
        "completed": factory.Trait(**selected, **{
            f"{prefix}_processing_status": "Completed",
            f"{prefix}_attempts": 1,
            f"{prefix}_processed_at": factory.LazyFunction(_now),
        }),
        "errored": factory.Trait(**selected, **{
            f"{prefix}_processing_status": "Error",
            f"{prefix}_processing_error": "HTTP 404 from https://example.com/sitemap.xml",
            f"{prefix}_error_class": "http_4xx",
            f"{prefix}_attempts": 1,
            f"{prefix}_processed_at": factory.LazyFunction(_now),
        }),
    }


class DomainFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Domain
        django_get_or_create = ("domain",)

    domain = factory.Sequence(lambda n: f"shop-{n}.com")
    source = DomainSource.DIRECT
    homepage_url = factory.LazyAttribute(lambda o: f"https://{o.domain}")

    Params = type("Params", (), {
        **_states("sitemap_discovery"),
        # a whole host on a shared platform (name.github.io, name.wixsite.com), as places.domains keys it
        "site_builder": factory.Trait(kind=DomainKind.SITE_BUILDER),
    })


class SitemapFileFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SitemapFile

    domain = factory.SubFactory(DomainFactory)
    url = factory.LazyAttributeSequence(lambda o, n: f"https://{o.domain.domain}/sitemap-{n}.xml")
    sitemap_type = "urlset"
    discovered_how = "robots"

    Params = type("Params", (), _states("sitemap_import"))


def _category(o):
    return categorize_url(o.url)


class PageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Page

    domain = factory.SubFactory(DomainFactory)
    url = factory.LazyAttributeSequence(lambda o, n: f"https://{o.domain.domain}/page-{n}")
    source = PageSource.SITEMAP
    category = factory.LazyAttribute(lambda o: _category(o).category)
    confidence = factory.LazyAttribute(lambda o: _category(o).confidence)
    suggested = factory.LazyAttribute(lambda o: _category(o).suggested)
    scrape_priority = factory.LazyAttribute(lambda o: _category(o).priority)

    Params = type("Params", (), _states("page_scrape"))


class PageContentFactory(factory.django.DjangoModelFactory):
    """What page_scrape stores; the input of the processing-only contact_extraction workflow."""

    class Meta:
        model = PageContent

    page = factory.SubFactory(PageFactory)
    final_url = factory.LazyAttribute(lambda o: o.page.url)
    status_code = 200
    content_type = "text/html"
    html = factory.LazyAttribute(lambda o: f"<html><head><title>{o.page.url}</title></head><body></body></html>")
    content_hash = factory.LazyAttribute(lambda o: hashlib.sha256(o.html.encode()).hexdigest())
    size_bytes = factory.LazyAttribute(lambda o: len(o.html.encode()))
    fetched_at = factory.LazyFunction(_now)

    Params = type("Params", (), _states("contact_extraction", curation=False))


FACTORIES = {
    "pages.Domain": DomainFactory,
    "pages.SitemapFile": SitemapFileFactory,
    "pages.Page": PageFactory,
    "pages.PageContent": PageContentFactory,
}
