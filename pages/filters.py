"""API FilterSets of the pages resources: every workflow status filter plus the curators' natural filters.

Registered with the engine (`register_filterset`) so that
`PUT /api/v3/workflows/<name>/status/filtered` accepts exactly these filters
(e.g. select every suggested contact page of a domain). Imported from
`PagesConfig.ready()`, after the workflows are registered.
"""
from __future__ import annotations

import django_filters
from django.db.models import Q

from curation.filters import build_filterset, register_filterset
from pages.models import PAGE_CATEGORIES, DiscoveredHow, Domain, DomainKind, DomainSource, Page, PageSource, SitemapFile, SitemapType


def _non_empty(field: str):
    def method(queryset, name, value):
        if value is None:
            return queryset
        empty = Q(**{field: ""}) | Q(**{f"{field}__isnull": True})
        return queryset.exclude(empty) if value else queryset.filter(empty)

    return method


DomainFilterSet = build_filterset(
    Domain,
    extra={
        "domain": django_filters.CharFilter(field_name="domain", lookup_expr="icontains"),
        "kind": django_filters.MultipleChoiceFilter(choices=DomainKind.choices),
        "source": django_filters.MultipleChoiceFilter(choices=DomainSource.choices),
        "has_sitemap": django_filters.BooleanFilter(field_name="has_sitemap"),
        "has_businesses": django_filters.BooleanFilter(field_name="businesses", lookup_expr="isnull", exclude=True,
                                                       distinct=True, label="Linked to a business"),
    },
    fields={"created_at": ["gte", "lte"], "discovered_at": ["gte", "lte"]},
)

SitemapFileFilterSet = build_filterset(
    SitemapFile,
    extra={
        "domain": django_filters.UUIDFilter(field_name="domain_id", label="Domain (id)"),
        "domain_name": django_filters.CharFilter(field_name="domain__domain", lookup_expr="iexact",
                                                 label="Domain (name)"),
        "url_contains": django_filters.CharFilter(field_name="url", lookup_expr="icontains"),
        "sitemap_type": django_filters.MultipleChoiceFilter(choices=SitemapType.choices),
        "discovered_how": django_filters.MultipleChoiceFilter(choices=DiscoveredHow.choices),
        "parent": django_filters.UUIDFilter(field_name="parent_id", label="Listed by this index (id)"),
        "is_gzip": django_filters.BooleanFilter(field_name="is_gzip"),
        "has_fetch_error": django_filters.BooleanFilter(method=_non_empty("fetch_error"), label="Could not be read"),
    },
    fields={"created_at": ["gte", "lte"]},
)

PageFilterSet = build_filterset(
    Page,
    extra={
        "domain": django_filters.UUIDFilter(field_name="domain_id", label="Domain (id)"),
        "domain_name": django_filters.CharFilter(field_name="domain__domain", lookup_expr="iexact",
                                                 label="Domain (name)"),
        "sitemap_file": django_filters.UUIDFilter(field_name="sitemap_file_id", label="Sitemap file (id)"),
        "url_contains": django_filters.CharFilter(field_name="url", lookup_expr="icontains"),
        "category": django_filters.MultipleChoiceFilter(choices=PAGE_CATEGORIES),
        "suggested": django_filters.BooleanFilter(field_name="suggested"),
        "source": django_filters.MultipleChoiceFilter(choices=PageSource.choices),
        "confidence_min": django_filters.NumberFilter(field_name="confidence", lookup_expr="gte"),
        "scrape_priority": django_filters.NumberFilter(field_name="scrape_priority"),
        "path_depth_max": django_filters.NumberFilter(field_name="path_depth", lookup_expr="lte"),
        "has_content": django_filters.BooleanFilter(field_name="content", lookup_expr="isnull", exclude=True,
                                                    label="Scraped (has content)"),
    },
    fields={"created_at": ["gte", "lte"], "lastmod": ["gte", "lte"]},
)

register_filterset(Domain, DomainFilterSet)
register_filterset(SitemapFile, SitemapFileFilterSet)
register_filterset(Page, PageFilterSet)
