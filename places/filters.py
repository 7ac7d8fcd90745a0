"""API FilterSets of the places resources: every workflow status filter plus the curators' fast filters.

Registered with the engine (`register_filterset`) so that
`PUT /api/v3/workflows/<name>/status/filtered` accepts exactly these filters.
Imported from `PlacesConfig.ready()`, after the workflows are registered.
"""
from __future__ import annotations

import django_filters
from django.db.models import Count, Q

from curation.filters import build_filterset, register_filterset
from places.models import BusinessStatus, LocalBusiness, Place, PlaceSearch, WebsiteKind


def _non_empty(field: str):
    def method(queryset, name, value):
        if value is None:
            return queryset
        empty = Q(**{field: ""}) | Q(**{f"{field}__isnull": True})
        return queryset.exclude(empty) if value else queryset.filter(empty)

    return method


def chain_domains(model=Place, field: str = "website_domain"):
    """Website domains shared by several rows of `model` (a chain or franchise)."""
    return (model.objects.exclude(**{field: ""}).values(field).annotate(n=Count("pk")).filter(n__gt=1)
            .values_list(field, flat=True))


def _chain(queryset, name, value):
    if value is None:
        return queryset
    shared = Q(website_domain__in=chain_domains())
    return queryset.filter(shared) if value else queryset.exclude(shared)


def _place_category(queryset, name, value):
    if not value:
        return queryset
    return queryset.filter(Q(primary_type=value) | Q(types__icontains=f'"{value}"'))


def _business_category(queryset, name, value):
    if not value:
        return queryset
    return queryset.filter(Q(primary_category=value) | Q(categories__icontains=f'"{value}"'))


def _found_by(queryset, name, value):
    if not value:
        return queryset
    return queryset.filter(search_results__search_id=value)


PlaceFilterSet = build_filterset(
    Place,
    extra={
        "has_website": django_filters.BooleanFilter(method=_non_empty("website"), label="Has a website"),
        "has_phone": django_filters.BooleanFilter(method=_non_empty("phone"), label="Has a phone number"),
        "business_status": django_filters.MultipleChoiceFilter(choices=BusinessStatus.choices),
        "rating_min": django_filters.NumberFilter(field_name="rating", lookup_expr="gte"),
        "rating_max": django_filters.NumberFilter(field_name="rating", lookup_expr="lte"),
        "ratings_min": django_filters.NumberFilter(field_name="user_rating_count", lookup_expr="gte"),
        "category": django_filters.CharFilter(method=_place_category, label="Category (Google place type)"),
        "place_search": django_filters.UUIDFilter(method=_found_by, label="Found by this place search (id)"),
        "chain": django_filters.BooleanFilter(method=_chain, label="Same website as other places (chain)"),
        "website_domain": django_filters.CharFilter(field_name="website_domain", lookup_expr="iexact"),
        "has_business": django_filters.BooleanFilter(field_name="business", lookup_expr="isnull", exclude=True,
                                                     label="Deep-scanned into a business"),
    },
    fields={"place_id": ["exact"], "last_seen_at": ["gte", "lte"], "first_seen_at": ["gte", "lte"]},
)

LocalBusinessFilterSet = build_filterset(
    LocalBusiness,
    extra={
        "has_website": django_filters.BooleanFilter(method=_non_empty("website"), label="Has a website"),
        "has_phone": django_filters.BooleanFilter(method=_non_empty("phone_e164"), label="Has a valid phone"),
        "has_domain": django_filters.BooleanFilter(field_name="domain", lookup_expr="isnull", exclude=True),
        "business_status": django_filters.MultipleChoiceFilter(choices=BusinessStatus.choices),
        "website_kind": django_filters.MultipleChoiceFilter(choices=WebsiteKind.choices),
        "rating_min": django_filters.NumberFilter(field_name="rating", lookup_expr="gte"),
        "rating_max": django_filters.NumberFilter(field_name="rating", lookup_expr="lte"),
        "category": django_filters.CharFilter(method=_business_category, label="Category"),
        "city": django_filters.CharFilter(field_name="city", lookup_expr="iexact"),
        "country_code": django_filters.CharFilter(field_name="country_code", lookup_expr="iexact"),
        "domain": django_filters.CharFilter(field_name="domain__domain", lookup_expr="iexact"),
    },
    fields={"place_id": ["exact"], "last_scanned_at": ["gte", "lte"]},
)

PlaceSearchFilterSet = build_filterset(
    PlaceSearch,
    extra={
        "query": django_filters.CharFilter(field_name="query", lookup_expr="icontains"),
        "location_text": django_filters.CharFilter(field_name="location_text", lookup_expr="icontains"),
    },
    fields={"created_at": ["gte", "lte"]},
)

register_filterset(Place, PlaceFilterSet)
register_filterset(LocalBusiness, LocalBusinessFilterSet)
register_filterset(PlaceSearch, PlaceSearchFilterSet)
