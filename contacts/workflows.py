"""The declarations of the contacts stages (README "Adding a workflow"): contact extraction (processing-only,
on what page_scrape stored), then WF8: validation and one sync workflow per destination; and of the contacts
resources' API.

Each destination is its own workflow with its own statuses on `contacts.Contact`,
so a contact can be synced to several destinations and a failure in one is
retried in that one only (original defect B-4). A sync whose key or URL is not
configured refuses to queue (`readiness`). The syncs are batch hooks: each call
to the vendor carries up to `hook_batch_size` contacts, each with its own outcome.
"""
from django.db.models import Prefetch, Q

from contacts.models import ContactSource
from curation.legacy import CURATION, ERROR, PROCESSING, Legacy
from curation.registry import register, register_resource
from curation.resource import Resource
from curation.workflow import Workflow

# --- The original system's contacts routes (curation.legacy; docs/api-compat.md) -------------------------
# Its contact_curation_status ("Queued" queued a processing step no worker ever ran) is our
# contact_validation curation: "Queued" selects the contact for validation. Its four CRM status pairs
# are our brevo_sync / hubspot_sync / webhook_sync (n8n) statuses; Mautic never had a worker.

SYNC_WORKFLOWS = {"hubspot": "hubspot_sync", "brevo": "brevo_sync", "n8n": "webhook_sync"}
_SYNC_CURATION = {"New": "New", "Selected": "Selected", "Maybe": "New", "Rejected": "Skipped", "Archived": "Skipped"}
_PROCESSING = {"Queued": "Queued", "Processing": "Processing", "Completed": "Complete", "Error": "Error"}
_VALIDATION_RESULT = {"valid": "valid", "invalid": "invalid", "risky": "disposable", "unknown": "unknown"}


def _sync_status(name: str):
    def value(row):
        processing = getattr(row, f"{name}_processing_status")
        return _PROCESSING[processing] if processing else _SYNC_CURATION.get(getattr(row, f"{name}_curation_status"))
    return value


def _sync_processing(name: str):
    def value(row):
        processing = getattr(row, f"{name}_processing_status")
        return _PROCESSING.get(processing) if processing else None
    return value


def _sync_filter(name: str):
    def apply(queryset, value):
        if value in ("Queued", "Processing", "Error", "Complete"):
            return queryset.filter(**{f"{name}_processing_status": {"Complete": "Completed"}.get(value, value)})
        curation = {"New": ["New", "Maybe"], "Selected": ["Selected"], "Skipped": ["Rejected", "Archived"]}.get(value)
        if curation is None:
            raise ValueError("allowed: New, Selected, Queued, Processing, Complete, Error, Skipped")
        return queryset.filter(**{f"{name}_curation_status__in": curation, f"{name}_processing_status": None})
    return apply


def _email_type(row) -> str | None:
    if row.kind != "email":
        return None
    return ("SERVICE" if row.is_role else "FREE" if row.is_free_provider else "CORPORATE" if row.on_domain
            else "UNKNOWN")


def _email_type_filter(queryset, value):
    flags = {"SERVICE": {"is_role": True}, "FREE": {"is_role": False, "is_free_provider": True},
             "CORPORATE": {"is_role": False, "is_free_provider": False, "on_domain": True},
             "UNKNOWN": {"is_role": False, "is_free_provider": False, "on_domain": False}}.get(str(value).upper())
    if flags is None:
        raise ValueError("allowed: SERVICE, CORPORATE, FREE, UNKNOWN")
    return queryset.filter(kind="email", **flags)


def _has_gmail(row) -> bool:
    return row.kind == "email" and row.normalized.endswith(("@gmail.com", "@googlemail.com"))


def _has_gmail_filter(queryset, value):
    gmail = Q(kind="email") & (Q(normalized__endswith="@gmail.com") | Q(normalized__endswith="@googlemail.com"))
    return queryset.filter(gmail) if str(value).lower() in ("true", "1") else queryset.exclude(gmail)


def _first_source(row):
    sources = sorted(row.sources.all(), key=lambda s: s.first_seen)
    return sources[0] if sources else None


def _email(row):
    return row.normalized if row.kind == "email" else None


def _phone(row):
    return row.normalized if row.kind == "phone" else None


CONTACT_FIELDS = {
    "id": "id", "domain_id": "domain_id",
    "page_id": lambda row: str(s.page_id) if (s := _first_source(row)) else None,
    "email": _email, "email_type": _email_type, "has_gmail": _has_gmail, "context": lambda row: None,
    "source_url": lambda row: s.page.url if (s := _first_source(row)) else None,
    "source_job_id": lambda row: None, "name": lambda row: row.name or None, "phone_number": _phone,
    "contact_curation_status": CURATION, "contact_processing_status": PROCESSING,
    "contact_processing_error": ERROR,
    **{f"{crm}_sync_status": _sync_status(wf) for crm, wf in SYNC_WORKFLOWS.items()},
    **{f"{crm}_processing_status": _sync_processing(wf) for crm, wf in SYNC_WORKFLOWS.items()},
    **{f"{crm}_processing_error": (lambda wf: lambda row: getattr(row, f"{wf}_processing_error") or None)(wf)
       for crm, wf in SYNC_WORKFLOWS.items()},
    "mautic_sync_status": lambda row: "New", "mautic_processing_status": lambda row: None,
    "hubspot_contact_id": lambda row: row.hubspot_remote_id or None,
    "brevo_contact_id": lambda row: row.brevo_remote_id or None,
    "debounce_validation_status": _sync_processing("contact_validation"),
    "debounce_processing_status": _sync_processing("contact_validation"),
    "debounce_result": lambda row: _VALIDATION_RESULT.get(row.validation_result),
    "debounce_reason": lambda row: row.validation_reason or None, "debounce_validated_at": "validated_at",
    "enrichment_status": lambda row: row.enrichment_status or None,
    "enrichment_completed_at": "enrichment_completed_at", "last_enrichment_id": lambda row: row.last_enrichment_id or None,
    "enriched_phone": lambda row: row.enriched_phone or None, "enriched_address": "enriched_address",
    "enriched_social_profiles": "enriched_social_profiles", "enriched_company": "enriched_company",
    "created_at": "created_at", "updated_at": "updated_at", "kind": "kind",
}
CONTACT_FILTERS = {
    "contact_curation_status": CURATION, "contact_processing_status": PROCESSING,
    **{f"{crm}_sync_status": _sync_filter(wf) for crm, wf in SYNC_WORKFLOWS.items()},
    "email_type": _email_type_filter, "domain_id": "domain_id",
    "page_id": lambda qs, value: qs.filter(sources__page_id=value).distinct(),
    "email_contains": lambda qs, value: qs.filter(kind="email", normalized__icontains=value),
    "name_contains": "name__icontains", "has_gmail": _has_gmail_filter,
}

CONTACT_LEGACY = Legacy(
    prefix="contacts",
    ids_field="contact_ids",
    fields=CONTACT_FIELDS,
    filters=CONTACT_FILTERS,
    filtered_body=CONTACT_FILTERS,
    pagination="offset-list",
    page_size=100,
    max_page_size=1000,
    curation_out={"Selected": "Queued", "Rejected": "Skipped", "Maybe": "New", "Archived": "Skipped"},
    curation_in={"Queued": "Selected", "Skipped": "Rejected"},
    processing_out=_PROCESSING,
    prefetch_related=("sources__page",),
    own_list="contacts.api.ContactViewSet",
    # The original's records: POST /contacts/, GET|PUT|DELETE /contacts/{id} (contacts.legacy → contacts.manual).
    item_route=True,
    create="contacts.legacy.contact_create",
    update="contacts.legacy.contact_update",
    delete="contacts.legacy.contact_delete",
)

contact_extraction = register(Workflow(
    name="contact_extraction",
    after="page_scrape",
    model="pages.PageContent",
    hook="contacts.services.page_content_extract",
    label="Contact extraction",
    # Processing-only: a pure CPU step on what page_scrape stored, no decision for a curator to make; page_scrape
    # queues the content when it stores (or replaces) it (contacts.services.page_content_extraction_queue).
    curation=False,
    batch_size=50,
    # CPU-bound (one HTML parse and the matchers): threads would only queue for the GIL; two let one row's
    # database writes overlap the next row's parse. More throughput comes from more worker processes.
    concurrency=2,
    lease_seconds=300,
    max_attempts=3,
    backoff_base_seconds=30,
    time_budget_seconds=45,
    description="Parse the stored page once → its metadata (title, description, h1, canonical, language, words, "
                "social links) and its contacts (emails, phones, faxes, social profiles, names) with provenance.",
))

contact_validation = register(Workflow(
    name="contact_validation",
    after="contact_extraction",
    model="contacts.Contact",
    hook="contacts.services.contact_validate",
    label="Contact validation",
    batch_size=50,
    concurrency=8,  # DNS lookups: I/O-bound
    lease_seconds=300,
    max_attempts=3,
    backoff_base_seconds=30,
    time_budget_seconds=45,
    legacy=CONTACT_LEGACY,
    description="Email syntax, DNS MX/A deliverability, role/free/disposable flags; phone validity and type (offline).",
))

brevo_sync = register(Workflow(
    name="brevo_sync",
    after="contact_validation",
    model="contacts.Contact",
    hook="contacts.services.contact_brevo_sync",
    label="Brevo sync",
    batch_size=400,
    hook_batch_size=100,  # one Brevo import per 100 contacts
    concurrency=4,
    lease_seconds=300,
    max_attempts=5,
    backoff_base_seconds=60,
    time_budget_seconds=45,
    readiness="contacts.crm.brevo_readiness",
    description="Idempotent upsert by email into Brevo, 100 contacts per import (POST /v3/contacts/import); "
                "stores the Brevo id. Contacts without an email are skipped with the reason.",
))

hubspot_sync = register(Workflow(
    name="hubspot_sync",
    after="contact_validation",
    model="contacts.Contact",
    hook="contacts.services.contact_hubspot_sync",
    label="HubSpot sync",
    batch_size=400,
    hook_batch_size=100,  # HubSpot's batch limit
    concurrency=4,
    lease_seconds=300,
    max_attempts=5,
    backoff_base_seconds=60,
    time_budget_seconds=45,
    readiness="contacts.crm.hubspot_readiness",
    description="Idempotent upsert by email into HubSpot, 100 contacts per batch upsert; stores the HubSpot id. "
                "Contacts without an email are skipped with the reason.",
))

webhook_sync = register(Workflow(
    name="webhook_sync",
    after="contact_validation",
    model="contacts.Contact",
    hook="contacts.services.contact_webhook_sync",
    label="Webhook sync",
    batch_size=400,
    hook_batch_size=100,  # contacts per signed document
    concurrency=4,
    lease_seconds=300,
    max_attempts=5,
    backoff_base_seconds=60,
    time_budget_seconds=45,
    readiness="contacts.crm.webhook_readiness",
    description="POST signed JSON documents (HMAC-SHA256), 100 contacts each with their idempotency keys, to "
                "WEBHOOK_SYNC_URL, e.g. an n8n webhook.",
))

# --- The API resources (curation.resources generates their views and routes; docs/architecture.md) -------

register_resource(Resource(
    model="contacts.Contact",
    route="contacts",
    basename="contact",
    description="Contacts found on pages (one per domain and email / E.164 number), with provenance.\n\n"
                "Curate with PUT /workflows/<contact_validation|brevo_sync|hubspot_sync|webhook_sync>/status.",
    serializer="contacts.serializers.ContactSerializer",
    detail_serializer="contacts.serializers.ContactDetailSerializer",
    select_related=("domain",),
    annotate="contacts.services.contact_list_annotations",
    detail_prefetch_related=(Prefetch("sources",
                                      queryset=ContactSource.objects.select_related("page").order_by("-last_seen")),),
    search_fields=("normalized", "value", "name", "title", "domain__domain"),
    ordering_fields=("normalized", "kind", "name", "created_at", "updated_at", "first_seen_at", "last_seen_at",
                     "validated_at", "validation_result", "confidence", "found_on_count",
                     "contact_validation_processing_status", "brevo_sync_processing_status",
                     "hubspot_sync_processing_status", "webhook_sync_processing_status"),
    ordering=("domain__domain", "kind", "normalized"),
    actions={"export": "contacts.api.export"},  # CSV / XLSX of the filtered list (contacts.exports' columns)
))

register_resource(Resource(
    model="contacts.Suppression",
    route="suppressions",
    basename="suppression",
    description="The do-not-contact list: emails and domains (a domain covers its subdomains). Every sync honours it.",
    serializer="contacts.serializers.SuppressionSerializer",
    select_related=("created_by",),
    filterset_fields=("kind",),
    search_fields=("value", "reason"),
    ordering_fields=("kind", "value", "created_at"),
    ordering=("kind", "value"),
    operations=("list", "retrieve", "destroy"),
    actions={"create": "contacts.api.suppression_create"},
))

register_resource(Resource(
    model="contacts.SocialLink",
    route="social-links",
    basename="social-link",
    description="Social profiles found on the domains' pages.",
    serializer="contacts.serializers.SocialLinkSerializer",
    filterset_fields=("domain", "business", "network"),
    search_fields=("url", "handle", "domain__domain"),
    ordering_fields=("network", "url", "last_seen", "created_at"),
    ordering=("domain__domain", "network", "url"),
))
