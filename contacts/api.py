"""The contacts API (DESIGN §5): contacts (list, retrieve, CSV/XLSX export), suppressions, social links,
and the enrichment callback (POST webhooks/enrichment, authenticated by a shared secret, not JWT).

Views are thin: they validate input and call one service. Curation goes through
the engine's `PUT /api/v3/workflows/<name>/status` (contact_validation,
brevo_sync, hubspot_sync, webhook_sync), which accepts this list's filters in `status/filtered`.
"""
from __future__ import annotations

import json
import tempfile

from django.conf import settings
from django.db.models import Count, OuterRef, Prefetch, Subquery
from django.db.models.functions import Coalesce
from django.http import FileResponse, StreamingHttpResponse
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, OpenApiTypes, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.authentication import BaseAuthentication
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.permissions import IsAuthenticated
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from contacts import exports
from contacts import serializers as s
from contacts import services
from contacts.crm.webhook import verify_enrichment_request
from contacts.filters import ContactFilterSet
from contacts.models import Contact, ContactSource, SocialLink, Suppression
from curation.services import CurationInputError


def _flatten(errors) -> str:
    parts = []
    for name, messages in errors.items():
        if isinstance(messages, dict):
            messages = [f"{k}: {' '.join(map(str, v))}" for k, v in messages.items()]
        elif not isinstance(messages, (list, tuple)):
            messages = [messages]
        parts.append(f"{name}: {' '.join(map(str, messages))}")
    return "; ".join(parts)


def _valid(serializer_class, data):
    serializer = serializer_class(data=data)
    if not serializer.is_valid():
        raise CurationInputError(_flatten(serializer.errors))
    return serializer.validated_data


class ContactViewSet(viewsets.ReadOnlyModelViewSet):
    """Contacts found on pages (one per domain and email / E.164 number), with provenance.

    Curate with PUT /workflows/<contact_validation|brevo_sync|hubspot_sync|webhook_sync>/status.
    """

    lookup_value_converter = "uuid"
    # found_on_count is a correlated count (worked out for one page of rows, not an aggregate over the whole
    # table), and the default order follows the unique (domain, kind, value) index: a domain's contacts stay
    # together without sorting millions of rows by domain name first.
    queryset = Contact.objects.select_related("domain").annotate(
        found_on_count=Coalesce(Subquery(
            ContactSource.objects.filter(contact=OuterRef("pk")).order_by().values("contact")
            .annotate(n=Count("page", distinct=True)).values("n")), 0),
    ).order_by("domain", "kind", "normalized")
    filterset_class = ContactFilterSet
    search_fields = ["normalized", "value", "name", "title", "domain__domain"]
    ordering_fields = ["normalized", "kind", "name", "created_at", "updated_at", "first_seen_at", "last_seen_at",
                       "validated_at", "validation_result", "confidence", "found_on_count",
                       "contact_validation_processing_status", "brevo_sync_processing_status",
                       "hubspot_sync_processing_status", "webhook_sync_processing_status"]
    ordering = ["domain__domain", "kind", "normalized"]

    def get_queryset(self):
        queryset = super().get_queryset()
        if self.action == "retrieve":
            queryset = queryset.prefetch_related(
                Prefetch("sources", queryset=ContactSource.objects.select_related("page").order_by("-last_seen")))
        return queryset

    def get_serializer_class(self):
        return s.ContactDetailSerializer if self.action == "retrieve" else s.ContactSerializer

    def perform_content_negotiation(self, request, force=False):
        if self.action == "export":  # `?format=csv|xlsx` names the file format, not a DRF renderer
            return JSONRenderer(), JSONRenderer.media_type
        return super().perform_content_negotiation(request, force)

    @extend_schema(
        parameters=[
            OpenApiParameter("format", str, enum=["csv", "xlsx"], description="File format (default csv)"),
            OpenApiParameter("columns", str, description="Comma-separated columns (default: "
                             + ",".join(exports.DEFAULT_COLUMNS) + "); allowed: " + ",".join(exports.EXPORT_COLUMNS)),
        ],
        responses={(200, "text/csv"): OpenApiTypes.BINARY,
                   (200, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"): OpenApiTypes.BINARY},
        summary="Export the filtered contacts as CSV (UTF-8 with BOM, Excel-safe) or XLSX",
    )
    @action(detail=False, methods=["get"], url_path="export", pagination_class=None)
    def export(self, request):
        query = _valid(s.ExportQuerySerializer, request.query_params)
        try:
            columns = exports.parse_columns(query["columns"])
        except ValueError as exc:
            raise CurationInputError(str(exc)) from None
        queryset = self.filter_queryset(Contact.objects.all())
        fmt = query["format"]
        content_type, extension = services.EXPORT_FORMATS[fmt]
        filename = f"contacts-{timezone.now():%Y%m%d-%H%M%S}.{extension}"
        if fmt == "csv":  # streamed: the first rows leave at once, memory stays flat for any number of contacts
            response = StreamingHttpResponse(services.contacts_export_stream(queryset=queryset, columns=columns),
                                             content_type=content_type)
            response["Content-Disposition"] = f'attachment; filename="{filename}"'
            return response
        spool = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)  # XLSX is a zip: written whole first
        services.contacts_export(queryset=queryset, columns=columns, fmt=fmt, out=spool)
        spool.seek(0)
        return FileResponse(spool, as_attachment=True, filename=filename, content_type=content_type)


class SuppressionViewSet(mixins.CreateModelMixin, mixins.DestroyModelMixin, viewsets.ReadOnlyModelViewSet):
    """The do-not-contact list: emails and domains (a domain covers its subdomains). Every sync honours it."""

    lookup_value_converter = "uuid"
    queryset = Suppression.objects.select_related("created_by").order_by("kind", "value")
    serializer_class = s.SuppressionSerializer
    search_fields = ["value", "reason"]
    ordering_fields = ["kind", "value", "created_at"]
    filterset_fields = ["kind"]

    @extend_schema(request=s.SuppressionCreateSerializer, responses={201: OpenApiTypes.OBJECT},
                   summary="Add emails or domains to the suppression list")
    def create(self, request, *args, **kwargs):
        data = _valid(s.SuppressionCreateSerializer, request.data)
        result = services.suppression_add(values=data["all_values"], reason=data["reason"], user=request.user)
        body = result.as_dict()
        if not result.created and not result.existing:
            body["detail"] = "No valid entry: " + "; ".join(f"{e['input']}: {e['error']}" for e in result.errors[:5])
            return Response(body, status=status.HTTP_400_BAD_REQUEST)
        return Response(body, status=status.HTTP_201_CREATED if result.created else status.HTTP_200_OK)


class SocialLinkViewSet(viewsets.ReadOnlyModelViewSet):
    """Social profiles found on the domains' pages."""

    lookup_value_converter = "uuid"
    queryset = SocialLink.objects.order_by("domain__domain", "network", "url")
    serializer_class = s.SocialLinkSerializer
    filterset_fields = ["domain", "business", "network"]
    search_fields = ["url", "handle", "domain__domain"]
    ordering_fields = ["network", "url", "last_seen", "created_at"]


class EnrichmentCaller:
    """The authenticated caller of the enrichment callback: whoever proved the shared secret (not a user)."""

    is_authenticated = True
    is_anonymous = False
    username = "enrichment-callback"

    def get_username(self) -> str:
        return self.username

    def has_perm(self, perm, obj=None) -> bool:
        return False


class EnrichmentSecretAuthentication(BaseAuthentication):
    """Shared-secret auth of the enrichment callback: `X-ScraperSky-Signature: sha256=<HMAC-SHA256 of the
    raw body>` (preferred) or `X-ScraperSky-Secret`. An empty ENRICHMENT_WEBHOOK_SECRET refuses everything."""

    def authenticate(self, request):
        secret = getattr(settings, "ENRICHMENT_WEBHOOK_SECRET", "")
        if not secret:
            raise AuthenticationFailed("Enrichment callbacks are not configured: ENRICHMENT_WEBHOOK_SECRET is not "
                                       "set, so every callback is refused.")
        if not verify_enrichment_request(request.body, request.META, secret):
            raise AuthenticationFailed("Invalid or missing signature: send X-ScraperSky-Signature "
                                       "(sha256=HMAC-SHA256 of the raw body) or X-ScraperSky-Secret.")
        return EnrichmentCaller(), None

    def authenticate_header(self, request) -> str:
        return 'Signature realm="enrichment", headers="X-ScraperSky-Signature"'


class EnrichmentWebhookApi(APIView):
    """`POST /api/v3/webhooks/enrichment`: enrichment results posted back (e.g. by n8n).

    No JWT: the request proves the shared secret ENRICHMENT_WEBHOOK_SECRET, either
    as an `X-ScraperSky-Signature: sha256=<HMAC-SHA256 of the raw body>` header or
    as an `X-ScraperSky-Secret` header. 401 when no secret is configured (never
    accepted unauthenticated) or the signature is wrong, 422 invalid body, 404
    unknown contact; idempotent on `enrichment_id` (a redelivery answers 200 and
    changes nothing).
    """

    authentication_classes = [EnrichmentSecretAuthentication]
    permission_classes = [IsAuthenticated]
    throttle_classes: list = []

    @extend_schema(request=s.EnrichmentCallbackSerializer, responses={200: s.EnrichmentResultSerializer},
                   summary="Receive enrichment results for a contact (shared-secret auth)", auth=[])
    def post(self, request):
        body = request.body
        try:
            data = json.loads(body.decode("utf-8")) if body else None
        except (UnicodeDecodeError, ValueError):
            return Response({"detail": "The body is not valid JSON"}, status=status.HTTP_422_UNPROCESSABLE_ENTITY)
        serializer = s.EnrichmentCallbackSerializer(data=data)
        if not isinstance(data, dict) or not serializer.is_valid():
            errors = serializer.errors if isinstance(data, dict) else {"body": ["Expected a JSON object"]}
            return Response({"detail": f"Invalid enrichment payload: {_flatten(errors)}", "errors": errors},
                            status=status.HTTP_422_UNPROCESSABLE_ENTITY)
        payload = serializer.validated_data
        try:
            result = services.contact_enrichment_apply(
                contact_id=payload["contact_id"], enrichment_id=payload["enrichment_id"], status=payload["status"],
                enriched_data=_plain(payload.get("enriched_data")), metadata=_plain(payload.get("metadata")),
                error=payload.get("error", ""), raw=data,
            )
        except services.EnrichmentNotFound as exc:
            return Response({"detail": str(exc)}, status=status.HTTP_404_NOT_FOUND)
        except services.EnrichmentConflict as exc:
            return Response({"detail": str(exc)}, status=status.HTTP_422_UNPROCESSABLE_ENTITY)
        return Response({"success": True, "contact_id": result.contact_id, "enrichment_id": result.enrichment_id,
                         "duplicate": result.duplicate, "message": result.message,
                         "updated_fields": result.updated_fields})


def _plain(value):
    """Validated nested data as plain JSON-able dicts and lists (OrderedDicts, no None-only keys)."""
    if value is None:
        return None
    return json.loads(json.dumps(value, default=str))
