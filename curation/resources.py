"""The REST API generated from the declarations: no view code per model or per workflow.

- Every model's resource (`/api/v3/<route>/`, `/api/v3/<route>/<id>/` and its declared actions) from its
  `curation.resource.Resource` declaration (or the default one of a workflow's model): `viewset_for()`
  builds the ViewSet, `urlpatterns()` the routes (mounted by curation/resource_urls.py).
- The rows of every workflow, listed from the registry: `GET /api/v3/workflows/<name>/rows/[<id>/]`:
  the rows of its model with every concrete field (the engine's lease internals and raw payloads left
  out), filtered by the same FilterSet as `status/filtered` (the resource's own when its app registered
  one, else the workflow filters), ordered by any of its workflows' statuses or timestamps, paginated
  like every list (`page`, `size`).

Status changes, requeues and row histories are the workflows' generic routes (curation/api.py).
"""
from __future__ import annotations

from functools import cache

from django.apps import apps
from django.core.exceptions import ImproperlyConfigured
from django.db import models
from django.utils.module_loading import import_string
from django.utils.text import slugify
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, viewsets
from rest_framework.filters import OrderingFilter, SearchFilter
from rest_framework.renderers import JSONRenderer
from rest_framework.routers import SimpleRouter
from rest_framework.settings import api_settings

from curation import registry
from curation.filters import filterset_for_model, filterset_for_workflow
from curation.resource import STANDARD_OPERATIONS, Resource
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


def ordering_fields(model: type[models.Model], workflows: list[Workflow] | None = None) -> list[str]:
    """Every workflow status of the model (or of `workflows`) plus its timestamps."""
    names = []
    for wf in registry.for_model(model) if workflows is None else workflows:
        names += ([wf.curation_field] if wf.curation else []) + [wf.status_field, wf.f("queued_at"),
                                                                 wf.f("processed_at"), wf.f("attempts")]
    return names + [f.name for f in model._meta.concrete_fields if f.name in ("created_at", "updated_at")]


@cache
def row_serializer(model: type[models.Model], only: tuple[str, ...] = ()) -> type[serializers.ModelSerializer]:
    """A read-only serializer of `model`: every concrete field but the hidden ones (foreign keys as ids),
    or the fields `only`."""
    hidden = hidden_fields(model)
    fields = list(only) or [f.name for f in model._meta.concrete_fields if f.name not in hidden]
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


# --- The models' resources -------------------------------------------------------------------------------

def flatten_errors(errors) -> str:
    """A serializer's errors as one readable line."""
    parts = []
    for name, messages in errors.items():
        if isinstance(messages, dict):
            messages = [f"{k}: {' '.join(map(str, v))}" for k, v in messages.items()]
        elif not isinstance(messages, (list, tuple)):
            messages = [messages]
        parts.append(f"{name}: {' '.join(map(str, messages))}")
    return "; ".join(parts)


def valid_input(serializer_class, data) -> dict:
    """`data` validated by `serializer_class`, or a 400 naming every invalid field (for declared actions)."""
    serializer = serializer_class(data=data)
    if not serializer.is_valid():
        raise CurationInputError(flatten_errors(serializer.errors))
    return serializer.validated_data


def format_parameter(func):
    """Marks a declared action whose `?format=` names a file format, not one of DRF's renderers (exports)."""
    func.format_is_a_parameter = True
    return func


_MIXINS = {"list": mixins.ListModelMixin, "retrieve": mixins.RetrieveModelMixin,
           "create": mixins.CreateModelMixin, "update": mixins.UpdateModelMixin,
           "partial_update": mixins.UpdateModelMixin, "destroy": mixins.DestroyModelMixin}


class ResourceViewSet(viewsets.GenericViewSet):
    # No docstring: the API documentation of each resource is its declaration's description.
    resource: Resource
    detail_serializer_class = None
    list_defer: tuple = ()
    detail_prefetch_related: tuple = ()
    annotations = None

    def get_queryset(self):
        queryset = super().get_queryset()
        if self.annotations is not None:
            queryset = queryset.annotate(**self.annotations())
        if self.action == "retrieve":
            return queryset.prefetch_related(*self.detail_prefetch_related) if self.detail_prefetch_related \
                else queryset
        return queryset.defer(*self.list_defer) if self.list_defer else queryset

    def get_serializer_class(self):
        if self.action == "retrieve" and self.detail_serializer_class is not None:
            return self.detail_serializer_class
        return self.serializer_class

    def perform_content_negotiation(self, request, force=False):
        if getattr(getattr(self, self.action or "", None), "format_is_a_parameter", False):
            return JSONRenderer(), JSONRenderer.media_type
        return super().perform_content_negotiation(request, force)


def resource_model(resource: Resource) -> type[models.Model]:
    return apps.get_model(resource.model)


def resource_route(resource: Resource) -> str:
    return resource.route or slugify(str(resource_model(resource)._meta.verbose_name_plural))


def resource_basename(resource: Resource) -> str:
    return resource.basename or slugify(resource_model(resource)._meta.model_name)


def resource_workflows(resource: Resource) -> list[Workflow]:
    model = resource_model(resource)
    if resource.workflows is None:
        return registry.for_model(model)
    return [registry.get(name) for name in resource.workflows]


def _default_description(resource: Resource) -> str:
    opts = resource_model(resource)._meta
    text = f"{str(opts.verbose_name_plural).capitalize()}"
    names = [wf.name for wf in resource_workflows(resource)]
    if names:
        curated = [wf.name for wf in resource_workflows(resource) if wf.curation]
        text += f" (workflows: {', '.join(names)})."
        if curated:
            which = curated[0] if len(curated) == 1 else f"<{'|'.join(curated)}>"
            text += (f" Curate them with PUT /api/v3/workflows/{which}/status (or status/filtered "
                     "with this list's filters); requeue with POST …/requeue; a row's history at "
                     "GET /api/v3/workflows/<name>/rows/<id>/history.")
    else:
        text += "."
    return text


def _filterset(resource: Resource, model):
    if resource.filterset:
        return import_string(resource.filterset)
    if resource.filterset_fields:
        return None
    return filterset_for_model(model)


def _lookup_converter(resource: Resource, model) -> str | None:
    if resource.lookup_value_converter:
        return resource.lookup_value_converter
    return "uuid" if isinstance(model._meta.pk, models.UUIDField) else None


def build_viewset(resource: Resource) -> type[ResourceViewSet]:
    """The ViewSet of a resource declaration: list, retrieve, the declared operations and actions."""
    model = resource_model(resource)
    ordering = resource.ordering or (("-created_at",) if any(
        f.name == "created_at" for f in model._meta.concrete_fields) else ("pk",))
    queryset = model._default_manager.all()
    if resource.select_related:
        queryset = queryset.select_related(*resource.select_related)
    if resource.prefetch_related:
        queryset = queryset.prefetch_related(*resource.prefetch_related)
    if not resource.serializer:  # the default rows leave out what the default serializer leaves out
        hidden = hidden_fields(model) & {f.name for f in model._meta.concrete_fields}
        if hidden:
            queryset = queryset.defer(*sorted(hidden))
    attrs = {
        "__doc__": resource.description or _default_description(resource),
        "__module__": __name__,
        "resource": resource,
        "queryset": queryset.order_by(*ordering),
        "serializer_class": import_string(resource.serializer) if resource.serializer
        else row_serializer(model, tuple(resource.fields)),
        "detail_serializer_class": import_string(resource.detail_serializer) if resource.detail_serializer else None,
        "filterset_class": _filterset(resource, model),
        "search_fields": list(resource.search_fields),
        "ordering_fields": list(resource.ordering_fields) if resource.ordering_fields is not None
        else ordering_fields(model, resource_workflows(resource)),
        "ordering": list(ordering),
        "list_defer": tuple(resource.list_defer),
        "detail_prefetch_related": tuple(resource.detail_prefetch_related),
        "annotations": staticmethod(import_string(resource.annotate)) if resource.annotate else None,
    }
    if resource.filterset_fields:
        attrs["filterset_fields"] = list(resource.filterset_fields)
    if not resource.search_fields:  # no `search` parameter that would search nothing
        attrs["filter_backends"] = [b for b in api_settings.DEFAULT_FILTER_BACKENDS if b is not SearchFilter]
    converter = _lookup_converter(resource, model)
    if converter:
        attrs["lookup_value_converter"] = converter
    if resource.parser_classes:
        attrs["parser_classes"] = [import_string(p) for p in resource.parser_classes]
    operations = [*resource.operations, *[n for n in resource.actions if n in STANDARD_OPERATIONS]]
    unknown = set(resource.operations) - set(STANDARD_OPERATIONS)
    if unknown:
        raise ImproperlyConfigured(f"Resource {resource}: unknown operations {sorted(unknown)}; "
                                   f"allowed: {', '.join(STANDARD_OPERATIONS)}")
    bases = []
    for name in operations:
        if _MIXINS[name] not in bases:
            bases.append(_MIXINS[name])
    for name, dotted in resource.actions.items():
        func = import_string(dotted)
        if name not in STANDARD_OPERATIONS and getattr(func, "__name__", name) != name:
            raise ImproperlyConfigured(f"Resource {resource}: the action {name!r} is {dotted}, named "
                                       f"{func.__name__!r}; a DRF @action must carry the action's name")
        attrs[name] = func
    if resource.retrieve_parameters and "retrieve" not in resource.actions:
        def retrieve(self, request, *args, **kwargs):  # no docstring: the description stays the resource's
            return mixins.RetrieveModelMixin.retrieve(self, request, *args, **kwargs)

        attrs["retrieve"] = extend_schema(parameters=list(resource.retrieve_parameters))(retrieve)
    return type(f"{model.__name__}ViewSet", (*bases, ResourceViewSet), attrs)


_viewsets: dict[str, tuple[Resource, type]] = {}


def viewset_for(model: str) -> type[ResourceViewSet]:
    """The generated ViewSet of a model ("app_label.ModelName"), built once per declaration."""
    key = model.lower()
    resource = next((r for r in registry.all_resources() if r.model.lower() == key), None)
    if resource is None:
        raise LookupError(f"No resource is declared for {model!r} (and it carries no workflow)")
    cached = _viewsets.get(key)
    if cached is None or cached[0] is not resource:
        cached = _viewsets[key] = (resource, build_viewset(resource))
    return cached[1]


def viewset_aliases(**names: str):
    """A module `__getattr__` naming generated ViewSets (`PageViewSet="pages.Page"`) for dotted-path users."""

    def __getattr__(name: str):
        if name in names:
            return viewset_for(names[name])
        raise AttributeError(name)

    return __getattr__


def urlpatterns() -> list:
    """The routes of every resource (mounted under /api/v3/ by curation/resource_urls.py)."""
    router = SimpleRouter(trailing_slash=True, use_regex_path=False)  # path converters: <uuid:pk>
    routes: dict[str, Resource] = {}
    for resource in registry.all_resources():
        route = resource_route(resource)
        if route in routes:
            raise ImproperlyConfigured(f"Resources {routes[route]} and {resource} both claim /api/v3/{route}/")
        routes[route] = resource
        router.register(route, viewset_for(resource.model), basename=resource_basename(resource))
    return router.urls
