"""The original system's WF1 search routes and the WF2 queue route (issue #13; docs/api-compat.md).

The stage lists and status updates are generated from the workflow
declarations (curation.legacy). These are the places routes that are not a
list or a status update: a search, its status, history and results, and the
batch search the original UI called but never had. They create our normal
`PlaceSearch` rows through `places.services.place_search_create`, so a legacy
search runs exactly like one started in admin or by `POST /place-searches/`.
"""
from __future__ import annotations

import platform
import uuid
from importlib import metadata

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.shortcuts import get_object_or_404
from django_q.brokers import get_broker
from django_q.models import OrmQ
from drf_spectacular.plumbing import build_array_type, build_basic_type
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import PermissionDenied
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from curation import registry, services as curation_services
from curation.counting import table_is_large
from curation.legacy import (TAG, TENANT_ID, LegacyInputError, LegacyListView, LegacyStatusView, LegacyView,
                             both_slashes, ids_to_pks, int_param, list_response, status_result)
from curation.selectors import IN_FLIGHT, status_counts
from places import services
from places.models import Place, PlaceSearch

SCAN = "/api/v3/localminer-discoveryscan"
MAX_BATCH_LOCATIONS = 50

# Our processing status of a search → the original place_searches.status and its progress.
SEARCH_STATUS = {None: ("pending", 0.0), "Queued": ("pending", 0.0), "Processing": ("processing", 0.5),
                 "Completed": ("complete", 1.0), "Error": ("failed", 1.0)}
SEARCH_STATUS_IN = {"pending": ["Queued"], "processing": ["Processing"], "complete": ["Completed"],
                    "failed": ["Error"]}


def _valid(serializer_class, data) -> dict:
    serializer = serializer_class(data=data)
    if not serializer.is_valid():
        details = "; ".join(f"{k}: {' '.join(map(str, v))}" for k, v in serializer.errors.items())
        raise LegacyInputError(details)
    return serializer.validated_data


def search_status(search: PlaceSearch) -> dict:
    """The original `GET …/search/status/{job_id}` body, plus what it never told (counts, the error)."""
    state, progress = SEARCH_STATUS.get(search.place_search_processing_status, ("pending", 0.0))
    return {
        "job_id": str(search.pk), "status": state, "progress": progress,
        "created_at": search.created_at.isoformat(), "updated_at": search.updated_at.isoformat(),
        "business_type": search.query, "location": search.location_text,
        "results_found": search.results_found, "results_new": search.results_new,
        "error": search.place_search_processing_error or None,
    }


def history_item(search: PlaceSearch) -> dict:
    """A row of the original place_searches table."""
    return {
        "id": str(search.pk), "job_id": str(search.pk), "tenant_id": TENANT_ID,
        "user_id": str(search.created_by_id) if search.created_by_id else None,
        "location": search.location_text, "business_type": search.query, "params": {"radius_km": None},
        "status": SEARCH_STATUS.get(search.place_search_processing_status, ("pending", 0))[0],
        "created_at": search.created_at.isoformat(), "updated_at": search.updated_at.isoformat(),
        "results_found": search.results_found,
    }


def place_item(place: Place, search: PlaceSearch | None, rank: int | None = None) -> dict:
    """A row of the original places_staging table."""
    return {
        "id": str(place.pk), "place_id": place.place_id, "name": place.name,
        "formatted_address": place.formatted_address, "business_type": search.query if search else None,
        "latitude": place.latitude, "longitude": place.longitude, "vicinity": None, "rating": place.rating,
        "user_ratings_total": place.user_rating_count, "price_level": place.price_level,
        "status": "Not a Fit" if place.deep_scan_curation_status == "Rejected" else place.deep_scan_curation_status,
        "deep_scan_status": place.deep_scan_processing_status,
        "deep_scan_error": place.deep_scan_processing_error or None,
        "search_job_id": str(search.pk) if search else None,
        "search_query": search.query if search else None,
        "search_location": search.location_text if search else None,
        "search_time": place.last_seen_at.isoformat() if place.last_seen_at else None,
        "updated_at": place.updated_at.isoformat(), "tenant_id": TENANT_ID, "rank": rank,
        "website": place.website or None, "phone": place.phone or None,
    }


def _require_search_permission(request) -> None:
    if not request.user.has_perm("places.add_placesearch"):
        raise PermissionDenied("Starting a place search needs the places.add_placesearch permission")


class SearchInput(serializers.Serializer):
    business_type = serializers.CharField(max_length=200)
    location = serializers.CharField(max_length=255)
    radius_km = serializers.IntegerField(required=False, default=10, min_value=1, max_value=50)
    tenant_id = serializers.CharField(required=False, allow_null=True, allow_blank=True)


class BatchSearchInput(serializers.Serializer):
    business_type = serializers.CharField(max_length=200)
    locations = serializers.ListField(child=serializers.CharField(max_length=255), allow_empty=False,
                                      max_length=MAX_BATCH_LOCATIONS)
    radius_km = serializers.IntegerField(required=False, default=10, min_value=1, max_value=50)
    tenant_id = serializers.CharField(required=False, allow_null=True, allow_blank=True)

    def to_internal_value(self, data):
        if isinstance(data, dict) and isinstance(data.get("locations"), str):  # a textarea: one per line
            data = {**data, "locations": [line for line in data["locations"].splitlines() if line.strip()]}
        return super().to_internal_value(data)


def _legacy(**kwargs):
    kwargs.setdefault("responses", {200: OpenApiTypes.OBJECT})
    return extend_schema(tags=[TAG], request=OpenApiTypes.OBJECT, **kwargs)


class SearchPlacesApi(APIView):
    """`POST /api/v3/localminer-discoveryscan/search/places`: start a search (queued; runs on a worker)."""

    permission_model = PlaceSearch  # scrapersky.permissions: GET needs view, POST add

    @_legacy(summary="Original: start a place search",
             description="Body {business_type, location, radius_km=10, tenant_id}. Creates our PlaceSearch "
                         "\"<business_type> in <location>\"; radius_km is accepted and not used (the original sent "
                         "it without a centre, so Google ignored it too).")
    def post(self, request):
        _require_search_permission(request)
        data = _valid(SearchInput, request.data)
        search = services.place_search_create(query=data["business_type"], location_text=data["location"],
                                              user=request.user)
        return Response({"job_id": str(search.pk), "status_url": f"{SCAN}/search/status/{search.pk}",
                         "status": "processing"})


class SearchStatusApi(APIView):
    permission_model = PlaceSearch  # scrapersky.permissions: GET needs view, POST add

    @_legacy(summary="Original: a place search's status and progress")
    def get(self, request, job_id):
        return Response(search_status(get_object_or_404(PlaceSearch, pk=job_id)))


class SearchHistoryApi(APIView):
    permission_model = PlaceSearch  # scrapersky.permissions: GET needs view, POST add

    @_legacy(summary="Original: recent place searches (limit 1–100, offset, status)",
             responses={200: build_array_type(build_basic_type(OpenApiTypes.OBJECT))})
    def get(self, request):
        limit = int_param(request.query_params, "limit", 20, 1, 100)
        offset = int_param(request.query_params, "offset", 0, 0, None)
        searches = PlaceSearch.objects.order_by("-created_at", "pk")
        wanted = request.query_params.get("status")
        if wanted:
            if wanted not in SEARCH_STATUS_IN:
                raise LegacyInputError(f"Unknown status {wanted!r}; allowed: {', '.join(SEARCH_STATUS_IN)}")
            q = Q(place_search_processing_status__in=SEARCH_STATUS_IN[wanted])
            if wanted == "pending":
                q |= Q(place_search_processing_status__isnull=True)
            searches = searches.filter(q)
        return Response([history_item(s) for s in searches[offset: offset + limit]])


class SearchResultsApi(APIView):
    permission_model = PlaceSearch  # scrapersky.permissions: GET needs view, POST add

    @_legacy(summary="Original: the places one search found (limit 1–1000, offset)")
    def get(self, request, job_id):
        search = get_object_or_404(PlaceSearch, pk=job_id)
        limit = int_param(request.query_params, "limit", 100, 1, 1000)
        offset = int_param(request.query_params, "offset", 0, 0, None)
        results = search.results.select_related("place").order_by("rank")
        total = results.count()
        places = [place_item(r.place, search, r.rank) for r in results[offset: offset + limit]]
        return Response({"places": places, "total": total, "limit": limit, "offset": offset,
                         "job_info": search_status(search), "filters": {"job_id": str(search.pk)}})


class ScanHealthApi(APIView):
    permission_classes = [AllowAny]
    authentication_classes: list = []

    @extend_schema(tags=[TAG], responses={200: OpenApiTypes.OBJECT}, auth=[], summary="Original: health check")
    def get(self, request):
        return Response({"status": "ok", "service": "localminer-discoveryscan"})


class BatchSearchApi(APIView):
    """`POST /api/v3/places/batch-search`: one business type over several locations (the original UI's Batch tab)."""

    permission_model = PlaceSearch  # scrapersky.permissions: GET needs view, POST add

    @_legacy(summary="Batch place search over several locations",
             description="Body {business_type, locations: [..] (or one per line), radius_km, tenant_id}: one of "
                         "our PlaceSearch rows per location, queued at once. Never existed in the original "
                         "backend although its UI called it.")
    def post(self, request):
        _require_search_permission(request)
        data = _valid(BatchSearchInput, request.data)
        locations = list(dict.fromkeys(loc.strip() for loc in data["locations"] if loc.strip()))
        if not locations:
            raise LegacyInputError("locations: at least one location is required")
        with transaction.atomic():  # all searches or none
            searches = [services.place_search_create(query=data["business_type"], location_text=loc,
                                                     user=request.user) for loc in locations]
            batch_id = searches[0].pk
            PlaceSearch.objects.filter(pk__in=[s.pk for s in searches]).update(batch_id=batch_id)
        return Response({"batch_id": str(batch_id), "status_url": f"/api/v3/places/batch-status/{batch_id}",
                         "status": "processing", "total_searches": len(searches),
                         "job_ids": [str(s.pk) for s in searches]}, status=status.HTTP_202_ACCEPTED)


class BatchStatusApi(APIView):
    permission_model = PlaceSearch  # scrapersky.permissions: GET needs view, POST add

    @_legacy(summary="Status of a batch place search")
    def get(self, request, batch_id):
        searches = list(PlaceSearch.objects.filter(batch_id=batch_id).order_by("created_at", "pk"))
        if not searches:
            return Response({"detail": f"No batch search {batch_id}"}, status=status.HTTP_404_NOT_FOUND)
        jobs = [search_status(s) for s in searches]
        counts = {state: sum(1 for j in jobs if j["status"] == state)
                  for state in ("pending", "processing", "complete", "failed")}
        done = counts["complete"] + counts["failed"]
        overall = ("complete" if counts["complete"] == len(jobs) else
                   "failed" if counts["failed"] == len(jobs) else
                   "partial" if done == len(jobs) else "processing")
        return Response({"batch_id": str(batch_id), "status": overall, "total_searches": len(jobs),
                         "completed_searches": counts["complete"], "failed_searches": counts["failed"],
                         "progress": round(done / len(jobs), 3),
                         "places_found": sum(s.results_found or 0 for s in searches), "jobs": jobs})


class QueueDeepScanApi(APIView):
    """`PUT /api/v3/places/staging/queue-deep-scan`: queue deep scans without touching the curation status."""

    queryset = Place.objects.all()  # writing needs places.change_place

    @_legacy(summary="Original: queue deep scans directly (never-scanned and failed places only)",
             responses={202: OpenApiTypes.OBJECT})
    def put(self, request):
        body = request.data if isinstance(request.data, dict) else {}
        workflow = registry.get("deep_scan")
        pks = ids_to_pks(workflow, body.get("place_ids"), what="place_ids")
        # The original queued rows whose deep_scan_status was NULL or Error; the engine's two services for those.
        fresh = curation_services.processing_enqueue(workflow=workflow, ids=pks)
        failed = Place.objects.filter(pk__in=pks, deep_scan_processing_status="Error").values_list("pk", flat=True)
        again = curation_services.processing_requeue(workflow=workflow, ids=list(failed), actor=request.user,
                                                     source="api").queued_count if failed else 0
        count = fresh + again
        return Response({"message": f"{count} place(s) queued for deep scan", "updated_count": count},
                        status=status.HTTP_202_ACCEPTED)


class StagingBySearchApi(APIView):
    """`GET /api/v3/places/staging/{discovery_job_id}`: the staging listing of one search's places."""

    permission_model = Place  # scrapersky.permissions: reading needs places.view_place

    @_legacy(summary="Original: the staging listing of one search's places (page, size, status)")
    def get(self, request, discovery_job_id):
        workflow = registry.get("deep_scan")
        places = Place.objects.filter(search_results__search_id=discovery_job_id)
        return Response(list_response(workflow, request.query_params, queryset=places))


class ResultsViewerStatusApi(LegacyStatusView):
    """`POST /api/v3/localminer-discoveryscan/places/staging/status` (the Results Viewer tab): as PUT staging/status."""

    schema = None  # the same operation as PUT /places/staging/status
    workflow_name = "deep_scan"
    permission_action = "change"  # scrapersky.permissions: this POST changes places, it adds none

    def post(self, request, *args, **kwargs):
        return self.put(request, *args, **kwargs)


class ResultsViewerListApi(LegacyListView):
    """`GET /api/v3/localminer-discoveryscan/places/staging`: as GET /places/staging."""

    schema = None
    workflow_name = "deep_scan"


class ResultsViewerBatchApi(LegacyView):
    """`POST /api/v3/localminer-discoveryscan/places/staging/batch` (the Results Viewer's batch update).

    Broken in the original (B-10: a 500 on every call; its handler took a bare list of place dicts and
    wrote the status "updated"). What its UI sends, and evidently meant: `{place_ids: [Google place ids],
    status, tenant_id}`, a batch status update of staging places. Also taken: the handler's own shape, a
    list of `{place_id (or id), status}`. Either way through `curation_status_set`, as
    `PUT /places/staging/status` (no second status logic); several statuses in one list are all or nothing.
    """

    workflow_name = "deep_scan"
    permission_action = "change"  # scrapersky.permissions: this POST changes places, it adds none

    @_legacy(summary="Original: batch status update of staging places (the Results Viewer; broken there, B-10)",
             operation_id="legacy_places_staging_batch",
             description="Body {place_ids: [Google place ids], status, tenant_id} (what the original UI sent), or "
                         "a list of {place_id (or id), status}. Answers {success, updated_count, queued_count, "
                         "message, ...}. Same service as PUT /places/staging/status.")
    def post(self, request, *args, **kwargs):
        workflow = self.workflow
        legacy = workflow.legacy
        body = request.data
        if isinstance(body, dict):
            groups = {_status_text(body.get(legacy.status_field)): body.get(legacy.ids_field)}
        elif isinstance(body, list) and body and all(isinstance(p, dict) for p in body):
            groups = {}
            for place in body:
                ident = place.get("place_id") or place.get("id")
                if not isinstance(ident, str) or not ident:
                    raise LegacyInputError("Each place must have a place_id (or id)")
                groups.setdefault(_status_text(place.get(legacy.status_field)), []).append(ident)
        else:
            raise LegacyInputError("Send {place_ids: [...], status} or a non-empty list of {place_id, status}")
        cleaned = []
        for original_status, raw_ids in groups.items():
            wanted = legacy.curation_from_original(workflow, original_status, what=legacy.status_field)
            cleaned.append((wanted, _staging_pks(workflow, raw_ids)))
        totals = curation_services.StatusSetResult(workflow=workflow.name, status=", ".join(s for s, _ in cleaned))
        with transaction.atomic():  # all groups or none
            for wanted, pks in cleaned:
                result = curation_services.curation_status_set(workflow=workflow, ids=pks, status=wanted,
                                                               actor=request.user, source="api")
                for name in ("updated_count", "queued_count", "dequeued_count", "skipped_count"):
                    setattr(totals, name, getattr(totals, name) + getattr(result, name))
        return Response({"success": True, **status_result(totals)})


def _status_text(value):
    """A status as sent: a string (checked by the description), else refused here (a list is no status)."""
    if value is not None and not isinstance(value, str):
        raise LegacyInputError(f"status must be a string, got {value!r}")
    return value


def _staging_pks(workflow, raw_ids) -> list:
    """Google place ids (what the UI sends) or our place ids (the results listing's `id`) → our pks."""
    if isinstance(raw_ids, list) and raw_ids and all(isinstance(v, str) for v in raw_ids):
        ours = {str(pk) for pk in Place.objects.filter(pk__in=[v for v in raw_ids if _is_uuid(v)])
                .values_list("pk", flat=True)}
        if ours:
            google = [v for v in raw_ids if v not in ours]
            return [*ours, *(ids_to_pks(workflow, google, what="place_ids") if google else [])]
    return ids_to_pks(workflow, raw_ids, what="place_ids")


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


class DebugInfoApi(APIView):
    """`GET /api/v3/localminer-discoveryscan/debug/info`: what the original's development-only page evidently
    meant, safe in production: the queues (rows queued, in flight and failed per workflow, the task broker's
    kind and depth), the versions, whether the Google key is configured. No secret, no path, no host; the
    operators' (it needs a django-q2 permission, which only the operator group holds)."""

    permission_model = OrmQ  # scrapersky.permissions: reading needs django_q.view_ormq (operator)

    @_legacy(summary="Original: debug information (the queues, versions, broker kind; operators only)")
    def get(self, request):
        queues = []
        for workflow in sorted(registry.all_workflows(), key=lambda w: w.name):
            model = workflow.model_class
            counts = status_counts(model, workflow.status_field, large=table_is_large(model), exact=IN_FLIGHT)
            queues.append({"workflow": workflow.name, "label": workflow.label, "queued": counts.get("Queued", 0),
                           "processing": counts.get("Processing", 0), "error": counts.get("Error", 0),
                           "ready": not workflow.readiness_problem()})
        broker_kind = "redis" if settings.Q_CLUSTER.get("redis") else "orm"
        try:
            broker_depth = get_broker().queue_size()
        except Exception:  # noqa: BLE001 - a broker that does not answer is reported, not raised
            broker_depth = None
        return Response({
            "status": "ok",
            "environment": "development" if settings.DEBUG else "production",
            "api_key_status": "CONFIGURED" if settings.GOOGLE_MAPS_API_KEY else "MISSING",
            "sandbox": "scrapersky.sandbox" in settings.INSTALLED_APPS,
            "versions": {"api": settings.SPECTACULAR_SETTINGS.get("VERSION"),
                         "python": platform.python_version(), **{name: _version(dist) for name, dist in VERSIONS}},
            "broker": {"kind": broker_kind, "queued_tasks": broker_depth},
            "queues": queues,
            "default_values": {"tenant_id": TENANT_ID, "search_radius_km": 10},
        })


VERSIONS = (("django", "Django"), ("djangorestframework", "djangorestframework"), ("django_q2", "django-q2"))


def _version(dist: str) -> str | None:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None


urlpatterns = [
    *both_slashes("localminer-discoveryscan/debug/info", DebugInfoApi, "legacy-debug-info"),
    *both_slashes("localminer-discoveryscan/places/staging/batch", ResultsViewerBatchApi,
                  "legacy-results-staging-batch"),
    *both_slashes("localminer-discoveryscan/search/places", SearchPlacesApi, "legacy-search-places"),
    *both_slashes("localminer-discoveryscan/search/status/<uuid:job_id>", SearchStatusApi,
                  "legacy-search-status"),
    *both_slashes("localminer-discoveryscan/search/history", SearchHistoryApi, "legacy-search-history"),
    *both_slashes("localminer-discoveryscan/results/<uuid:job_id>", SearchResultsApi,
                  "legacy-search-results"),
    *both_slashes("localminer-discoveryscan/health", ScanHealthApi, "legacy-search-health"),
    *both_slashes("places/batch-search", BatchSearchApi, "legacy-batch-search"),
    *both_slashes("places/batch-status/<uuid:batch_id>", BatchStatusApi,
                  "legacy-batch-status"),
    *both_slashes("places/staging/queue-deep-scan", QueueDeepScanApi, "legacy-queue-deep-scan"),
    *both_slashes("places/staging/<uuid:discovery_job_id>", StagingBySearchApi, "legacy-staging-by-search"),
    # The original's broken WF1-prefixed staging routes (B-10), as the Results Viewer tab meant them.
    *both_slashes("localminer-discoveryscan/places/staging", ResultsViewerListApi, "legacy-results-staging"),
    *both_slashes("localminer-discoveryscan/places/staging/status", ResultsViewerStatusApi,
                  "legacy-results-staging-status"),
]
