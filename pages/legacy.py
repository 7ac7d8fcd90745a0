"""The original system's direct-submission, CSV-import and sitemap-scan routes (issue #13; docs/api-compat.md).

The stage lists and status updates are generated from the workflow
declarations (curation.legacy); these are the entry points that create rows
(reference §5.3), the sitemap-file record handlers the generator routes, and
the scan job status. They call the pages services (`pages.submissions`), the same
normalisation and deduplication as our own `POST /domains/` and CSV import.
"""
from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from curation import registry
from curation.legacy import TAG, LegacyConflict, LegacyInputError, both_slashes, item
from curation.services import curation_status_set
from pages import services, submissions
from pages.api import CsvTextParser
from pages.models import Domain, Page, SitemapFile
from pages.services import AlreadyKnown, DomainSource
from places.models import PlaceSearch

MAX_CSV_ROWS = 1000

# Our sitemap_discovery processing status → the original sitemap job's status and progress.
SCAN_STATUS = {None: ("pending", 0.0), "Queued": ("pending", 0.0), "Processing": ("running", 0.5),
               "Completed": ("complete", 1.0), "Error": ("failed", 1.0)}


def _legacy(**kwargs):
    kwargs.setdefault("responses", {200: OpenApiTypes.OBJECT})
    kwargs.setdefault("request", OpenApiTypes.OBJECT)
    return extend_schema(tags=[TAG], **kwargs)


def _valid(serializer_class, data) -> dict:
    serializer = serializer_class(data=data)
    if not serializer.is_valid():
        raise LegacyInputError("; ".join(f"{k}: {' '.join(map(str, v))}" for k, v in serializer.errors.items()))
    return serializer.validated_data


def _conflict(exc: AlreadyKnown) -> Response:
    return Response({"detail": exc.message, "existing": exc.existing}, status=status.HTTP_409_CONFLICT)


def _csv_values(request) -> list[str]:
    if "_raw" in request.data:
        data = request.data["_raw"]
    else:
        upload = request.FILES.get("file") or next(iter(request.FILES.values()), None)
        if upload is None:
            raise LegacyInputError("Send a CSV file: multipart/form-data with a `file` field")
        if upload.size and upload.size > services.MAX_CSV_BYTES:
            raise LegacyInputError(f"The file is {upload.size:,} bytes; the limit is {services.MAX_CSV_BYTES:,}")
        data = upload.read(services.MAX_CSV_BYTES + 1)
    values = services.domains_from_csv(data)
    if len(values) > MAX_CSV_ROWS:
        raise LegacyInputError(f"The file has {len(values):,} rows; the limit is {MAX_CSV_ROWS:,}")
    return values


def csv_report(values: list[str], result) -> dict:
    """The original import report: one result per row (success / skipped / error)."""
    created = {e["input"]: e for e in result.created}
    existing = {e["input"]: e for e in result.existing}
    errors = {e["input"]: e["error"] for e in result.errors}
    rows, seen = [], set()
    for number, raw in enumerate(values, 1):
        value = raw.strip()
        entry = {"row_number": number, "value": value, "status": "success", "id": None, "error": None}
        if value in errors:
            entry.update(status="error", error=errors[value])
        elif value in created and value not in seen:
            entry["id"] = created[value]["id"]
        elif value in existing and value not in seen:
            entry.update(status="skipped", id=existing[value]["id"], error="already exists")
        else:
            entry.update(status="skipped", error="duplicate in the file")
        seen.add(value)
        rows.append(entry)
    count = {s: sum(1 for r in rows if r["status"] == s) for s in ("success", "error", "skipped")}
    return {"total_rows": len(rows), "successful": count["success"], "failed": count["error"],
            "skipped": count["skipped"], "results": rows}


class CsvImportView(APIView):
    parser_classes = [MultiPartParser, FormParser, CsvTextParser, JSONParser]
    csv_schema = _legacy(request={"multipart/form-data": {"type": "object", "properties": {
        "file": {"type": "string", "format": "binary"}}}})


# --- domains ------------------------------------------------------------------------------------------

class DomainSubmitInput(serializers.Serializer):
    domains = serializers.ListField(child=serializers.CharField(max_length=2000, allow_blank=True),
                                    min_length=1, max_length=100)
    auto_queue = serializers.BooleanField(default=False)


class DomainsDirectSubmitApi(APIView):
    queryset = Domain.objects.all()  # POST needs pages.add_domain

    @_legacy(summary="Original: submit domains directly (409 if any exists)", responses={201: OpenApiTypes.OBJECT})
    def post(self, request):
        data = _valid(DomainSubmitInput, request.data)
        try:
            result, queued = submissions.domains_submit_direct(domains=data["domains"], queue=data["auto_queue"],
                                                               user=request.user)
        except AlreadyKnown as exc:
            return _conflict(exc)
        return Response({"submitted_count": len(result.created), "domain_ids": [c["id"] for c in result.created],
                         "auto_queued": bool(data["auto_queue"] and queued),
                         "normalized_domains": [c["domain"] for c in result.created]},
                        status=status.HTTP_201_CREATED)


class DomainsImportCsvApi(CsvImportView):
    queryset = Domain.objects.all()

    @CsvImportView.csv_schema
    def post(self, request):
        values = _csv_values(request)
        result = services.domain_submit(domains=values, source=DomainSource.CSV, user=request.user)
        return Response(csv_report(values, result))


# --- sitemaps -----------------------------------------------------------------------------------------

class SitemapSubmitInput(serializers.Serializer):
    sitemap_urls = serializers.ListField(child=serializers.CharField(max_length=2000), min_length=1, max_length=50)
    auto_import = serializers.BooleanField(default=False)
    domain_id = serializers.CharField(required=False, allow_null=True, allow_blank=True)  # ignored, as originally


class SitemapsDirectSubmitApi(APIView):
    queryset = SitemapFile.objects.all()

    @_legacy(summary="Original: submit sitemap URLs directly (409 if any exists)",
             responses={201: OpenApiTypes.OBJECT})
    def post(self, request):
        data = _valid(SitemapSubmitInput, request.data)
        try:
            result = submissions.sitemap_files_submit(urls=data["sitemap_urls"], queue=data["auto_import"],
                                                      refuse_existing=True, user=request.user)
        except AlreadyKnown as exc:
            return _conflict(exc)
        return _submitted(result, ids_key="sitemap_file_ids", flag_key="auto_imported", asked=data["auto_import"])


def _submitted(result, *, ids_key: str, flag_key: str, asked: bool) -> Response:
    """The original's 201 answer to a direct submission; nothing valid at all is a 400 (the original's 422)."""
    if result.errors and not result.created:
        raise LegacyInputError("; ".join(f"{e['input']}: {e['error']}" for e in result.errors[:10]))
    return Response({"submitted_count": len(result.created), ids_key: [c["id"] for c in result.created],
                     "domain_ids": sorted({c["domain_id"] for c in result.created}),
                     flag_key: bool(asked and result.queued_count), "errors": result.errors},
                    status=status.HTTP_201_CREATED)


class SitemapsImportCsvApi(CsvImportView):
    queryset = SitemapFile.objects.all()

    @CsvImportView.csv_schema
    def post(self, request):
        values = _csv_values(request)
        result = submissions.sitemap_files_submit(urls=values, source=DomainSource.CSV, user=request.user)
        return Response(csv_report(values, result))


# --- pages ----------------------------------------------------------------------------------------------

class PageSubmitInput(serializers.Serializer):
    urls = serializers.ListField(child=serializers.CharField(max_length=2000), min_length=1, max_length=100)
    auto_queue = serializers.BooleanField(default=False)
    priority_level = serializers.IntegerField(default=5, min_value=1, max_value=10)  # accepted; ours is per category


class PagesDirectSubmitApi(APIView):
    queryset = Page.objects.all()

    @_legacy(summary="Original: submit page URLs directly (409 if any exists)", responses={201: OpenApiTypes.OBJECT})
    def post(self, request):
        data = _valid(PageSubmitInput, request.data)
        try:
            result = submissions.pages_submit(urls=data["urls"], queue=data["auto_queue"], refuse_existing=True,
                                              user=request.user)
        except AlreadyKnown as exc:
            return _conflict(exc)
        return _submitted(result, ids_key="page_ids", flag_key="auto_queued", asked=data["auto_queue"])


class PagesImportCsvApi(CsvImportView):
    queryset = Page.objects.all()

    @CsvImportView.csv_schema
    def post(self, request):
        values = _csv_values(request)
        result = submissions.pages_submit(urls=values, source=DomainSource.CSV, user=request.user)
        return Response(csv_report(values, result))


# --- the original's sitemap-file records: POST /sitemap-files/, PUT|DELETE /sitemap-files/{id} ----------
# Routed by the generator (curation.legacy: the description's create/update/delete in pages.workflows).

class SitemapFileCreateInput(serializers.Serializer):
    """The original SitemapFileCreate (`sitemap_url`, or `url` by its field name). The file's own state
    (status, url_count, file_path, error_message, processing_time) is the workers' here: accepted, ignored."""

    domain_id = serializers.UUIDField()
    sitemap_url = serializers.CharField(max_length=2000, required=False)
    url = serializers.CharField(max_length=2000, required=False)

    def validate(self, attrs):
        if not (attrs.get("sitemap_url") or attrs.get("url")):
            raise serializers.ValidationError({"sitemap_url": ["This field is required."]})
        return attrs


def sitemap_file_create(*, request, workflow) -> Response:
    """`POST /api/v3/sitemap-files/`: 201 and the file in the original SitemapFileRead shape; 409 if known."""
    data = _valid(SitemapFileCreateInput, request.data)
    try:
        row = submissions.sitemap_file_create(domain_id=data["domain_id"], url=data.get("sitemap_url") or data["url"],
                                              user=request.user)
    except AlreadyKnown as exc:
        return _conflict(exc)
    return Response(item(workflow, SitemapFile.objects.select_related("domain").get(pk=row.pk)),
                    status=status.HTTP_201_CREATED)


def sitemap_file_update(*, request, workflow, row: SitemapFile) -> None:
    """`PUT /api/v3/sitemap-files/{id}` (the original SitemapFileUpdate): `deep_scrape_curation_status` goes
    through the one status service (Selected queues the import); the rest may be sent back unchanged (a
    read-modify-write client), never changed: the file's URL and domain are its identity, its state the
    workers'. An empty body is a 400, as in the original."""
    body = request.data
    if not isinstance(body, dict):
        raise LegacyInputError("The body must be a JSON object")
    body = {k: v for k, v in body.items() if k != "tenant_id"}
    if not body:
        raise LegacyInputError("No update data provided.")
    current = item(workflow, row)
    current["url"] = current["sitemap_url"]
    wanted = None
    for key, value in body.items():
        if key == workflow.legacy.status_field:
            if value is not None and value != current[key]:
                wanted = workflow.legacy.curation_from_original(workflow, value, what=key)
        elif key in current and value is not None and str(value) != str(current[key]):
            what = "is the file's identity" if key in ("domain_id", "sitemap_url", "url") else "is the workers'"
            raise LegacyInputError(f"{key} {what} here and cannot be changed; "
                                   "only deep_scrape_curation_status can")
    if wanted is not None:
        curation_status_set(workflow=workflow, ids=[row.pk], status=wanted, actor=request.user, source="api")


def sitemap_file_delete(*, request, workflow, row: SitemapFile) -> None:
    """`DELETE /api/v3/sitemap-files/{id}` (the delete permission); 409 while a worker imports it."""
    if not submissions.sitemap_file_delete(sitemap_file=row):
        raise LegacyConflict("A worker is importing this sitemap file right now; try again in a moment")


# --- sitemap scan -----------------------------------------------------------------------------------------

class ScanInput(serializers.Serializer):
    base_url = serializers.CharField(max_length=2000)
    max_pages = serializers.IntegerField(default=1000, min_value=1)  # accepted; our limits are settings
    tenant_id = serializers.CharField(required=False, allow_null=True, allow_blank=True)


def scan_status(domain: Domain) -> dict:
    state, progress = SCAN_STATUS.get(domain.sitemap_discovery_processing_status, ("pending", 0.0))
    sitemaps = list(domain.sitemap_files.order_by("depth", "url").values_list("url", flat=True)[:1000])
    return {"job_id": str(domain.pk), "status": state, "progress": progress, "domain": domain.domain,
            "created_at": domain.created_at.isoformat(), "updated_at": domain.updated_at.isoformat(),
            "sitemaps_found": len(sitemaps), "result_data": {"sitemaps": sitemaps, "note": domain.discovery_note},
            "error": domain.sitemap_discovery_processing_error or None}


class SitemapScanApi(APIView):
    queryset = Domain.objects.all()  # POST needs pages.add_domain

    @_legacy(summary="Original: scan a site for sitemaps (queues our sitemap discovery; 202)",
             responses={202: OpenApiTypes.OBJECT})
    def post(self, request):
        data = _valid(ScanInput, request.data)
        domain = submissions.domain_scan_request(base_url=data["base_url"], user=request.user)
        return Response({"job_id": str(domain.pk), "status_url": f"/api/v3/sitemap/status/{domain.pk}",
                         "created_at": domain.created_at.isoformat()}, status=status.HTTP_202_ACCEPTED)


class SitemapScanStatusApi(APIView):
    permission_model = Domain  # scrapersky.permissions: reading a scan's status needs pages.view_domain

    @_legacy(summary="Original: the status of a sitemap scan")
    def get(self, request, job_id):
        domain = Domain.objects.filter(pk=job_id).first()
        if domain is None:
            return Response({"detail": f"No scan {job_id}"}, status=status.HTTP_404_NOT_FOUND)
        return Response(scan_status(domain))


class ScanJobStatusApi(APIView):
    """`GET /api/v3/scan/status/{job_id}`: the original email scanner's job status (its JobStatusResponse).

    That scanner's start route was gone and its jobs always ended in Error (B-21); its jobs were website
    scans of a domain. Here a job id is one of our scan records: a sitemap scan (`POST /sitemap/scan`'s
    job_id, the domain: its discovery status, with what the pipeline found on the site since) or a place
    search (the search's status). Anything else is a 404.
    """

    permission_model = Domain  # scrapersky.permissions: reading needs pages.view_domain

    @_legacy(summary="Original: the status of a scan job (a sitemap scan or a place search)")
    def get(self, request, job_id):
        domain = Domain.objects.filter(pk=job_id).first()
        if domain is not None:
            return Response(domain_job_status(domain))
        search = PlaceSearch.objects.filter(pk=job_id).first()
        if search is not None and request.user.has_perm("places.view_placesearch"):
            return Response(search_job_status(search))
        return Response({"detail": "Scan job not found"}, status=status.HTTP_404_NOT_FOUND)


def domain_job_status(domain: Domain) -> dict:
    """A domain's sitemap scan as the original JobStatusResponse."""
    state, progress = SCAN_STATUS.get(domain.sitemap_discovery_processing_status, ("pending", 0.0))
    scraped = domain.pages.filter(**{registry.get("page_scrape").status_field: "Completed"}).count()
    return {
        "job_id": str(domain.pk), "status": state, "progress": progress, "domain_id": str(domain.pk),
        "created_by": None,
        "result_data": {"domain": domain.domain, "sitemaps_found": domain.sitemap_files.count(),
                        "pages_found": domain.pages.count(), "pages_scanned": scraped,
                        "contacts_found": domain.contacts.count()},
        "error": domain.sitemap_discovery_processing_error or None,
        "job_metadata": {"job_type": "sitemap_scan", "status_url": f"/api/v3/sitemap/status/{domain.pk}"},
        "created_at": domain.created_at.isoformat(), "updated_at": domain.updated_at.isoformat(),
    }


def search_job_status(search: PlaceSearch) -> dict:
    """A place search as the original JobStatusResponse."""
    state, progress = SCAN_STATUS.get(search.place_search_processing_status, ("pending", 0.0))
    return {
        "job_id": str(search.pk), "status": state, "progress": progress, "domain_id": None,
        "created_by": None,
        "result_data": {"results_found": search.results_found, "results_new": search.results_new},
        "error": search.place_search_processing_error or None,
        "job_metadata": {"job_type": "places_search", "business_type": search.query,
                         "location": search.location_text,
                         "status_url": f"/api/v3/localminer-discoveryscan/search/status/{search.pk}"},
        "created_at": search.created_at.isoformat(), "updated_at": search.updated_at.isoformat(),
    }


urlpatterns = [
    *both_slashes("scan/status/<uuid:job_id>", ScanJobStatusApi, "legacy-scan-job-status"),
    *both_slashes("domains/direct-submit", DomainsDirectSubmitApi, "legacy-domains-direct-submit"),
    *both_slashes("domains/import-csv", DomainsImportCsvApi, "legacy-domains-import-csv"),
    *both_slashes("sitemaps/direct-submit", SitemapsDirectSubmitApi, "legacy-sitemaps-direct-submit"),
    *both_slashes("sitemaps/import-csv", SitemapsImportCsvApi, "legacy-sitemaps-import-csv"),
    *both_slashes("pages/direct-submit", PagesDirectSubmitApi, "legacy-pages-direct-submit"),
    *both_slashes("pages/import-csv", PagesImportCsvApi, "legacy-pages-import-csv"),
    *both_slashes("sitemap/scan", SitemapScanApi, "legacy-sitemap-scan"),
    *both_slashes("sitemap/status/<uuid:job_id>", SitemapScanStatusApi, "legacy-sitemap-scan-status"),
]
