"""Services of the contacts app: storing extracted contacts, the WF8 hooks, enrichment and exports.

- `page_contacts_record` turns one scraped page (its stored `PageContent`) into
  deduplicated `Contact` rows with provenance (`ContactSource`) and social
  links; `contacts_reextract` re-runs it over stored content (no fetching).
- Hooks (`contact_validate`, `contact_brevo_sync`, `contact_hubspot_sync`,
  `contact_webhook_sync`) are safe to run twice, make their network call outside
  any transaction, and write only their own fields with an UPDATE (several
  workflows can run on the same contact at once).
- `contact_enrichment_apply` applies an enrichment callback, idempotent on its id.
- `contacts_export` writes CSV / XLSX.
"""
from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from typing import BinaryIO

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Prefetch, Q, QuerySet
from django.utils import timezone
from django.utils.module_loading import import_string

from contacts import exports
from contacts.crm import ContactPayload, split_name
from contacts.extract import extract_contacts
from contacts.models import (
    Contact,
    ContactKind,
    ContactSource,
    EnrichmentEvent,
    SocialLink,
    Suppression,
    SuppressionKind,
    ValidationResult,
)
from contacts.suppression import is_suppressed, normalize_suppression_entry
from contacts.validation import DELIVERABLE, UNDELIVERABLE, validate_email_address, validate_phone_number
from curation.exceptions import ErrorClass, PermanentError

logger = logging.getLogger(__name__)

VALIDATION_HISTORY_KEEP = 10


# --- extraction → contacts ---------------------------------------------------------------------------

@dataclass
class RecordResult:
    contacts_created: int = 0
    contacts_updated: int = 0
    sources_created: int = 0
    sources_gone: int = 0
    socials: int = 0

    def add(self, other: RecordResult) -> None:
        for name, value in asdict(other).items():
            setattr(self, name, getattr(self, name) + value)

    def as_dict(self) -> dict:
        return asdict(self)


def _domain_businesses(domain) -> list:
    from places.models import LocalBusiness

    return list(LocalBusiness.objects.filter(domain=domain).order_by("created_at", "pk")[:20])


def _region(businesses) -> str | None:
    for business in businesses:
        if business.country_code:
            return business.country_code.upper()
    return None


def page_contacts_record(*, page, content) -> RecordResult:
    """Extract the contacts of one scraped page from its stored HTML and upsert them, in one transaction.

    Contacts are unique per (domain, kind, normalised value); every (page,
    method) they were found by is a `ContactSource`. A source of this page not
    found again gets `still_on_page = False`; nothing is ever duplicated, and
    the contacts' own curation and processing statuses are never touched.
    """
    domain = page.domain
    businesses = _domain_businesses(domain)
    business = businesses[0] if len(businesses) == 1 else None
    found = extract_contacts(
        content.html or "",
        page_url=content.final_url or page.url,
        site_domain=domain.domain,
        default_region=_region(businesses),
    )
    now = content.fetched_at or timezone.now()
    result = RecordResult()

    # (kind, normalized) -> dict of facts; sources: (kind, normalized, method, as written)
    wanted: dict[tuple[str, str], dict] = {}
    sources: list[tuple[str, str, str, str]] = []
    for email in found.emails:
        key = (ContactKind.EMAIL.value, email.normalized)
        wanted[key] = {
            "value": email.value[:320], "is_role": email.is_role, "is_free_provider": email.is_free_provider,
            "on_domain": email.on_domain, "certain": True, "number_type": "",
            "name": (email.name or "")[:200], "title": (email.title or "")[:200], "confidence": email.confidence,
        }
        sources.append((*key, email.method, email.value[:320]))
    for phone in found.phones:
        key = (ContactKind.PHONE.value, phone.e164)
        wanted[key] = {
            "value": phone.raw[:320], "is_role": False, "is_free_provider": False, "on_domain": False,
            "certain": phone.certain, "number_type": phone.number_type or "",
            "name": (phone.name or "")[:200], "title": (phone.title or "")[:200], "confidence": phone.confidence,
        }
        sources.append((*key, phone.method, phone.raw[:320]))

    with transaction.atomic():
        contacts = _upsert_contacts(domain, business, wanted, now, result)
        _upsert_sources(page, contacts, sources, now, result)
        result.socials = _upsert_socials(domain, business, page, found.socials, now)
    return result


def _upsert_contacts(domain, business, wanted: dict, now, result: RecordResult) -> dict:
    if not wanted:
        return {}
    values = {normalized for _, normalized in wanted}
    existing = {
        (c.kind, c.normalized): c
        for c in Contact.objects.filter(domain=domain, normalized__in=values)
    }
    missing = [key for key in wanted if key not in existing]
    result.contacts_updated += len(existing)  # seen again
    if missing:
        new_rows = []
        for kind, normalized in missing:
            facts = wanted[(kind, normalized)]
            new_rows.append(Contact(
                domain=domain, business=business, kind=kind, normalized=normalized,
                first_seen_at=now, last_seen_at=now, **facts,
            ))
        # A concurrent scrape of another page of the same domain may insert the same contact:
        # the unique constraint decides, and we read the winners back.
        Contact.objects.bulk_create(new_rows, ignore_conflicts=True)
        created = {
            (c.kind, c.normalized): c
            for c in Contact.objects.filter(domain=domain, normalized__in=[n for _, n in missing])
        }
        result.contacts_created += len(created)
        existing.update(created)
    changed, seen_again = [], []
    for key, contact in existing.items():
        facts = wanted.get(key)
        if facts is None:
            continue
        dirty = False
        if contact.first_seen_at is None:
            contact.first_seen_at = now
            dirty = True
        if facts["name"] and (not contact.name or facts["confidence"] > contact.confidence):
            if contact.name != facts["name"]:
                contact.name = facts["name"]
                contact.title = facts["title"] or contact.title
                dirty = True
        elif facts["title"] and not contact.title:
            contact.title = facts["title"]
            dirty = True
        if facts["confidence"] > contact.confidence:
            contact.confidence = facts["confidence"]
            dirty = True
        if facts["certain"] and not contact.certain:
            contact.certain = True
            dirty = True
        for flag in ("is_role", "is_free_provider", "on_domain"):
            if facts[flag] and not getattr(contact, flag):
                setattr(contact, flag, True)
                dirty = True
        if facts["number_type"] and not contact.number_type:
            contact.number_type = facts["number_type"]
            dirty = True
        if business is not None and contact.business_id is None:
            contact.business = business
            dirty = True
        if dirty:
            contact.last_seen_at = max(contact.last_seen_at or now, now)
            changed.append(contact)
        elif contact.last_seen_at is None or contact.last_seen_at < now:
            seen_again.append(contact.pk)
    if seen_again:
        # The common case on a re-scrape: only "last seen" moves (one plain UPDATE, not a CASE per field).
        Contact.objects.filter(pk__in=seen_again).update(last_seen_at=now)
    if changed:
        # Only the facts: never the workflow statuses (they belong to the engine).
        Contact.objects.bulk_update(
            changed,
            ["last_seen_at", "first_seen_at", "name", "title", "confidence", "certain", "is_role",
             "is_free_provider", "on_domain", "number_type", "business", "updated_at"],
            batch_size=200,
        )
    return existing


def _upsert_sources(page, contacts: dict, sources: list, now, result: RecordResult) -> None:
    existing = {(s.contact_id, s.method): s for s in ContactSource.objects.filter(page=page)}
    found_pairs = set()
    to_create, to_refresh = [], []
    for kind, normalized, method, written in sources:
        contact = contacts.get((kind, normalized))
        if contact is None:
            continue
        found_pairs.add((contact.pk, method))
        source = existing.get((contact.pk, method))
        if source is None:
            to_create.append(ContactSource(contact=contact, page=page, method=method, value_as_written=written,
                                           first_seen=now, last_seen=now, still_on_page=True))
        else:
            to_refresh.append(source.pk)
    if to_create:
        ContactSource.objects.bulk_create(to_create, ignore_conflicts=True)
        result.sources_created += len(to_create)
    if to_refresh:
        ContactSource.objects.filter(pk__in=to_refresh).update(last_seen=now, still_on_page=True)
    gone = [s.pk for pair, s in existing.items() if pair not in found_pairs and s.still_on_page]
    if gone:
        result.sources_gone += ContactSource.objects.filter(pk__in=gone).update(still_on_page=False)


def _upsert_socials(domain, business, page, socials, now) -> int:
    """One upsert statement for all of a page's social links (unique per domain and URL)."""
    if not socials:
        return 0
    rows = {}
    for social in socials:
        url = social.url[:1000]
        rows[url] = SocialLink(
            domain=domain, business=business, page=page, url=url, network=social.network,
            handle=social.handle[:200], method=social.method, first_seen=now, last_seen=now,
        )
    update_fields = ["network", "handle", "method", "page", "last_seen"] + (["business"] if business is not None else [])
    SocialLink.objects.bulk_create(
        list(rows.values()), update_conflicts=True, unique_fields=["domain", "url"], update_fields=update_fields
    )
    return len(socials)


def contacts_reextract(*, domain_ids: Iterable | None = None) -> RecordResult:
    """Extract contacts again from every stored PageContent (of `domain_ids`, or all): no fetching."""
    from pages.models import PageContent

    contents = PageContent.objects.select_related("page__domain").order_by("page__domain__domain", "page__url")
    if domain_ids is not None:
        contents = contents.filter(page__domain_id__in=list(domain_ids))
    total = RecordResult()
    for content in contents.iterator(chunk_size=200):
        total.add(page_contacts_record(page=content.page, content=content))
    return total


# --- contact_validation ---------------------------------------------------------------------------------

def dns_resolver():
    """The resolver `contact_validate` uses: CONTACTS_DNS_RESOLVER_FACTORY (a dotted path), by default
    `contacts.validation.make_resolver` (CONTACTS_DNS_TIMEOUT / CONTACTS_DNS_NAMESERVERS). Tests point the
    setting at a fake: DNS is the network boundary of this workflow."""
    factory = getattr(settings, "CONTACTS_DNS_RESOLVER_FACTORY", "") or "contacts.validation.make_resolver"
    return import_string(factory)()


def email_result(check) -> str:
    """The stored result of an EmailCheck (see ValidationResult); an unknown is never promoted to valid."""
    if not check.syntax_valid or check.deliverability == UNDELIVERABLE:
        return ValidationResult.INVALID
    if check.is_disposable:
        return ValidationResult.RISKY
    if check.deliverability == DELIVERABLE:
        return ValidationResult.VALID
    return ValidationResult.UNKNOWN


def contact_validate(*, record: Contact) -> None:
    """Hook of `contact_validation`: validate one contact and store the result with its timestamp."""
    now = timezone.now()
    values: dict = {}
    if record.kind == ContactKind.EMAIL:
        check = validate_email_address(record.normalized, resolver=dns_resolver())
        result = email_result(check)
        values.update(
            is_disposable=check.is_disposable, is_free_provider=check.is_free_provider, is_role=check.is_role,
            mx_hosts=list(check.mx_hosts), validation_reason=check.reason[:2000],
        )
        detail = {"deliverability": check.deliverability}
    else:
        region = record.business.country_code if record.business_id and record.business else None
        check = validate_phone_number(record.normalized, default_region=region or None)
        result = ValidationResult.VALID if check.valid else ValidationResult.INVALID
        values.update(mx_hosts=[], validation_reason=check.reason)
        if check.number_type:
            values["number_type"] = check.number_type
        detail = {"number_type": check.number_type, "region": check.region}
    history = [{"at": now.isoformat(timespec="seconds"), "result": str(result), "reason": values["validation_reason"],
                **detail}]
    history += list(Contact.objects.filter(pk=record.pk).values_list("validation_history", flat=True).first() or [])
    values.update(validation_result=result, validated_at=now, validation_history=history[:VALIDATION_HISTORY_KEEP],
                  updated_at=now)
    Contact.objects.filter(pk=record.pk).update(**values)


# --- syncs ---------------------------------------------------------------------------------------------

def suppression_reason(contact: Contact) -> str | None:
    """Why `contact` must not be contacted (the suppression list), or None."""
    email = contact.normalized if contact.kind == ContactKind.EMAIL else None
    hosts = []
    if email:
        hosts.append(email.rpartition("@")[2])
    hosts.append(contact.domain.domain)
    candidates = set()
    for host in hosts:
        labels = host.lower().strip(".").split(".")
        candidates.update(".".join(labels[i:]) for i in range(len(labels) - 1))
    entries = Suppression.objects.filter(
        Q(kind=SuppressionKind.EMAIL, value=email or "") | Q(kind=SuppressionKind.DOMAIN, value__in=candidates)
    ).values_list("kind", "value", "reason")
    emails, domains, reasons = set(), set(), {}
    for kind, value, reason in entries:
        (emails if kind == SuppressionKind.EMAIL else domains).add(value)
        reasons[value] = reason
    found = is_suppressed(email, contact.domain.domain, emails=emails, domains=domains)
    if found is None:
        return None
    for value, reason in reasons.items():
        if reason and value in found:
            return f"{found} ({reason})"
    return found


def _check_syncable(contact: Contact, destination: str) -> None:
    reason = suppression_reason(contact)
    if reason:
        raise PermanentError(f"Not synced to {destination}: {reason}", error_class=ErrorClass.BLOCKED)
    if contact.validation_result == ValidationResult.INVALID:
        raise PermanentError(
            f"Not synced to {destination}: the last validation found this contact invalid "
            f"({contact.validation_reason or 'no detail'}); validate it again if it changed",
            error_class=ErrorClass.BLOCKED,
        )


def contact_payload(contact: Contact) -> ContactPayload:
    """The plain data the CRM clients take: real values only, never placeholders (B-17)."""
    business = contact.business
    if business is None:
        business = contact.domain.businesses.order_by("created_at", "pk").first()
    phone = contact.normalized if contact.kind == ContactKind.PHONE else None
    if phone is None and contact.name:
        # the same person's own number, when the page marked both up
        phone = (Contact.objects.filter(domain_id=contact.domain_id, kind=ContactKind.PHONE, name=contact.name)
                 .order_by("-confidence").values_list("normalized", flat=True).first())
    source = (ContactSource.objects.filter(contact=contact).select_related("page")
              .order_by("-still_on_page", "first_seen").first())
    website = (business.website_normalized or business.website) if business else ""
    return ContactPayload(
        contact_id=str(contact.pk),
        kind=contact.kind,
        email=contact.normalized if contact.kind == ContactKind.EMAIL else None,
        phone_e164=phone,
        full_name=contact.name or None,
        job_title=contact.title or None,
        company_name=(business.name if business else None) or None,
        website=website or contact.domain.homepage_url or None,
        domain=contact.domain.domain,
        city=(business.city if business else None) or None,
        country_code=(business.country_code if business else None) or None,
        business_phone_e164=(business.phone_e164 if business else None) or None,
        source_url=source.page.url if source else None,
        validation=contact.validation_result or None,
    )


def _load(record: Contact) -> Contact:
    return Contact.objects.select_related("domain", "business").get(pk=record.pk)


def contact_brevo_sync(*, record: Contact) -> None:
    """Hook of `brevo_sync`: idempotent upsert by email; stores Brevo's contact id."""
    from contacts.crm import brevo_client

    contact = _load(record)
    _check_syncable(contact, "Brevo")
    payload = contact_payload(contact)
    with brevo_client() as client:
        result = client.upsert_contact(payload, list_ids=getattr(settings, "BREVO_LIST_IDS", []) or [])
    now = timezone.now()
    Contact.objects.filter(pk=contact.pk).update(
        brevo_remote_id=result.remote_id[:100], brevo_synced_at=now, brevo_sync_detail=result.detail[:500],
        updated_at=now)


def contact_hubspot_sync(*, record: Contact) -> None:
    """Hook of `hubspot_sync`: idempotent upsert by email (batch upsert on `email`); stores HubSpot's id."""
    from contacts.crm import hubspot_client

    contact = _load(record)
    _check_syncable(contact, "HubSpot")
    payload = contact_payload(contact)
    with hubspot_client() as client:
        result = client.upsert_contact(payload)
    now = timezone.now()
    Contact.objects.filter(pk=contact.pk).update(
        hubspot_remote_id=result.remote_id[:100], hubspot_synced_at=now, hubspot_sync_detail=result.detail[:500],
        updated_at=now)


def webhook_idempotency_key(payload: ContactPayload) -> str:
    """The same contact with the same data gives the same key: a re-run is recognisable as a redelivery."""
    digest = hashlib.sha256(json.dumps(payload.present(), sort_keys=True).encode("utf-8")).hexdigest()[:20]
    return f"contact-{payload.contact_id}-{digest}"


def contact_webhook_sync(*, record: Contact) -> None:
    """Hook of `webhook_sync`: POST a signed JSON document to WEBHOOK_SYNC_URL; stores the delivery id."""
    from contacts.crm import webhook_client

    contact = _load(record)
    _check_syncable(contact, "the webhook")
    payload = contact_payload(contact)
    with webhook_client() as client:
        result = client.send("contact.synced", payload, idempotency_key=webhook_idempotency_key(payload))
    now = timezone.now()
    Contact.objects.filter(pk=contact.pk).update(
        webhook_delivery_id=result.remote_id[:200], webhook_synced_at=now, webhook_sync_detail=result.detail[:500],
        updated_at=now)


# --- suppression list ---------------------------------------------------------------------------------

@dataclass
class SuppressionAddResult:
    created: list[dict] = field(default_factory=list)
    existing: list[dict] = field(default_factory=list)
    errors: list[dict] = field(default_factory=list)

    def as_dict(self) -> dict:
        return asdict(self)


def suppression_add(*, values: Iterable[str], reason: str = "", user=None) -> SuppressionAddResult:
    """Add emails / domains to the suppression list (normalised; duplicates are reported, not repeated)."""
    result = SuppressionAddResult()
    for raw in values:
        try:
            kind, value = normalize_suppression_entry(raw)
        except ValueError as exc:
            result.errors.append({"input": str(raw), "error": str(exc)})
            continue
        with transaction.atomic():
            entry, created = Suppression.objects.get_or_create(
                kind=kind, value=value,
                defaults={"reason": reason[:500], "created_by": user if getattr(user, "is_authenticated", False) else None},
            )
        row = {"id": str(entry.pk), "kind": kind, "value": value, "input": str(raw)}
        (result.created if created else result.existing).append(row)
    return result


# --- enrichment callback ------------------------------------------------------------------------------

class EnrichmentNotFound(LookupError):
    pass


class EnrichmentConflict(ValueError):
    pass


@dataclass
class EnrichmentApplyResult:
    contact_id: str
    enrichment_id: str
    duplicate: bool
    updated_fields: list[str]

    @property
    def message(self) -> str:
        if self.duplicate:
            return f"Enrichment {self.enrichment_id} was already applied; nothing changed"
        if not self.updated_fields:
            return f"Enrichment {self.enrichment_id} recorded; no enriched fields were provided"
        return f"Enrichment {self.enrichment_id} applied: {', '.join(self.updated_fields)}"


_ENRICHED = {  # key in enriched_data -> Contact field
    "phone": "enriched_phone",
    "address": "enriched_address",
    "social_profiles": "enriched_social_profiles",
    "company": "enriched_company",
    "additional_emails": "enriched_additional_emails",
    "confidence_score": "enrichment_confidence",
    "sources": "enrichment_sources",
}


def contact_enrichment_apply(*, contact_id, enrichment_id: str, status: str, enriched_data: dict | None = None,
                             metadata: dict | None = None, error: str = "", raw: dict | None = None
                             ) -> EnrichmentApplyResult:
    """Apply one enrichment result to a contact: only the provided fields are written; idempotent on the id.

    Raises EnrichmentNotFound (unknown contact) or EnrichmentConflict (the id was used for another contact).
    """
    with transaction.atomic():
        try:
            contact = Contact.objects.select_for_update().get(pk=contact_id)
        except Contact.DoesNotExist:
            raise EnrichmentNotFound(f"Contact {contact_id} not found") from None
        previous = EnrichmentEvent.objects.filter(enrichment_id=enrichment_id).first()
        if previous is not None:
            if previous.contact_id != contact.pk:
                raise EnrichmentConflict(
                    f"enrichment_id {enrichment_id!r} was already used for another contact")
            return EnrichmentApplyResult(str(contact.pk), enrichment_id, True, list(previous.updated_fields))
        now = timezone.now()
        values: dict = {}
        for key, field_name in _ENRICHED.items():
            if enriched_data and key in enriched_data and enriched_data[key] is not None:
                values[field_name] = enriched_data[key]
        if metadata:
            values["enrichment_metadata"] = {**(contact.enrichment_metadata or {}), **metadata}
        updated = sorted(values)
        values.update(enrichment_status=status, last_enrichment_id=enrichment_id, enrichment_completed_at=now,
                      enrichment_error=(error or "")[:2000] if status == "failed" else "", updated_at=now)
        Contact.objects.filter(pk=contact.pk).update(**values)
        try:
            with transaction.atomic():
                EnrichmentEvent.objects.create(enrichment_id=enrichment_id, contact=contact, status=status,
                                               updated_fields=updated, payload=raw or {})
        except IntegrityError:  # the same id delivered twice at once: the first one wins
            transaction.set_rollback(True)
            return EnrichmentApplyResult(str(contact.pk), enrichment_id, True, [])
    return EnrichmentApplyResult(str(contact.pk), enrichment_id, False, updated)


# --- exports ------------------------------------------------------------------------------------------

def export_queryset(queryset: QuerySet) -> QuerySet:
    """The queryset with what the export rows read, loaded in bulk."""
    from places.models import LocalBusiness

    return queryset.select_related("domain", "business__source_place__first_search").prefetch_related(
        Prefetch("sources", queryset=ContactSource.objects.select_related("page").order_by("first_seen", "pk")),
        Prefetch("domain__businesses",
                 queryset=LocalBusiness.objects.select_related("source_place__first_search").order_by("created_at", "pk")),
    )


def export_row(contact: Contact) -> dict:
    """One contact as a plain dict keyed by `contacts.exports.EXPORT_COLUMNS`."""
    business = contact.business
    if business is None:
        businesses = list(contact.domain.businesses.all())
        business = businesses[0] if businesses else None
    sources = list(contact.sources.all())
    first, last = split_name(contact.name)
    place = getattr(business, "source_place", None) if business else None
    search = getattr(place, "first_search", None) if place else None
    current = [s for s in sources if s.still_on_page] or sources
    urls = list(dict.fromkeys(s.page.url for s in sources))
    return {
        "id": str(contact.pk),
        "kind": contact.kind,
        "email": contact.normalized if contact.kind == ContactKind.EMAIL else None,
        "phone": contact.normalized if contact.kind == ContactKind.PHONE else None,
        "full_name": contact.name or None,
        "first_name": first,
        "last_name": last,
        "job_title": contact.title or None,
        "company_name": (business.name or None) if business else None,
        "website": ((business.website_normalized or business.website) if business else None)
        or contact.domain.homepage_url,
        "domain": contact.domain.domain,
        "city": (business.city or None) if business else None,
        "country_code": (business.country_code or None) if business else None,
        "business_phone": (business.phone_e164 or None) if business else None,
        "validation": contact.validation_result or None,
        "validation_reason": contact.validation_reason or None,
        "is_role": contact.is_role,
        "is_free_provider": contact.is_free_provider,
        "is_disposable": contact.is_disposable,
        "phone_type": contact.number_type or None,
        "search_query": (f"{search.query} in {search.location_text}" if search.location_text else search.query)
        if search else None,
        "source_url": current[0].page.url if current else None,
        "found_on_urls": urls,
        "found_on_count": len(urls),
        "methods": list(dict.fromkeys(s.method for s in sources)),
        "first_seen": min((s.first_seen for s in sources), default=contact.first_seen_at),
        "last_seen": max((s.last_seen for s in sources), default=contact.last_seen_at),
        "still_on_page": any(s.still_on_page for s in sources) if sources else None,
        "curation_status": contact.contact_validation_curation_status,
        "brevo_id": contact.brevo_remote_id or None,
        "hubspot_id": contact.hubspot_remote_id or None,
    }


def export_rows(queryset: QuerySet) -> Iterator[dict]:
    for contact in export_queryset(queryset).iterator(chunk_size=500):
        yield export_row(contact)


EXPORT_FORMATS = {
    "csv": ("text/csv; charset=utf-8", "csv"),
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx"),
}


def contacts_export(*, queryset: QuerySet, columns: list[str] | str | None, fmt: str, out: BinaryIO) -> int:
    """Write the contacts of `queryset` to `out` as CSV (UTF-8 with BOM) or XLSX; returns the row count.

    `columns` is a list of EXPORT_COLUMNS keys or a comma list ("email,phone");
    empty = the default columns. Unknown columns or formats raise ValueError.
    """
    if fmt not in EXPORT_FORMATS:
        raise ValueError(f"unknown export format {fmt!r}; allowed: {', '.join(EXPORT_FORMATS)}")
    if columns is None or isinstance(columns, str):
        columns = exports.parse_columns(columns)
    else:
        columns = exports.parse_columns(",".join(columns))
    rows = export_rows(queryset.order_by("domain__domain", "kind", "normalized"))
    if fmt == "csv":
        return exports.write_csv(rows, columns, out)
    return exports.write_xlsx(rows, columns, out)
