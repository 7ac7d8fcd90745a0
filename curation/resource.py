"""The declaration of one model's REST resource: data, not a ViewSet (DESIGN §3 "Declarations are data").

`curation.resources` generates the ViewSet and its routes (`/api/v3/<route>/`, `/api/v3/<route>/<id>/`, and
the declared actions) from this. Every model that carries a workflow has a resource: the one its app
registered (`registry.register_resource`, in the app's workflows.py), else a default one (every field
but the engine's internals, the workflow filters, ordering by any workflow status or timestamp). Curation
and requeue go through the workflows' own routes (`/api/v3/workflows/<name>/status`, `…/requeue`,
`…/rows/<id>/history`), which are generated from the workflow declarations.
"""
from __future__ import annotations

from dataclasses import dataclass, field

# The standard operations a resource may offer (DRF's mixins); anything else is a declared action.
STANDARD_OPERATIONS = ("list", "retrieve", "create", "update", "partial_update", "destroy")


@dataclass(frozen=True, eq=False)
class Resource:
    model: str  # "app_label.ModelName", resolved lazily
    # URL prefix under /api/v3/ (default: the model's verbose_name_plural, slugified) and the URL names'
    # prefix (`<basename>-list`, `<basename>-detail`; default: the model name, slugified).
    route: str | None = None
    basename: str | None = None
    # What the API documentation says about the list (default: the rows and the workflows that curate them).
    description: str = ""
    # Dotted paths of the list's and the detail's serializers; none: every concrete field but the engine's
    # lease internals and raw payloads (`fields` narrows that list).
    serializer: str | None = None
    detail_serializer: str | None = None
    fields: tuple[str, ...] = ()
    # Dotted path of a FilterSet; none: the one the app registered for the model (curation.filters.
    # register_filterset, which `status/filtered` uses too), else the workflow status filters.
    filterset: str | None = None
    # Plain django-filter fields instead of a FilterSet (models without a workflow).
    filterset_fields: tuple[str, ...] = ()
    search_fields: tuple[str, ...] = ()
    ordering_fields: tuple[str, ...] | None = None  # none: the workflows' statuses and timestamps
    ordering: tuple[str, ...] = ()  # the default order (none: newest first, else by id)
    # The workflows whose statuses this resource shows (none: every workflow of the model).
    workflows: tuple[str, ...] | None = None
    # The querysets: joined and prefetched relations (names or Prefetch objects), dotted path of a function
    # returning annotations (computed per request), columns left out of the list, prefetches of the detail.
    select_related: tuple[str, ...] = ()
    prefetch_related: tuple = ()
    annotate: str | None = None
    list_defer: tuple[str, ...] = ()
    detail_prefetch_related: tuple = ()
    # Standard operations (STANDARD_OPERATIONS) beyond list and retrieve, e.g. ("destroy",).
    operations: tuple[str, ...] = ("list", "retrieve")
    # One-off actions: method name -> dotted path of a function taking (viewset, request, ...). A standard
    # name ("create") replaces DRF's; other names must be DRF @action functions of that name.
    actions: dict[str, str] = field(default_factory=dict)
    parser_classes: tuple[str, ...] = ()  # dotted paths; none: the project's defaults
    retrieve_parameters: tuple = ()  # OpenApiParameters documented on the detail route
    lookup_value_converter: str | None = None  # none: from the primary key ("uuid" for UUIDs)

    def __str__(self) -> str:
        return self.model
