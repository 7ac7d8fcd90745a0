"""The declarations of WF4, WF5 and WF7 (README "Adding a workflow") and of the pages resources' API.

All three hooks are I/O-bound (HTTP through pages.fetch), so they run on
several threads; the fetcher's per-host gate keeps each site at
FETCH_PER_HOST_CONCURRENCY requests at a time whatever the thread count.
Leases exceed the production worker timeout (Q_CLUSTER timeout 240 s) and the
engine's heartbeat extends them while a hook runs; each run stops starting
rows after its time budget (45 s), and one hook is itself bounded
(SITEMAP_TIME_BUDGET_S = 60 s for fetching and parsing a domain's sitemaps,
plus the database writes; FETCH_TOTAL_TIMEOUT = 30 s per request), so a run
ends well before the worker timeout even on SQLite, where rows run one at a time.
"""
from drf_spectacular.utils import OpenApiParameter

from curation.legacy import CURATION, ERROR, PROCESSING, Legacy
from curation.registry import register, register_resource
from curation.resource import Resource
from curation.workflow import Workflow

# --- The original system's routes of WF4, WF5 and WF7 (curation.legacy; docs/api-compat.md) ---------

# The original's page_type (Honeybee) ↔ our category.
PAGE_TYPE_TO_CATEGORY = {"contact_root": "contact", "career_contact": "careers", "about_root": "about",
                         "services_root": "services", "team_root": "team", "legal_root": "legal",
                         "menu_root": "product", "pricing_root": "product", "unknown": "other"}
CATEGORY_TO_PAGE_TYPE = {"contact": "contact_root", "careers": "career_contact", "about": "about_root",
                         "services": "services_root", "team": "team_root", "legal": "legal_root", "other": "unknown"}
# The original's sitemap_type / discovery_method values ↔ ours.
SITEMAP_TYPES = {"standard": "urlset", "index": "index"}
DISCOVERY_METHODS = {"robots_txt": "robots", "common_path": "well_known", "html_link": "homepage_link",
                     "sitemap_index": "sitemap_index"}


def _page_type(queryset, value):
    return queryset.filter(category=PAGE_TYPE_TO_CATEGORY.get(value, value))


def _sitemap_type(queryset, value):
    return queryset.filter(sitemap_type__iexact=SITEMAP_TYPES.get(str(value).lower(), value))


def _discovery_method(queryset, value):
    return queryset.filter(discovered_how=DISCOVERY_METHODS.get(value, value))


def _file_status(row) -> str:
    """The original's sitemap_files.status: whether the file itself could be read."""
    return "Error" if row.fetch_error else ("Completed" if row.fetched_at else "Pending")


def _nothing(row):
    return None


DOMAIN_LEGACY = Legacy(
    prefix="domains",
    ids_field="domain_ids",
    status_field="sitemap_curation_status",
    status_path="sitemap-curation/status",
    fields={
        "id": "id", "domain": "domain", "sitemap_curation_status": CURATION, "sitemap_analysis_status": PROCESSING,
        "sitemap_analysis_error": ERROR, "status": lambda row: "active", "created_at": "created_at",
        "updated_at": "updated_at",
    },
    # `domain` is what the original UI sent for domain_filter (ignored there, meant as the same filter).
    filters={"sitemap_curation_status": CURATION, "domain_filter": "domain__icontains", "domain": "domain__icontains"},
    filtered_body={"sitemap_curation_status_filter": CURATION, "domain_filter": "domain__icontains"},
    page_size=20,
    max_page_size=100,
    sort_style="desc",
    sort_fields={"domain": "domain", "created_at": "created_at", "updated_at": "updated_at",
                 "sitemap_curation_status": CURATION, "sitemap_analysis_status": PROCESSING, "status": "updated_at"},
    # WF4's analysis status was lowercase, and "submitted" was its last (success) state.
    processing_out={"Queued": "queued", "Processing": "processing", "Completed": "submitted", "Error": "failed"},
    own_list="pages.api.DomainViewSet",
)

SITEMAP_FILE_LEGACY = Legacy(
    prefix="sitemap-files",
    ids_field="sitemap_file_ids",
    status_field="deep_scrape_curation_status",
    status_path="sitemap_import_curation/status",
    fields={
        "id": "id", "domain_id": "domain_id", "sitemap_url": "url", "status": _file_status,
        "url_count": "url_count", "deep_scrape_curation_status": CURATION, "domain_name": "domain.domain",
        "created_at": "created_at", "updated_at": "updated_at", "created_by": _nothing, "updated_by": _nothing,
        "file_path": _nothing, "error_message": lambda row: row.fetch_error or None, "processing_time": _nothing,
        "sitemap_type": lambda row: row.sitemap_type or None,
        "discovery_method": lambda row: {v: k for k, v in DISCOVERY_METHODS.items()}.get(row.discovered_how,
                                                                                        row.discovered_how),
        # The original forgot these (B-3):
        "sitemap_import_status": PROCESSING, "sitemap_import_error": ERROR,
    },
    filters={"domain_id": "domain_id", "deep_scrape_curation_status": CURATION, "url_contains": "url__icontains",
             "sitemap_type": _sitemap_type, "discovery_method": _discovery_method},
    filtered_body={"deep_scrape_curation_status_filter": CURATION, "domain_id": "domain_id",
                   "url_contains": "url__icontains"},
    page_size=15,
    list_slash=True,
    processing_out={"Completed": "Complete"},
    select_related=("domain",),
    own_list="pages.api.SitemapFileViewSet",
    # The original's records: POST /sitemap-files/, GET|PUT|DELETE /sitemap-files/{id} (pages.legacy).
    item_route=True,
    create="pages.legacy.sitemap_file_create",
    update="pages.legacy.sitemap_file_update",
    delete="pages.legacy.sitemap_file_delete",
)

PAGE_LEGACY = Legacy(
    prefix="pages",
    ids_field="page_ids",
    fields={
        "id": "id", "url": "url", "title": "content.title", "domain_id": "domain_id", "curation_status": CURATION,
        "processing_status": PROCESSING,
        "page_type": lambda row: CATEGORY_TO_PAGE_TYPE.get(row.category, row.category),
        "updated_at": "updated_at", "created_at": "created_at", "error": ERROR, "suggested": "suggested",
    },
    filters={"page_curation_status": CURATION, "page_processing_status": PROCESSING, "page_type": _page_type,
             "url_contains": "url__icontains"},
    filtered_body={"page_curation_status": CURATION, "page_processing_status": PROCESSING, "page_type": _page_type,
                   "url_contains": "url__icontains",
                   "contact_scrape_status": lambda qs, value: qs},  # accepted and ignored, as in the original
    empty_filtered_404=True,
    pagination="offset",
    page_size=100,
    max_page_size=1000,
    list_key="pages",
    list_slash=True,
    # The original's page curation vocabulary: "Skipped" is our Rejected; its Complete is our Completed.
    curation_out={"Rejected": "Skipped"},
    curation_in={"Skipped": "Rejected"},
    processing_out={"Completed": "Complete"},
    select_related=("content",),
    defer=("content__html",),
    own_list="pages.api.PageViewSet",
)

sitemap_discovery = register(Workflow(
    name="sitemap_discovery",
    after="domain_extraction",
    model="pages.Domain",
    hook="pages.services.domain_sitemaps_discover",
    label="Sitemap discovery",
    batch_size=8,
    concurrency=4,
    lease_seconds=300,
    max_attempts=4,
    backoff_base_seconds=60,
    backoff_cap_seconds=6 * 3600,
    time_budget_seconds=45,
    legacy=DOMAIN_LEGACY,
    description="robots.txt Sitemap: lines, homepage links, well-known paths → SitemapFile rows "
                "(no sitemap: the homepage's links become pages).",
))

sitemap_import = register(Workflow(
    name="sitemap_import",
    after="sitemap_discovery",
    model="pages.SitemapFile",
    hook="pages.services.sitemap_file_import",
    label="Sitemap import",
    batch_size=4,
    concurrency=4,
    lease_seconds=300,
    max_attempts=4,
    backoff_base_seconds=60,
    backoff_cap_seconds=6 * 3600,
    time_budget_seconds=45,
    legacy=SITEMAP_FILE_LEGACY,
    description="Fetch and stream-parse a sitemap (and an index's children, bounded) → Page rows, categorised, "
                "contact-like pages suggested.",
))

page_scrape = register(Workflow(
    name="page_scrape",
    after="sitemap_import",
    model="pages.Page",
    hook="pages.services.page_scrape",
    label="Page scrape",
    batch_size=50,
    concurrency=8,
    lease_seconds=300,
    max_attempts=4,
    backoff_base_seconds=60,
    backoff_cap_seconds=6 * 3600,
    time_budget_seconds=45,
    legacy=PAGE_LEGACY,
    description="Polite fetch (robots.txt, per-host limits, size cap) → PageContent, queued for contact "
                "extraction (metadata and contacts, parsed once in the next workflow).",
))

# --- The API resources (curation.resources generates their views and routes; docs/architecture.md) -------

register_resource(Resource(
    model="pages.Domain",
    route="domains",
    basename="domain",
    description="Domains (WF4 input). POST submits domains directly; curate with PUT /workflows/sitemap_discovery/status.",
    serializer="pages.serializers.DomainSerializer",
    annotate="pages.services.domain_count_annotations",
    search_fields=("domain", "title", "homepage_url"),
    ordering_fields=("domain", "created_at", "updated_at", "discovered_at", "sitemap_count", "business_count",
                     "page_count", "sitemap_discovery_curation_status", "sitemap_discovery_processing_status"),
    ordering=("domain",),
    parser_classes=("rest_framework.parsers.JSONParser", "rest_framework.parsers.FormParser",
                    "rest_framework.parsers.MultiPartParser", "pages.api.CsvTextParser"),
    actions={"create": "pages.api.domain_create", "import_csv": "pages.api.import_csv"},
))

register_resource(Resource(
    model="pages.SitemapFile",
    route="sitemap-files",
    basename="sitemap-file",
    description="Sitemap files (WF5 input); curate with PUT /workflows/sitemap_import/status.",
    serializer="pages.serializers.SitemapFileSerializer",
    select_related=("domain",),
    annotate="pages.services.sitemap_file_count_annotations",
    search_fields=("url", "domain__domain"),
    ordering_fields=("url", "created_at", "updated_at", "fetched_at", "url_count", "depth", "sitemap_type",
                     "sitemap_import_curation_status", "sitemap_import_processing_status"),
    ordering=("domain__domain", "depth", "url"),
))

register_resource(Resource(
    model="pages.Page",
    route="pages",
    basename="page",
    description="Pages (WF7 input); curate with PUT /workflows/page_scrape/status (e.g. filtered on suggested=true).",
    serializer="pages.serializers.PageSerializer",
    detail_serializer="pages.serializers.PageDetailSerializer",
    select_related=("domain", "content"),
    list_defer=("content__html",),
    retrieve_parameters=(OpenApiParameter("html", bool, description="Include the stored HTML"),),
    search_fields=("url", "domain__domain"),
    ordering_fields=("url", "created_at", "updated_at", "lastmod", "category", "confidence", "scrape_priority",
                     "path_depth", "page_scrape_curation_status", "page_scrape_processing_status"),
    ordering=("domain__domain", "scrape_priority", "path_depth", "url"),
))
