"""The pages API (DESIGN §5): domains (POST and CSV import: direct submission), sitemap-files, pages.

Views are thin: they validate input and call one service. Curation goes through
the engine's `PUT /api/v3/workflows/<name>/status` (sitemap_discovery,
sitemap_import, page_scrape), which accepts these lists' filters in `status/filtered`.
"""
from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, OpenApiTypes, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import BaseParser, FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response

from curation.services import CurationInputError
from pages import serializers as s
from pages import services
from scrapersky.api import ErrorSerializer
from pages.filters import DomainFilterSet, PageFilterSet, SitemapFileFilterSet
from pages.models import Domain, DomainSource, Page, SitemapFile


def _flatten(errors) -> str:
    parts = []
    for name, messages in errors.items():
        if isinstance(messages, dict):
            messages = [f"{k}: {' '.join(map(str, v))}" for k, v in messages.items()]
        elif not isinstance(messages, (list, tuple)):
            messages = [messages]
        parts.append(f"{name}: {' '.join(map(str, messages))}")
    return "; ".join(parts)


class CsvTextParser(BaseParser):
    """`Content-Type: text/csv` (or text/plain): the raw body, for the CSV import."""

    media_type = "text/*"

    def parse(self, stream, media_type=None, parser_context=None):
        data = stream.read(services.MAX_CSV_BYTES + 1) if stream is not None else b""
        return {"_raw": data}


def _submit_response(result: services.DomainSubmitResult) -> Response:
    body = result.as_dict()
    if not result.valid_count:
        first = "; ".join(f"{e['input'] or '(empty)'}: {e['error']}" for e in result.errors[:5])
        body["detail"] = f"No valid domain in the request. {first}".strip()
        return Response(body, status=status.HTTP_400_BAD_REQUEST)
    return Response(body, status=status.HTTP_201_CREATED)


class DomainViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """Domains (WF4 input). POST submits domains directly; curate with PUT /workflows/sitemap_discovery/status."""

    queryset = Domain.objects.order_by("domain")
    serializer_class = s.DomainSerializer
    filterset_class = DomainFilterSet
    lookup_value_converter = "uuid"
    search_fields = ["domain", "title", "homepage_url"]
    ordering_fields = ["domain", "created_at", "updated_at", "discovered_at", "sitemap_count", "business_count",
                       "page_count", "sitemap_discovery_curation_status", "sitemap_discovery_processing_status"]
    ordering = ["domain"]
    parser_classes = [JSONParser, FormParser, MultiPartParser, CsvTextParser]

    def get_queryset(self):
        return super().get_queryset().annotate(**services.domain_count_annotations())

    @extend_schema(request=s.DomainSubmitSerializer, responses={201: s.DomainSubmitResultSerializer,
                                                                400: ErrorSerializer},
                   summary="Submit domains or websites directly (deduplicated; curation New)")
    def create(self, request, *args, **kwargs):
        serializer = s.DomainSubmitSerializer(data=request.data)
        if not serializer.is_valid():
            raise CurationInputError(_flatten(serializer.errors))
        result = services.domain_submit(domains=serializer.validated_data["domains"], source=DomainSource.DIRECT,
                                        user=request.user)
        return _submit_response(result)

    @extend_schema(
        request={"multipart/form-data": {"type": "object", "properties": {"file": {"type": "string", "format": "binary"}}},
                 "text/csv": OpenApiTypes.STR},
        responses={201: s.DomainSubmitResultSerializer, 400: ErrorSerializer},
        summary="Import domains from a CSV file (a domain or website column, or one value per line)",
    )
    @action(detail=False, methods=["post"], url_path="import", url_name="import")
    def import_csv(self, request):
        if "_raw" in request.data:
            data = request.data["_raw"]
        else:
            upload = request.FILES.get("file") or next(iter(request.FILES.values()), None)
            if upload is None:
                raise CurationInputError("Send a CSV file: multipart/form-data with a `file` field, or a text/csv body")
            if upload.size and upload.size > services.MAX_CSV_BYTES:
                raise CurationInputError(f"The file is {upload.size:,} bytes; the limit is {services.MAX_CSV_BYTES:,}")
            data = upload.read(services.MAX_CSV_BYTES + 1)
        values = services.domains_from_csv(data)
        result = services.domain_submit(domains=values, source=DomainSource.CSV, user=request.user)
        return _submit_response(result)


class SitemapFileViewSet(viewsets.ReadOnlyModelViewSet):
    """Sitemap files (WF5 input); curate with PUT /workflows/sitemap_import/status."""

    queryset = SitemapFile.objects.select_related("domain").order_by("domain__domain", "depth", "url")
    serializer_class = s.SitemapFileSerializer
    filterset_class = SitemapFileFilterSet
    lookup_value_converter = "uuid"
    search_fields = ["url", "domain__domain"]
    ordering_fields = ["url", "created_at", "updated_at", "fetched_at", "url_count", "depth", "sitemap_type",
                       "sitemap_import_curation_status", "sitemap_import_processing_status"]
    ordering = ["domain__domain", "depth", "url"]

    def get_queryset(self):
        return super().get_queryset().annotate(page_count=services.count_of(Page, "sitemap_file"))


class PageViewSet(viewsets.ReadOnlyModelViewSet):
    """Pages (WF7 input); curate with PUT /workflows/page_scrape/status (e.g. filtered on suggested=true)."""

    queryset = Page.objects.select_related("domain", "content").defer("content__html").order_by(
        "domain__domain", "scrape_priority", "path_depth", "url")
    filterset_class = PageFilterSet
    lookup_value_converter = "uuid"
    search_fields = ["url", "domain__domain"]
    ordering_fields = ["url", "created_at", "updated_at", "lastmod", "category", "confidence", "scrape_priority",
                       "path_depth", "page_scrape_curation_status", "page_scrape_processing_status"]
    ordering = ["domain__domain", "scrape_priority", "path_depth", "url"]

    def get_queryset(self):
        queryset = super().get_queryset()
        if self.action == "retrieve":
            queryset = Page.objects.select_related("domain", "content")
        return queryset

    def get_serializer_class(self):
        return s.PageDetailSerializer if self.action == "retrieve" else s.PageSerializer

    @extend_schema(parameters=[OpenApiParameter("html", bool, description="Include the stored HTML")])
    def retrieve(self, request, *args, **kwargs):
        return super().retrieve(request, *args, **kwargs)
