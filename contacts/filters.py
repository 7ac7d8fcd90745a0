"""API FilterSet of contacts: every workflow status filter (four workflows) plus the curators' natural filters.

Registered with the engine (`register_filterset`) so that
`PUT /api/v3/workflows/<name>/status/filtered` accepts exactly these filters
(e.g. queue the Brevo sync of every valid personal address of a domain), and
used by the export endpoint and `manage.py export_contacts`.
"""
from __future__ import annotations

import django_filters
from django.db.models import Q

from contacts.models import Contact, ContactKind, ExtractionMethod, ValidationResult
from curation.filters import build_filterset, register_filterset
from pages.models import PAGE_CATEGORIES


def _validation(queryset, name, values):
    if not values:
        return queryset
    q = Q(validation_result__in=[v for v in values if v != "none"])
    if "none" in values:
        q |= Q(validation_result="")
    return queryset.filter(q)


def _found_on_category(queryset, name, values):
    if not values:
        return queryset
    return queryset.filter(sources__page__category__in=values).distinct()


def _method(queryset, name, values):
    if not values:
        return queryset
    return queryset.filter(sources__method__in=values).distinct()


def _still_on_page(queryset, name, value):
    if value is None:
        return queryset
    current = Q(sources__still_on_page=True)
    return queryset.filter(current).distinct() if value else queryset.exclude(current)


def _has_name(queryset, name, value):
    if value is None:
        return queryset
    return queryset.exclude(name="") if value else queryset.filter(name="")


ContactFilterSet = build_filterset(
    Contact,
    extra={
        "kind": django_filters.ChoiceFilter(choices=ContactKind.choices),
        "validation_result": django_filters.MultipleChoiceFilter(
            choices=[*ValidationResult.choices, ("none", "Not validated")], method=_validation),
        "is_role": django_filters.BooleanFilter(field_name="is_role", label="Role address (info@…) vs personal"),
        "is_free_provider": django_filters.BooleanFilter(field_name="is_free_provider"),
        "is_disposable": django_filters.BooleanFilter(field_name="is_disposable"),
        "on_domain": django_filters.BooleanFilter(field_name="on_domain"),
        "certain": django_filters.BooleanFilter(field_name="certain"),
        "has_name": django_filters.BooleanFilter(method=_has_name, label="Has a person's name"),
        "domain": django_filters.UUIDFilter(field_name="domain_id", label="Domain (id)"),
        "domain_name": django_filters.CharFilter(field_name="domain__domain", lookup_expr="iexact",
                                                 label="Domain (name)"),
        "business": django_filters.UUIDFilter(field_name="business_id", label="Business (id)"),
        "value_contains": django_filters.CharFilter(field_name="normalized", lookup_expr="icontains"),
        "found_on_category": django_filters.MultipleChoiceFilter(choices=PAGE_CATEGORIES, method=_found_on_category,
                                                                 label="Found on a page of this category"),
        "found_on_page": django_filters.UUIDFilter(field_name="sources__page_id", distinct=True,
                                                   label="Found on this page (id)"),
        "method": django_filters.MultipleChoiceFilter(choices=ExtractionMethod.choices, method=_method,
                                                      label="Found by this extraction method"),
        "still_on_page": django_filters.BooleanFilter(method=_still_on_page,
                                                      label="Still on at least one page"),
        "number_type": django_filters.CharFilter(field_name="number_type"),
        "synced_to_brevo": django_filters.BooleanFilter(field_name="brevo_synced_at", lookup_expr="isnull",
                                                        exclude=True),
        "synced_to_hubspot": django_filters.BooleanFilter(field_name="hubspot_synced_at", lookup_expr="isnull",
                                                          exclude=True),
    },
    fields={"created_at": ["gte", "lte"], "last_seen_at": ["gte", "lte"], "validated_at": ["gte", "lte"]},
)

register_filterset(Contact, ContactFilterSet)
