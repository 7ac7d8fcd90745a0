"""django-filter FilterSets with every workflow's status filters, for lists and filtered batch updates."""
from __future__ import annotations

from functools import cache

import django_filters
from django.db import models

from curation import registry
from curation.choices import ProcessingStatus
from curation.exceptions import ErrorClass


def workflow_filters(model: type[models.Model]) -> dict[str, django_filters.Filter]:
    """Filters on both statuses and the error class of every workflow of `model`."""
    filters: dict[str, django_filters.Filter] = {}
    for wf in registry.for_model(model):
        if wf.curation:
            filters[wf.curation_field] = django_filters.MultipleChoiceFilter(
                field_name=wf.curation_field, choices=wf.curation_choices.choices
            )
        filters[wf.status_field] = django_filters.MultipleChoiceFilter(
            field_name=wf.status_field,
            choices=[*ProcessingStatus.choices, ("none", "Not queued")],
            method=_processing_filter(wf.status_field),
        )
        filters[wf.f("error_class")] = django_filters.ChoiceFilter(
            field_name=wf.f("error_class"), choices=[(c, c) for c in ErrorClass.ALL]
        )
    return filters


def _processing_filter(field_name: str):
    def method(queryset, name, values):
        if not values:
            return queryset
        q = models.Q(**{f"{field_name}__in": [v for v in values if v != "none"]})
        if "none" in values:
            q |= models.Q(**{f"{field_name}__isnull": True})
        return queryset.filter(q)

    return method


def build_filterset(model: type[models.Model], extra: dict | None = None, fields: dict | list | None = None):
    """A FilterSet class for `model`: workflow filters + `extra` filters + Meta.fields."""
    attrs = {**workflow_filters(model), **(extra or {})}
    attrs["Meta"] = type("Meta", (), {"model": model, "fields": fields or []})
    return type(f"{model.__name__}FilterSet", (django_filters.FilterSet,), attrs)


@cache
def filterset_for_workflow(workflow):
    """The FilterSet used by the filtered batch update: the resource's own, if it registered one."""
    return filterset_for_model(workflow.model_class)


def filterset_for_model(model: type[models.Model]):
    """The FilterSet its app registered for `model`, else one with the workflow filters."""
    return _custom_filtersets.get(model._meta.label) or build_filterset(model)


_custom_filtersets: dict[str, type] = {}


def register_filterset(model: type[models.Model], filterset_class) -> None:
    """A resource's list API registers its FilterSet so that `status/filtered` accepts the same filters."""
    _custom_filtersets[model._meta.label] = filterset_class
    filterset_for_workflow.cache_clear()
