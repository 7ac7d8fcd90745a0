"""The original system's list and status routes, generated from the workflow registry (issue #13).

A workflow whose declaration carries a `Legacy` description gets, with no view
code of its own:

- `GET  /api/v3/<list_path>`: the original listing (its pagination, filters,
  sorting, field names and status strings);
- `PUT  /api/v3/<prefix>/<status_path>`: the original batch status update
  (`{"<ids_field>": [...], "<status_field>": "Selected"}`);
- `PUT  /api/v3/<prefix>/<status_path>/filtered`: the original "select all
  matching" update.
- where the original had records (`item_route`, `create`, `update`, `delete`):
  `POST /api/v3/<list_path>` and `GET|PUT|DELETE /api/v3/<prefix>/{id}`, the
  GET generic, the others answered by handlers the description names in the
  app's legacy module. On the slashed record path our own record answers GET.

Both slash forms answer directly (no redirect). The updates call
`curation.services.curation_status_set`, the one status service behind admin
and `/api/v3/workflows/…`, so a legacy "Selected" queues exactly the rows our
API would queue. Input errors answer 422 (the original's FastAPI status for an
invalid body or parameter) with a readable `detail`.

This module is engine-side: it reads declarations and never imports a domain
app (descriptions name their own-API view by dotted path, like hooks).
"""
from __future__ import annotations

import math
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cache
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.urls import path, re_path
from django.utils.module_loading import import_string
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.plumbing import build_array_type, build_basic_type
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.exceptions import APIException, NotFound, PermissionDenied
from rest_framework.response import Response
from rest_framework.views import APIView

from curation import registry, services
from curation.choices import ProcessingStatus
from curation.workflow import Workflow

TAG = "legacy (compatibility)"
TAG_DESCRIPTION = (
    "The original ScraperSky API, kept for its own clients (scripts, n8n flows, the original UI): "
    "original paths, bodies, field names and status strings. New clients use the other endpoints. "
    "`tenant_id` is accepted and ignored (one tenant). See docs/api-compat.md."
)
# The original's single tenant (its DEFAULT_TENANT_ID), echoed where the original returned a tenant id.
TENANT_ID = "550e8400-e29b-41d4-a716-446655440000"

# Field-map and filter tokens: the workflow's own statuses, mapped to the original's strings.
CURATION = "@curation"
PROCESSING = "@processing"
ERROR = "@error"
TENANT = "@tenant"

ORIGINAL_CURATION = {"Rejected": "Not a Fit"}


class LegacyInputError(services.CurationInputError):
    """Bad input to a legacy route (400, nothing changed)."""


class LegacyConflict(APIException):
    """The request collides with the state of a row (409, nothing changed)."""

    status_code = 409
    default_detail = "Conflict"
    default_code = "conflict"


@dataclass(frozen=True)
class Legacy:
    """How one workflow's stage looked in the original API.

    `fields` maps each item field of the original listing to one of: an
    attribute path of our row ("domain.domain"), a callable(row), or a token
    (CURATION, PROCESSING, ERROR, TENANT). `filters` and `filtered_body` map
    a query parameter / body key to a lookup ("name__icontains"), a token
    (CURATION, PROCESSING: the value is an original status string) or a
    callable(queryset, value) -> queryset.
    """

    prefix: str  # "local-businesses": the status routes hang below it
    ids_field: str  # body key of the id list: "local_business_ids"
    fields: dict = field(default_factory=dict, hash=False)
    status_field: str = "status"  # body key of the new curation status
    status_path: str = "status"  # "sitemap-curation/status"
    id_attr: str = "pk"  # how ids of the body are looked up ("place_id": Google ids)
    list_path: str | None = None  # default: prefix
    list_slash: bool = False  # the original listing's path ended with "/"
    filters: dict = field(default_factory=dict, hash=False)
    filtered_body: dict = field(default_factory=dict, hash=False)
    # "page": page/size → {items,total,page,size,pages}; "offset": limit/offset → {<list_key>,total,…};
    # "offset-list": limit/offset → a bare list
    pagination: str = "page"
    page_size: int = 50
    max_page_size: int = 200
    list_key: str = "items"  # the offset style's list key ("pages")
    ordering: tuple = ("-updated_at", "pk")
    sort_fields: dict = field(default_factory=dict, hash=False)  # original sort_by value -> our field
    sort_style: str = ""  # "dir": sort_by + sort_dir (unknown → default); "desc": sort_by + sort_desc (unknown → 422)
    curation_out: dict = field(default_factory=lambda: dict(ORIGINAL_CURATION), hash=False)
    curation_in: dict = field(default_factory=dict, hash=False)  # extra input aliases ("Skipped" → Rejected)
    processing_out: dict = field(default_factory=dict, hash=False)  # {"Completed": "Complete"}
    empty_filtered_404: bool = False  # the original answered 404 when a filtered update matched nothing
    select_related: tuple = ()
    prefetch_related: tuple = ()
    defer: tuple = ()
    own_list: str | None = None  # dotted path of our ViewSet on the same path (answers unmarked requests)
    # The original's record routes (CRUD), where it had them: `POST <list_route>` and
    # `GET|PUT|DELETE <prefix>/{id}`. Each names a handler in the app's legacy module (dotted path):
    # create(*, request, workflow) -> Response; update(*, request, workflow, row) -> dict (the item);
    # delete(*, request, workflow, row) -> None. `item_route` alone gives the GET.
    item_route: bool = False
    create: str | None = None
    update: str | None = None
    delete: str | None = None

    @property
    def list_route(self) -> str:
        return self.list_path or self.prefix

    # --- status strings ------------------------------------------------------------------------
    def curation_to_original(self, value: str | None) -> str | None:
        return self.curation_out.get(value, value) if value else value

    def processing_to_original(self, value: str | None) -> str | None:
        return self.processing_out.get(value, value) if value else None

    def curation_from_original(self, workflow: Workflow, value: Any, *, what: str) -> str:
        ours = set(workflow.curation_values())
        aliases = {**{v: k for k, v in self.curation_out.items()}, **self.curation_in, "Not a Fit": "Rejected"}
        if isinstance(value, str):
            if value in ours:
                return value
            if value in aliases:
                return aliases[value]
        allowed = sorted({self.curation_to_original(v) for v in ours} | set(self.curation_in))
        raise LegacyInputError(f"Unknown status {value!r} for {what}; allowed: {', '.join(allowed)}")

    def processing_from_original(self, value: Any, *, what: str) -> str:
        back = {v: k for k, v in self.processing_out.items()}
        if isinstance(value, str):
            if value in ProcessingStatus.values:
                return value
            if value in back:
                return back[value]
        allowed = [self.processing_to_original(v) for v in ProcessingStatus.values]
        raise LegacyInputError(f"Unknown status {value!r} for {what}; allowed: {', '.join(allowed)}")


# --- rows → original items ---------------------------------------------------------------------------

def _attr(row, path: str):
    value = row
    for part in path.split("."):
        value = getattr(value, part, None)
        if value is None:
            return None
    return value


def _plain(value):
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    return value


def item(workflow: Workflow, row) -> dict:
    """One row in the original's item shape."""
    legacy: Legacy = workflow.legacy
    out = {}
    for name, source in legacy.fields.items():
        if callable(source):
            value = source(row)
        elif source == CURATION:
            value = legacy.curation_to_original(getattr(row, workflow.curation_field))
        elif source == PROCESSING:
            value = legacy.processing_to_original(getattr(row, workflow.status_field))
        elif source == ERROR:
            value = getattr(row, workflow.error_field) or None
        elif source == TENANT:
            value = TENANT_ID
        else:
            value = _attr(row, source)
        out[name] = _plain(value)
    return out


# --- filters -----------------------------------------------------------------------------------------

def apply_filter(workflow: Workflow, queryset: QuerySet, spec, value, *, what: str) -> QuerySet:
    legacy: Legacy = workflow.legacy
    if spec == CURATION:
        return queryset.filter(**{workflow.curation_field: legacy.curation_from_original(workflow, value, what=what)})
    if spec == PROCESSING:
        return queryset.filter(**{workflow.status_field: legacy.processing_from_original(value, what=what)})
    try:
        return spec(queryset, value) if callable(spec) else queryset.filter(**{spec: value})
    except (ValueError, TypeError, ValidationError) as exc:  # e.g. a malformed UUID
        message = "; ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
        raise LegacyInputError(f"{what}: invalid value {value!r} ({message})") from None


def int_param(params, name: str, default: int, low: int, high: int | None) -> int:
    raw = params.get(name)
    if raw in (None, ""):
        return default
    try:
        value = int(raw)
    except (TypeError, ValueError):
        raise LegacyInputError(f"{name} must be a whole number, got {raw!r}") from None
    if value < low or (high is not None and value > high):
        bound = f"between {low} and {high}" if high is not None else f"at least {low}"
        raise LegacyInputError(f"{name} must be {bound}, got {value}")
    return value


def _bool_param(params, name: str, default: bool) -> bool:
    raw = params.get(name)
    if raw in (None, ""):
        return default
    text = str(raw).strip().lower()
    if text in ("true", "1", "yes", "on"):
        return True
    if text in ("false", "0", "no", "off"):
        return False
    raise LegacyInputError(f"{name} must be true or false, got {raw!r}")


def _ordering(legacy: Legacy, workflow: Workflow, params) -> list[str]:
    if not legacy.sort_style:
        return list(legacy.ordering)
    sort_by = params.get("sort_by")
    default_field = legacy.ordering[0].lstrip("-")
    if legacy.sort_style == "desc":
        if sort_by and sort_by not in legacy.sort_fields:
            raise LegacyInputError(f"sort_by must be one of {', '.join(legacy.sort_fields)}, got {sort_by!r}")
        descending = _bool_param(params, "sort_desc", True)
    else:
        direction = (params.get("sort_dir") or "desc").lower()
        if direction not in ("asc", "desc"):
            raise LegacyInputError(f"sort_dir must be asc or desc, got {direction!r}")
        descending = direction == "desc"
    target = legacy.sort_fields.get(sort_by) if sort_by else None
    target = {CURATION: workflow.curation_field, PROCESSING: workflow.status_field}.get(target, target)
    target = target or default_field
    return [f"{'-' if descending else ''}{target}", "pk"]


def list_response(workflow: Workflow, params, *, queryset: QuerySet | None = None) -> dict | list:
    """The original listing of one stage (or of `queryset`): filtered, sorted, one page, in the original shape."""
    legacy: Legacy = workflow.legacy
    if queryset is None:
        queryset = workflow.model_class._default_manager.all()
    if legacy.select_related:
        queryset = queryset.select_related(*legacy.select_related)
    if legacy.prefetch_related:
        queryset = queryset.prefetch_related(*legacy.prefetch_related)
    if legacy.defer:
        queryset = queryset.defer(*legacy.defer)
    applied = {}
    for name, spec in legacy.filters.items():
        value = params.get(name)
        if value in (None, ""):
            continue
        queryset = apply_filter(workflow, queryset, spec, value, what=name)
        applied[name] = value
    queryset = queryset.order_by(*_ordering(legacy, workflow, params))
    if legacy.pagination in ("offset", "offset-list"):
        limit = int_param(params, "limit", legacy.page_size, 1, legacy.max_page_size)
        offset = int_param(params, "offset", 0, 0, None)
        rows = [item(workflow, row) for row in queryset[offset: offset + limit]]
        if legacy.pagination == "offset-list":  # a bare list, no total (the original contacts listing)
            return rows
        total = queryset.count()
        return {legacy.list_key: rows, "total": total, "offset": offset, "limit": limit, "filters_applied": applied}
    page = int_param(params, "page", 1, 1, None)
    size = int_param(params, "size", legacy.page_size, 1, legacy.max_page_size)
    total = queryset.count()
    rows = [item(workflow, row) for row in queryset[(page - 1) * size: page * size]]
    return {"items": rows, "total": total, "page": page, "size": size, "pages": math.ceil(total / size) if total else 0}


# --- status updates ------------------------------------------------------------------------------------

def _body(request) -> dict:
    if not isinstance(request.data, dict):
        raise LegacyInputError("The body must be a JSON object")
    return request.data


def status_result(result: services.StatusSetResult) -> dict:
    """The original's `{message, updated_count, queued_count}`, plus our counts of what was not queued."""
    return {
        "message": result.message,
        "updated_count": result.updated_count,
        "queued_count": result.queued_count,
        "dequeued_count": result.dequeued_count,
        "skipped_count": result.skipped_count,
    }


def ids_to_pks(workflow: Workflow, raw_ids: Any, *, what: str) -> list:
    """The body's ids as primary keys; unknown ids raise LegacyInputError listing them (nothing changes)."""
    legacy: Legacy = workflow.legacy
    if not isinstance(raw_ids, list) or not raw_ids:
        raise LegacyInputError(f"{what} must be a non-empty list of ids")
    if len(raw_ids) > settings.CURATION_MAX_BATCH:
        raise LegacyInputError(f"Too many ids: {len(raw_ids)}; the limit is {settings.CURATION_MAX_BATCH} per request")
    if any(isinstance(v, bool) or not isinstance(v, (str, int)) for v in raw_ids):
        raise LegacyInputError(f"{what} must contain strings")
    wanted = list(dict.fromkeys(str(v).strip() for v in raw_ids))
    if legacy.id_attr == "pk":
        return wanted  # curation_status_set parses and checks them
    found = dict(workflow.model_class._default_manager.filter(**{f"{legacy.id_attr}__in": wanted})
                 .values_list(legacy.id_attr, "pk"))
    missing = [v for v in wanted if v not in found]
    if missing:
        raise LegacyInputError(f"{len(missing)} id(s) not found: {', '.join(missing[:10])}", not_found_ids=missing)
    return [found[v] for v in wanted]


def _check_change(request, workflow: Workflow) -> None:
    opts = workflow.model_class._meta
    if not request.user.has_perm(f"{opts.app_label}.change_{opts.model_name}"):
        raise PermissionDenied(f"Changing {opts.verbose_name_plural} needs the change permission")


def status_set(request, workflow: Workflow) -> dict:
    legacy: Legacy = workflow.legacy
    _check_change(request, workflow)
    body = _body(request)
    status = legacy.curation_from_original(workflow, body.get(legacy.status_field), what=legacy.status_field)
    pks = ids_to_pks(workflow, body.get(legacy.ids_field), what=legacy.ids_field)
    result = services.curation_status_set(workflow=workflow, ids=pks, status=status, actor=request.user,
                                          source="api")
    return status_result(result)


def status_set_filtered(request, workflow: Workflow) -> dict:
    legacy: Legacy = workflow.legacy
    _check_change(request, workflow)
    body = _body(request)
    status = legacy.curation_from_original(workflow, body.get(legacy.status_field), what=legacy.status_field)
    queryset = workflow.model_class._default_manager.all()
    for name, spec in legacy.filtered_body.items():
        value = body.get(name)
        if value in (None, ""):
            continue
        queryset = apply_filter(workflow, queryset, spec, value, what=name)
    limit = settings.CURATION_MAX_BATCH
    pks = list(queryset.order_by("pk").values_list("pk", flat=True)[: limit + 1])
    if len(pks) > limit:
        raise LegacyInputError(f"The filters match more than {limit} rows; narrow them down")
    if not pks:
        if legacy.empty_filtered_404:
            raise NotFound("No rows match the filters")
        return status_result(services.StatusSetResult(workflow=workflow.name, status=status))
    result = services.curation_status_set(workflow=workflow, ids=pks, status=status, actor=request.user,
                                          source="api")
    return status_result(result)


# --- views -------------------------------------------------------------------------------------------

class LegacyView(APIView):
    """Base of every generated legacy view (input errors: 400 with a readable detail, as everywhere)."""

    workflow_name = ""

    @property
    def workflow(self) -> Workflow:
        return registry.get(self.workflow_name)

    @property
    def permission_model(self):
        """scrapersky.permissions: reading needs the workflow model's view permission, PUT its change."""
        return self.workflow.model_class


class LegacyListView(LegacyView):
    def get(self, request, *args, **kwargs):
        return Response(list_response(self.workflow, request.query_params))


class LegacyStatusView(LegacyView):
    def put(self, request, *args, **kwargs):
        return Response(status_set(request, self.workflow))


class LegacyStatusFilteredView(LegacyView):
    def put(self, request, *args, **kwargs):
        return Response(status_set_filtered(request, self.workflow))


class LegacyItemView(LegacyView):
    """`GET <prefix>/{id}`: one row in the original item shape (404 JSON when unknown)."""

    def row(self, pk):
        legacy: Legacy = self.workflow.legacy
        queryset = self.workflow.model_class._default_manager.all()
        if legacy.select_related:
            queryset = queryset.select_related(*legacy.select_related)
        if legacy.prefetch_related:
            queryset = queryset.prefetch_related(*legacy.prefetch_related)
        row = queryset.filter(pk=pk).first()
        if row is None:
            raise NotFound(f"{self.workflow.model_class._meta.verbose_name.capitalize()} {pk} not found")
        return row

    def get(self, request, pk, *args, **kwargs):
        return Response(item(self.workflow, self.row(pk)))


def _item_put(self, request, pk, *args, **kwargs):
    """`PUT <prefix>/{id}`: the app's update handler, then the row as it is now."""
    workflow = self.workflow
    _check_change(request, workflow)
    import_string(workflow.legacy.update)(request=request, workflow=workflow, row=self.row(pk))
    return Response(item(workflow, self.row(pk)))


def _item_delete(self, request, pk, *args, **kwargs):
    """`DELETE <prefix>/{id}`: the app's delete handler; 204."""
    workflow = self.workflow
    import_string(workflow.legacy.delete)(request=request, workflow=workflow, row=self.row(pk))
    return Response(status=204)


def _create_handler():
    def post(self, request, *args, **kwargs):
        """`POST <list_route>`: the original's create (the app's handler answers)."""
        return import_string(self.workflow.legacy.create)(request=request, workflow=self.workflow)
    return post


def _params_doc(legacy: Legacy) -> list[OpenApiParameter]:
    params = [OpenApiParameter(name, str, description="Original filter") for name in legacy.filters]
    if legacy.pagination.startswith("offset"):
        params += [OpenApiParameter("limit", int, description=f"1–{legacy.max_page_size} ({legacy.page_size})"),
                   OpenApiParameter("offset", int, description="Rows to skip (0)")]
    else:
        params += [OpenApiParameter("page", int, description="From 1 (1)"),
                   OpenApiParameter("size", int, description=f"1–{legacy.max_page_size} ({legacy.page_size})")]
    if legacy.sort_style:
        params.append(OpenApiParameter("sort_by", str, enum=list(legacy.sort_fields) or None))
        params.append(OpenApiParameter("sort_desc", bool) if legacy.sort_style == "desc"
                      else OpenApiParameter("sort_dir", str, enum=["asc", "desc"]))
    params.append(OpenApiParameter("tenant_id", str, description="Accepted and ignored (one tenant)"))
    return params


def view_class(base: type[LegacyView], workflow: Workflow, *, documented: bool) -> type[LegacyView]:
    """A view class for one workflow (its queryset drives the model permissions), in or out of the schema."""
    legacy: Legacy = workflow.legacy
    label = workflow.label.lower()
    attrs = {"workflow_name": workflow.name, "queryset": workflow.model_class._default_manager.all()}
    name = f"Legacy{base.__name__.removeprefix('Legacy')}_{workflow.name}{'' if documented else '_alt'}"
    cls = type(name, (base,), attrs)
    if base is LegacyItemView:
        return _item_view_class(cls, workflow, documented=documented)
    if base is LegacyListView and legacy.create:
        verbose = workflow.model_class._meta.verbose_name
        cls.post = extend_schema(
            tags=[TAG], operation_id=f"legacy_{workflow.name}_create", request=OpenApiTypes.OBJECT,
            responses={201: OpenApiTypes.OBJECT}, summary=f"Original: create a {verbose}",
            description=f"Compatibility surface: the original `POST {legacy.list_route}`. {TAG_DESCRIPTION}",
            exclude=not documented)(_create_handler())
    if base is LegacyListView:
        method, schema = "get", extend_schema(
            tags=[TAG], operation_id=f"legacy_{workflow.name}_list", parameters=_params_doc(legacy),
            responses={200: build_array_type(build_basic_type(OpenApiTypes.OBJECT))
                       if legacy.pagination == "offset-list" else OpenApiTypes.OBJECT}, summary=f"Original listing ({label} stage)",
            description=f"Compatibility surface: the original `{legacy.list_route}` listing. {TAG_DESCRIPTION}",
            exclude=not documented)
    else:
        filtered = base is LegacyStatusFilteredView
        body = f"`{legacy.status_field}`" + (" and the original filters" if filtered else f", `{legacy.ids_field}`")
        method, schema = "put", extend_schema(
            tags=[TAG], operation_id=f"legacy_{workflow.name}_status{'_filtered' if filtered else ''}",
            request=OpenApiTypes.OBJECT, responses={200: OpenApiTypes.OBJECT},
            summary=f"Original {'filtered ' if filtered else ''}status update ({label})",
            description=f"Compatibility surface. Body: {body}; Selected queues the {label} like our own API. "
                        f"{TAG_DESCRIPTION}",
            exclude=not documented)
    base_method = getattr(base, method)

    def handler(self, request, *args, **kwargs):  # a function of its own: extend_schema marks the function
        return base_method(self, request, *args, **kwargs)

    setattr(cls, method, schema(handler))
    return cls


def _item_view_class(cls: type[LegacyItemView], workflow: Workflow, *, documented: bool) -> type[LegacyItemView]:
    """The record view of one workflow: GET always, PUT and DELETE where the description names handlers."""
    legacy: Legacy = workflow.legacy
    verbose = workflow.model_class._meta.verbose_name
    docs = {
        "get": dict(responses={200: OpenApiTypes.OBJECT}, summary=f"Original: one {verbose}"),
        "put": dict(request=OpenApiTypes.OBJECT, responses={200: OpenApiTypes.OBJECT},
                    summary=f"Original: update a {verbose}"),
        "delete": dict(responses={204: None}, summary=f"Original: delete a {verbose}"),
    }
    handlers = {"get": LegacyItemView.get, "put": _item_put if legacy.update else None,
                "delete": _item_delete if legacy.delete else None}
    for method, base_method in handlers.items():
        if base_method is None:
            continue  # not offered: 405 (the original had no such route)

        def handler(self, request, *args, _base=base_method, **kwargs):
            return _base(self, request, *args, **kwargs)

        setattr(cls, method, extend_schema(
            tags=[TAG], operation_id=f"legacy_{workflow.name}_{'retrieve' if method == 'get' else method}",
            description=f"Compatibility surface: the original `{method.upper()} /api/v3/{legacy.prefix}/{{id}}`. "
                        f"{TAG_DESCRIPTION}", exclude=not documented, **docs[method])(handler))
    return cls


@cache
def _own_view(dotted: str):
    """Our own list view as the router builds it (list, and create where the ViewSet has it)."""
    viewset = import_string(dotted)
    actions = {m: a for m, a in (("get", "list"), ("post", "create")) if hasattr(viewset, a)}
    return viewset.as_view(actions, detail=False, suffix="List")


def legacy_marked(workflow: Workflow, request) -> bool:
    """Does a request on a path shared with our own list come from an original client?

    Yes when it carries a parameter only the original listing knows (its
    filters, pagination or sorting, tenant_id); our own list's parameters
    (page, size, ordering, search, its filters) mark nothing.
    """
    legacy: Legacy = workflow.legacy
    own_names = {"page", "size", "ordering", "search", "format"}
    view_class_ = import_string(legacy.own_list)
    filterset = getattr(view_class_, "filterset_class", None)
    if filterset is not None:
        own_names |= set(filterset.base_filters)
    markers = set(legacy.filters) | {"tenant_id", "sort_by", "sort_dir", "sort_desc"}
    markers |= {"limit", "offset"} if legacy.pagination.startswith("offset") else {"page", "size"}
    return bool(set(request.GET) & (markers - own_names))


def shared_list_view(workflow: Workflow, legacy_view):
    """The slashed list path when our own list lives there too: original clients are told apart by their parameters."""

    def view(request, *args, **kwargs):
        own = _own_view(workflow.legacy.own_list)
        method = request.method.lower()
        if method in ("get", "head"):
            original = legacy_marked(workflow, request)
        else:  # a method only one of the two answers goes there (POST creates in ours)
            original = method not in own.actions and hasattr(legacy_view.cls, method)
        return (legacy_view if original else own)(request, *args, **kwargs)

    # To the schema (and the rest of DRF's introspection) this path is our own list's: the legacy
    # listing is documented on the other slash form.
    own = _own_view(workflow.legacy.own_list)
    for name in ("cls", "initkwargs", "actions"):
        setattr(view, name, getattr(own, name))
    return csrf_exempt(view)


@cache
def _own_detail_view(dotted: str):
    """Our own record view (`<prefix>/<pk>/`) as the router builds it."""
    viewset = import_string(dotted)
    actions = {m: a for m, a in (("get", "retrieve"), ("put", "update"), ("patch", "partial_update"),
                                 ("delete", "destroy")) if hasattr(viewset, a)}
    return viewset.as_view(actions, detail=True, suffix="Instance")


def shared_item_view(workflow: Workflow, legacy_view):
    """The slashed record path, which our own API holds: GET is ours; a method only the original had
    (PUT, DELETE where our record is read-only) is the original's."""

    def view(request, *args, **kwargs):
        own = _own_detail_view(workflow.legacy.own_list)
        method = request.method.lower()
        original = method not in own.actions and method not in ("head", "options") and \
            getattr(legacy_view.cls, method, None) is not None
        return (legacy_view if original else own)(request, *args, **kwargs)

    own = _own_detail_view(workflow.legacy.own_list)
    for name in ("cls", "initkwargs", "actions"):
        setattr(view, name, getattr(own, name))
    return csrf_exempt(view)


def _route(path: str, slash: bool) -> str:
    return rf"^{path}/$" if slash else rf"^{path}$"


def workflow_urlpatterns(workflow: Workflow) -> list:
    legacy: Legacy = workflow.legacy
    patterns = []
    # The original's own form is documented (the unslashed one when our own list holds the slashed
    # path); the other slash form answers the same, off the schema.
    documented_slash = legacy.list_slash and not legacy.own_list
    for slash in (False, True):
        documented = slash == documented_slash
        view = view_class(LegacyListView, workflow, documented=documented).as_view()
        if slash and legacy.own_list:
            view = shared_list_view(workflow, view)
        patterns.append(re_path(_route(legacy.list_route, slash), view,
                                name=f"legacy-{workflow.name}-list{'' if documented else '-alt'}"))
    if legacy.item_route or legacy.update or legacy.delete:
        for slash in (False, True):
            view = view_class(LegacyItemView, workflow, documented=not slash).as_view()
            if slash and legacy.own_list:
                view = shared_item_view(workflow, view)
            patterns.append(path(f"{legacy.prefix}/<uuid:pk>{'/' if slash else ''}", view,
                                 name=f"legacy-{workflow.name}-item{'-alt' if slash else ''}"))
    status_path = f"{legacy.prefix}/{legacy.status_path}"
    for base, route, suffix in ((LegacyStatusView, status_path, "status"),
                                (LegacyStatusFilteredView, f"{status_path}/filtered", "status-filtered")):
        for slash in (False, True):
            patterns.append(re_path(_route(route, slash), view_class(base, workflow, documented=not slash).as_view(),
                                    name=f"legacy-{workflow.name}-{suffix}{'-alt' if slash else ''}"))
    return patterns


def urlpatterns() -> list:
    """Every legacy route of every workflow that declares one (mounted under /api/v3/)."""
    patterns = []
    for workflow in registry.all_workflows():
        if isinstance(workflow.legacy, Legacy):
            patterns += workflow_urlpatterns(workflow)
    return patterns


def both_slashes(route: str, view_class: type[APIView], name: str) -> list:
    """A hand-written legacy route (search, submissions, webhooks) under both slash forms.

    `route` is a Django path ("sitemap/status/<uuid:job_id>"). The unslashed form is documented;
    the slashed one answers the same, off the schema (`schema = None`).
    """
    alternate = type(f"{view_class.__name__}Alt", (view_class,), {"schema": None})
    return [path(route, view_class.as_view(), name=name), path(f"{route}/", alternate.as_view(), name=f"{name}-alt")]
