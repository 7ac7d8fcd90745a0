"""The declarations of WF1–WF3 (README "Adding a workflow") and of the places resources' API."""
from django.db.models import Prefetch

from curation.legacy import CURATION, ERROR, PROCESSING, TENANT, Legacy
from curation.registry import register, register_resource, register_schedule
from curation.resource import Resource
from curation.workflow import Workflow
from places.models import PlaceSearchResult

# The original system's routes of WF2 and WF3 (curation.legacy; docs/api-compat.md).
STAGING_LEGACY = Legacy(
    prefix="places/staging",
    ids_field="place_ids",
    id_attr="place_id",  # the original's ids here are Google place ids
    fields={
        "place_id": "place_id", "business_name": "name", "address": "formatted_address",
        "category": "category", "search_location": "last_search.location_text", "latitude": "latitude",
        "longitude": "longitude", "rating": "rating", "reviews_count": "user_rating_count",
        "price_level": "price_level", "status": CURATION, "updated_at": "updated_at",
        "last_deep_scanned_at": "last_deep_scanned_at", "search_job_id": "last_search_id", "tenant_id": TENANT,
        # The original forgot these (B-3):
        "deep_scan_status": PROCESSING, "deep_scan_error": ERROR,
    },
    filters={"status": CURATION},
    filtered_body={"status_filter": CURATION,
                   "discovery_job_id": lambda qs, value: qs.filter(search_results__search_id=value)},
    empty_filtered_404=True,
    select_related=("last_search",),
    defer=("raw",),
)

LOCAL_BUSINESS_LEGACY = Legacy(
    prefix="local-businesses",
    ids_field="local_business_ids",
    fields={
        "id": "id", "business_name": "name", "full_address": "formatted_address", "phone": "phone_national",
        "website_url": "website", "status": CURATION, "domain_extraction_status": PROCESSING,
        "domain_extraction_error": ERROR, "domain": "domain.domain", "created_at": "created_at",
        "updated_at": "updated_at", "tenant_id": TENANT,
    },
    filters={"status": CURATION, "business_name": "name__icontains"},
    filtered_body={"status_filter": CURATION, "business_name": "name__icontains"},
    empty_filtered_404=True,
    sort_style="dir",
    sort_fields={"business_name": "name", "full_address": "formatted_address", "phone": "phone_national",
                 "website_url": "website", "status": CURATION, "domain_extraction_status": PROCESSING,
                 "rating": "rating", "reviews_count": "reviews_count", "city": "city",
                 "created_at": "created_at", "updated_at": "updated_at"},
    select_related=("domain",),
    defer=("raw",),
    own_list="places.api.LocalBusinessViewSet",
)

place_search = register(Workflow(
    name="place_search",
    model="places.PlaceSearch",
    hook="places.services.place_search_run",
    label="Place search",
    curation=False,  # queued when created (admin "New search", API POST, manage.py search_places)
    batch_size=5,
    concurrency=2,
    lease_seconds=300,
    max_attempts=3,
    backoff_base_seconds=30,
    time_budget_seconds=45,
    readiness="places.services.google_readiness",
    description="Google Places Text Search (all pages, up to 60 results) → Place rows, deduplicated on place_id.",
))

deep_scan = register(Workflow(
    name="deep_scan",
    after="place_search",
    model="places.Place",
    hook="places.services.place_deep_scan",
    label="Deep scan",
    batch_size=25,
    concurrency=8,
    lease_seconds=300,
    max_attempts=5,
    backoff_base_seconds=30,
    time_budget_seconds=45,
    readiness="places.services.google_readiness",
    legacy=STAGING_LEGACY,
    description="Google Place Details → LocalBusiness, upserted on place_id (a re-scan never resets its curation).",
))

domain_extraction = register(Workflow(
    name="domain_extraction",
    after="deep_scan",
    model="places.LocalBusiness",
    hook="places.services.business_domain_extract",
    label="Domain extraction",
    batch_size=100,
    concurrency=1,  # offline and CPU-bound: no threads
    lease_seconds=300,
    max_attempts=3,
    backoff_base_seconds=10,
    time_budget_seconds=45,
    legacy=LOCAL_BUSINESS_LEGACY,
    description="Website → normalised URL, registrable domain (offline PSL), kind; own sites → pages.Domain.",
))

# Opt-in freshness (PLACES_RESCAN_DAYS > 0): once a day, re-queue deep scans older than that.
register_schedule("places:rescan_stale", func="places.tasks.rescan_stale", minutes=24 * 60,
                  enabled="places.tasks.rescan_enabled")

# --- The API resources (curation.resources generates their views and routes; docs/architecture.md) -------

register_resource(Resource(
    model="places.PlaceSearch",
    route="place-searches",
    basename="place-search",
    description="Place searches (WF1). POST starts one: it is queued at once and runs in the background.",
    serializer="places.serializers.PlaceSearchSerializer",
    select_related=("created_by",),
    search_fields=("query", "location_text"),
    ordering_fields=("created_at", "query", "location_text", "results_found", "results_new",
                     "place_search_processing_status"),
    ordering=("-created_at",),
    actions={"create": "places.api.place_search_create", "estimate": "places.api.estimate"},
))

register_resource(Resource(
    model="places.Place",
    route="places",
    basename="place",
    description="Places found by searches (the staging table); curate them with PUT /workflows/deep_scan/status.",
    serializer="places.serializers.PlaceSerializer",
    detail_serializer="places.serializers.PlaceDetailSerializer",
    select_related=("business",),
    prefetch_related=(Prefetch("search_results",
                               queryset=PlaceSearchResult.objects.select_related("search").order_by("found_at")),),
    search_fields=("name", "formatted_address", "place_id", "website", "phone"),
    ordering_fields=("name", "rating", "user_rating_count", "first_seen_at", "last_seen_at", "updated_at",
                     "created_at", "business_status", "primary_type", "deep_scan_curation_status",
                     "deep_scan_processing_status"),
    ordering=("-last_seen_at", "name"),
))

register_resource(Resource(
    model="places.LocalBusiness",
    route="local-businesses",
    basename="local-business",
    description="Deep-scanned businesses; curate them with PUT /workflows/domain_extraction/status.",
    serializer="places.serializers.LocalBusinessSerializer",
    detail_serializer="places.serializers.LocalBusinessDetailSerializer",
    select_related=("domain",),
    search_fields=("name", "formatted_address", "place_id", "website", "phone_e164", "city"),
    ordering_fields=("name", "rating", "reviews_count", "city", "last_scanned_at", "updated_at", "created_at",
                     "business_status", "website_kind", "domain_extraction_curation_status",
                     "domain_extraction_processing_status"),
    ordering=("name",),
))
