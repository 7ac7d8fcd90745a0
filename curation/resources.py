"""The rows of every workflow, listed from the registry: `GET /api/v3/workflows/<name>/rows/[<id>/]`.

Adding a workflow adds its list API with no view code: the rows of its model
with every concrete field (the engine's lease internals and raw payloads left
out), filtered by the same FilterSet as `status/filtered` (the resource's own
when its app registered one, else the workflow filters), ordered by any of its
workflows' statuses or timestamps, paginated like every list (`page`, `size`).
Apps keep their richer hand-made resources (`/api/v3/places/`, …) next to it.
"""
from __future__ import annotations

from functools import cache

from django.db import models
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import serializers, viewsets
from rest_framework.filters import OrderingFilter

from curation import registry
from curation.filters import filterset_for_workflow
from curation.services import CurationInputError
from curation.workflow import Workflow

# Engine bookkeeping that tells a client nothing (a lease is the workers' business).
HIDDEN_SUFFIXES = ("lease_token", "lease_until", "locked_by", "available_at")
HIDDEN_NAMES = {"raw", "html"}


def hidden_fields(model: type[models.Model]) -> set[str]:
    names = set(HIDDEN_NAMES)
    for wf in registry.for_model(model):
        names |= {wf.f(suffix) for suffix in HIDDEN_SUFFIXES}
    return names


def ordering_fields(model: type[models.Model]) -> list[str]:
    """Every workflow status of the model plus its timestamps."""
    names = []
    for wf in registry.for_model(model):
        names += ([wf.curation_field] if wf.curation else []) + [wf.status_field, wf.f("queued_at"),
                                                                 wf.f("processed_at"), wf.f("attempts")]
    return names + [f.name for f in model._meta.concrete_fields if f.name in ("created_at", "updated_at")]


@cache
def row_serializer(model: type[models.Model]) -> type[serializers.ModelSerializer]:
    """A read-only serializer of `model`: every concrete field but the hidden ones (foreign keys as ids)."""
    hidden = hidden_fields(model)
    fields = [f.name for f in model._meta.concrete_fields if f.name not in hidden]
    meta = type("Meta", (), {"model": model, "fields": fields, "read_only_fields": fields})
    return type(f"{model.__name__}RowSerializer", (serializers.ModelSerializer,), {"Meta": meta})


_ORDERING_DOC = OpenApiParameter("ordering", str, description="A status, queued_at, processed_at, attempts, "
                                 "created_at or updated_at of the model's workflows; '-' for descending")


@extend_schema_view(
    list=extend_schema(operation_id="workflows_rows_list", summary="The rows of a workflow's model, with its statuses (filters as in status/filtered)",
                       parameters=[_ORDERING_DOC], responses={200: OpenApiTypes.OBJECT}, filters=False),
    retrieve=extend_schema(operation_id="workflows_rows_retrieve", summary="One row of a workflow's model", responses={200: OpenApiTypes.OBJECT}),
)
class WorkflowRowsViewSet(viewsets.ReadOnlyModelViewSet):
    """One generic ViewSet for every workflow; the `workflow` path parameter selects model, filters and fields."""

    lookup_value_converter = "uuid"
    filter_backends = [OrderingFilter]  # + the workflow's FilterSet, applied in filter_queryset
    search_fields: list = []

    @property
    def workflow(self) -> Workflow:
        return registry.get(self.kwargs["workflow"])

    def get_queryset(self):
        model = self.workflow.model_class
        return model._default_manager.defer(*[n for n in hidden_fields(model)
                                              if n in {f.name for f in model._meta.concrete_fields}]).order_by("pk")

    @property
    def ordering_fields(self):
        return ordering_fields(self.workflow.model_class) if "workflow" in getattr(self, "kwargs", {}) else []

    def get_serializer_class(self):
        return row_serializer(self.workflow.model_class)

    def filter_queryset(self, queryset):
        queryset = super().filter_queryset(queryset)
        if self.action != "list":
            return queryset
        filterset_class = filterset_for_workflow(self.workflow)
        data = self.request.query_params.copy()
        for key in [k for k in data if k not in filterset_class.base_filters]:
            del data[key]
        filterset = filterset_class(data=data, queryset=queryset, request=self.request)
        if not filterset.is_valid():
            details = "; ".join(f"{name}: {' '.join(errors)}" for name, errors in filterset.errors.items())
            raise CurationInputError(f"Invalid filters: {details}")
        return filterset.qs
