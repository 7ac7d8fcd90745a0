"""The original system's WF8 contact routes that are not a list or a status update (issue #13).

The contacts listing and `contacts/status[/filtered]` are generated from the
contact_validation declaration (curation.legacy, contacts.workflows), and so
are the record routes (`POST /contacts/`, `GET|PUT|DELETE /contacts/{id}`),
whose create/update/delete handlers are here (they call contacts.manual).
Here too: CRM selection, validation requests and reports, and the n8n
enrichment callback under its original path with its original Bearer secret.
Every status change goes through `curation.services.curation_status_set`.
"""
from __future__ import annotations

import hmac
import uuid

from django.conf import settings
from django.db.models import Count, Q
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.authentication import BaseAuthentication
from rest_framework.exceptions import AuthenticationFailed, PermissionDenied
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from contacts import manual
from contacts.api import EnrichmentCaller, EnrichmentWebhookApi
from contacts.models import Contact, ContactKind
from contacts.workflows import CONTACT_FILTERS, SYNC_WORKFLOWS
from curation import registry
from curation.legacy import TAG, LegacyConflict, LegacyInputError, apply_filter, both_slashes, item
from curation.services import curation_status_set
from pages.services import AlreadyKnown

CRMS = ("brevo", "hubspot", "mautic", "n8n")
VALIDATION_FILTERS = {  # the original validate/all filter names
    "validation_status": None, "search_email": "email_contains", "search_name": "name_contains",
    "domain_id": "domain_id", "page_id": "page_id", "curation_status": "contact_curation_status",
}
VALIDATION_STATES = {"valid": Q(validation_result="valid"), "invalid": Q(validation_result="invalid"),
                     "disposable": Q(validation_result="risky"),
                     "pending": Q(contact_validation_processing_status__in=["Queued", "Processing"]),
                     "not_validated": Q(validation_result="")}


def _legacy(**kwargs):
    kwargs.setdefault("responses", {200: OpenApiTypes.OBJECT})
    kwargs.setdefault("request", OpenApiTypes.OBJECT)
    return extend_schema(tags=[TAG], **kwargs)


def _valid(serializer_class, data) -> dict:
    serializer = serializer_class(data=data)
    if not serializer.is_valid():
        raise LegacyInputError("; ".join(f"{k}: {' '.join(map(str, v))}" for k, v in serializer.errors.items()))
    return serializer.validated_data


def _check_change(request) -> None:
    if not request.user.has_perm("contacts.change_contact"):
        raise PermissionDenied("Changing contacts needs the contacts.change_contact permission")


def _known_ids(raw_ids) -> tuple[list, list[str]]:
    """(existing contact pks, the inputs that are not contact ids)."""
    parsed, invalid = {}, []
    for raw in raw_ids:
        try:
            parsed[uuid.UUID(str(raw))] = str(raw)
        except ValueError:
            invalid.append(str(raw))
    found = set(Contact.objects.filter(pk__in=list(parsed)).values_list("pk", flat=True))
    invalid += [text for pk, text in parsed.items() if pk not in found]
    return [pk for pk in parsed if pk in found], invalid


def validation_request(*, pks: list, invalid: list[str], user) -> dict:
    """The original `validate` report around our contact_validation selection (Completed and in-flight are kept)."""
    workflow = registry.get("contact_validation")
    states = dict(Contact.objects.filter(pk__in=pks).values_list("pk", workflow.status_field))
    queued = 0
    if pks:
        queued = curation_status_set(workflow=workflow, ids=pks, status="Selected", actor=user,
                                     source="api").queued_count
    processing = sum(1 for s in states.values() if s in ("Queued", "Processing"))
    validated = sum(1 for s in states.values() if s == "Completed")
    return {"success": True, "message": f"{queued} contact(s) queued for validation", "queued_count": queued,
            "already_processing": processing, "already_validated": validated, "invalid_ids": invalid}


class IdsInput(serializers.Serializer):
    contact_ids = serializers.ListField(child=serializers.CharField(max_length=64), min_length=1, max_length=100)


class CrmSelectInput(serializers.Serializer):
    contact_ids = serializers.ListField(child=serializers.CharField(max_length=64), min_length=1,
                                        max_length=settings.CURATION_MAX_BATCH)
    crms = serializers.ListField(child=serializers.ChoiceField(choices=CRMS), min_length=1)
    action = serializers.ChoiceField(choices=["select", "unselect"], default="select")


class ValidateAllInput(serializers.Serializer):
    filters = serializers.DictField(required=False, default=dict)
    max_contacts = serializers.IntegerField(required=False, default=100, min_value=1, max_value=500)


class CrmSelectApi(APIView):
    permission_model = Contact  # scrapersky.permissions: PUT needs contacts.change_contact

    @_legacy(summary="Original: select contacts for CRM sync (brevo, hubspot, n8n = our webhook sync)")
    def put(self, request):
        _check_change(request)
        data = _valid(CrmSelectInput, request.data)
        crms = list(dict.fromkeys(data["crms"]))
        if "mautic" in crms:
            raise LegacyInputError("crms: mautic is not supported (the original never had a Mautic worker)")
        status_ = "Selected" if data["action"] == "select" else "New"
        updated = queued = 0
        for crm in crms:  # one workflow per destination; each call checks ids and readiness
            result = curation_status_set(workflow=registry.get(SYNC_WORKFLOWS[crm]), ids=data["contact_ids"],
                                         status=status_, actor=request.user, source="api")
            updated, queued = max(updated, result.updated_count), queued + result.queued_count
        return Response({"updated_count": updated, "queued_count": queued, "crms": crms, "action": data["action"],
                         "message": f"{updated} contact(s) {data['action']}ed for {', '.join(crms)}"})


class ValidateApi(APIView):
    permission_model = Contact  # scrapersky.permissions: queueing validation changes contacts
    permission_action = "change"

    @_legacy(summary="Original: queue contacts for validation (our contact_validation)")
    def post(self, request):
        _check_change(request)
        data = _valid(IdsInput, request.data)
        pks, invalid = _known_ids(data["contact_ids"])
        return Response(validation_request(pks=pks, invalid=invalid, user=request.user))


class ValidateAllApi(APIView):
    permission_model = Contact  # scrapersky.permissions: queueing validation changes contacts
    permission_action = "change"

    @_legacy(summary="Original: queue every contact matching filters for validation (max_contacts 1–500)")
    def post(self, request):
        _check_change(request)
        data = _valid(ValidateAllInput, request.data)
        workflow = registry.get("contact_validation")
        queryset = Contact.objects.all()
        for name, value in data["filters"].items():
            if name not in VALIDATION_FILTERS:
                raise LegacyInputError(f"Unknown filter {name!r}; allowed: {', '.join(VALIDATION_FILTERS)}")
            if value in (None, ""):
                continue
            if name == "validation_status":
                if value not in VALIDATION_STATES:
                    raise LegacyInputError(f"validation_status: allowed {', '.join(VALIDATION_STATES)}")
                queryset = queryset.filter(VALIDATION_STATES[value])
                continue
            target = VALIDATION_FILTERS[name]
            queryset = apply_filter(workflow, queryset, CONTACT_FILTERS[target], value, what=name)
        pks = list(queryset.order_by("pk").values_list("pk", flat=True).distinct()[: data["max_contacts"]])
        return Response(validation_request(pks=pks, invalid=[], user=request.user))


class ValidationStatusApi(APIView):
    permission_model = Contact  # scrapersky.permissions: reading needs contacts.view_contact

    @_legacy(summary="Original: validation results of some contacts (?contact_ids=a,b)")
    def get(self, request):
        raw = [v for v in request.query_params.get("contact_ids", "").split(",") if v.strip()]
        if not raw or len(raw) > 100:
            raise LegacyInputError("contact_ids: 1–100 comma-separated contact ids")
        pks, invalid = _known_ids(raw)
        workflow = registry.get("contact_validation")
        rows = [item(workflow, c) for c in Contact.objects.filter(pk__in=pks).prefetch_related("sources__page")]
        keys = ("id", "email", "phone_number", "debounce_validation_status", "debounce_result", "debounce_reason",
                "debounce_validated_at")
        return Response({"contacts": [{k: r[k] for k in keys} for r in rows], "invalid_ids": invalid})


class ValidationSummaryApi(APIView):
    permission_model = Contact  # scrapersky.permissions: reading needs contacts.view_contact

    @_legacy(summary="Original: counts of validation results")
    def get(self, request):
        counts = Contact.objects.aggregate(
            total=Count("pk"), **{name: Count("pk", filter=q) for name, q in VALIDATION_STATES.items()},
            unknown=Count("pk", filter=Q(validation_result="unknown")),
            validated=Count("pk", filter=~Q(validation_result="")),
        )
        return Response(counts)


# --- the original's contact records: POST /contacts/, PUT|DELETE /contacts/{id} ------------------------
# Routed by the generator (curation.legacy: the description's create/update/delete in contacts.workflows);
# these handlers call contacts.manual.

# ContactUpdate fields that are curation statuses here, and the workflow each one curates.
STATUS_FIELDS = {"contact_curation_status": "contact_validation",
                 **{f"{crm}_sync_status": wf for crm, wf in SYNC_WORKFLOWS.items()}}
SYNC_IN = {"New": "New", "Selected": "Selected", "Skipped": "Rejected"}
# Accepted and ignored: derived here (email_type, has_gmail) or not kept (context, source_job_id; the
# source page gives source_url).
IGNORED = {"email_type", "has_gmail", "context", "source_url", "source_job_id", "tenant_id"}


class ContactCreateInput(serializers.Serializer):
    """The original ContactCreate (email was required there; here an email or a phone number)."""

    domain_id = serializers.UUIDField()
    page_id = serializers.UUIDField(required=False, allow_null=True)
    email = serializers.CharField(max_length=320, required=False, allow_null=True, allow_blank=True)
    phone_number = serializers.CharField(max_length=50, required=False, allow_null=True, allow_blank=True)
    name = serializers.CharField(max_length=200, required=False, allow_null=True, allow_blank=True)


def _conflict(exc: AlreadyKnown) -> Response:
    return Response({"detail": exc.message, "existing": exc.existing}, status=status.HTTP_409_CONFLICT)


def contact_create(*, request, workflow) -> Response:
    """`POST /api/v3/contacts/`: 201 and the contact in the original ContactRead shape."""
    data = _valid(ContactCreateInput, request.data)
    try:
        made = manual.contact_create(domain_id=data["domain_id"], page_id=data.get("page_id"),
                                     email=data.get("email"), phone_number=data.get("phone_number"),
                                     name=data.get("name") or "", user=request.user)
    except AlreadyKnown as exc:
        return _conflict(exc)
    rows = {c.pk: c for c in Contact.objects.prefetch_related("sources__page").filter(pk__in=[c.pk for c in made])}
    body = item(workflow, rows[made[0].pk])
    if len(made) > 1:  # the original kept a phone on the email's row; here it is a contact of its own
        body["phone_contact_id"] = str(made[1].pk)
    return Response(body, status=status.HTTP_201_CREATED)


def _same_value(row: Contact, key: str, value) -> bool:
    kind = ContactKind.EMAIL if key == "email" else ContactKind.PHONE
    if value in (None, ""):
        return row.kind != kind
    if row.kind != kind:
        return False
    return manual.contact_value_clean(kind=kind, raw=str(value), domain=row.domain).normalized == row.normalized


def contact_update(*, request, workflow, row: Contact) -> None:
    """`PUT /api/v3/contacts/{id}` (the original ContactUpdate): the name and the curation statuses change;
    what the workers own may be sent back unchanged (a read-modify-write client), never changed (400)."""
    body = request.data
    if not isinstance(body, dict):
        raise LegacyInputError("The body must be a JSON object")
    current = item(workflow, row)
    name, statuses = None, {}
    for key, value in body.items():
        if key in IGNORED:
            continue
        if key == "name":
            if value is not None and not isinstance(value, str):
                raise LegacyInputError("name must be a string")
            name = value or ""
        elif key in ("email", "phone_number"):
            if not _same_value(row, key, value):
                raise LegacyInputError(
                    f"{key}: a contact's value is its identity here and is not rewritten; create the corrected "
                    "contact (POST /api/v3/contacts/) and delete this one")
        elif key in STATUS_FIELDS:
            if value is None or value == current.get(key):
                continue
            target = registry.get(STATUS_FIELDS[key])
            if key == "contact_curation_status":
                statuses[target.name] = workflow.legacy.curation_from_original(workflow, value, what=key)
            elif isinstance(value, str) and value in SYNC_IN:
                statuses[target.name] = SYNC_IN[value]
            else:
                raise LegacyInputError(f"{key}: {value!r} is set by the workers; allowed: New, Selected, Skipped")
        elif key in current and value != current[key] and value is not None:
            raise LegacyInputError(f"{key} is set by the workers here and cannot be changed by hand")
    manual.contact_update(contact=row, name=name, statuses=statuses, user=request.user)


def contact_delete(*, request, workflow, row: Contact) -> None:
    """`DELETE /api/v3/contacts/{id}` (the delete permission); 409 while a worker holds the contact."""
    if not manual.contact_delete(contact=row):
        raise LegacyConflict("A worker is processing this contact right now; try again in a moment")


# --- the n8n enrichment callback ------------------------------------------------------------------------

class BearerSecretAuthentication(BaseAuthentication):
    """The original n8n callback's auth: `Authorization: Bearer <secret>` = ENRICHMENT_WEBHOOK_SECRET.

    An empty secret refuses every call (401; the original answered 500).
    """

    def authenticate(self, request):
        secret = getattr(settings, "ENRICHMENT_WEBHOOK_SECRET", "")
        if not secret:
            raise AuthenticationFailed("Enrichment callbacks are not configured: ENRICHMENT_WEBHOOK_SECRET is not set")
        header = request.META.get("HTTP_AUTHORIZATION", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(token.strip().encode(), secret.encode()):
            raise AuthenticationFailed("Invalid or missing bearer secret")
        return EnrichmentCaller(), None

    def authenticate_header(self, request) -> str:
        return 'Bearer realm="n8n"'


class N8nEnrichmentApi(EnrichmentWebhookApi):
    """`POST /api/v3/webhooks/n8n/enrichment-complete`: our enrichment callback, the original's path and auth."""

    authentication_classes = [BearerSecretAuthentication]

    @extend_schema(tags=[TAG], summary="Original: n8n enrichment results (Bearer secret)", auth=[],
                   request=OpenApiTypes.OBJECT, responses={200: OpenApiTypes.OBJECT})
    def post(self, request):
        return super().post(request)


class N8nHealthApi(APIView):
    authentication_classes = [BearerSecretAuthentication]
    permission_classes = [IsAuthenticated]
    throttle_classes: list = []

    @extend_schema(tags=[TAG], summary="Original: n8n webhook health (Bearer secret)", auth=[],
                   responses={200: OpenApiTypes.OBJECT})
    def get(self, request):
        return Response({"status": "healthy", "service": "n8n-webhook", "secret_configured": True})


urlpatterns = [
    *both_slashes("contacts/crm/select", CrmSelectApi, "legacy-contacts-crm-select"),
    *both_slashes("contacts/validate", ValidateApi, "legacy-contacts-validate"),
    *both_slashes("contacts/validate/all", ValidateAllApi, "legacy-contacts-validate-all"),
    *both_slashes("contacts/validation-status", ValidationStatusApi, "legacy-contacts-validation-status"),
    *both_slashes("contacts/validation-summary", ValidationSummaryApi, "legacy-contacts-validation-summary"),
    *both_slashes("webhooks/n8n/enrichment-complete", N8nEnrichmentApi, "legacy-n8n-enrichment"),
    *both_slashes("webhooks/n8n/health", N8nHealthApi, "legacy-n8n-health"),
]
