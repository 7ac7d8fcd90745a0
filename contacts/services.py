"""Services of the contacts app: storing extracted contacts, the WF8 hooks, enrichment and exports.

- `page_content_extract` is the hook of `contact_extraction` (processing-only,
  on `pages.PageContent`, queued by page_scrape through
  `page_content_extraction_queue`): one parse of the stored HTML for the page's
  metadata and contacts; `page_contacts_record` turns that extraction into
  deduplicated `Contact` rows with provenance (`ContactSource`) and social
  links; `contacts_reextract` re-runs it over stored content (no fetching).
- Hooks (`contact_validate`, `contact_brevo_sync`, `contact_hubspot_sync`,
  `contact_webhook_sync`) are safe to run twice, make their network call outside
  any transaction, and write only their own fields with an UPDATE through the
  lease (`lease.complete()` / `leases.complete(pks)`: nothing is written for a
  row another worker took over; several workflows can run on the same contact at once).
- `contact_enrichment_apply` applies an enrichment callback, idempotent on its id.
- `contacts_export` writes CSV / XLSX.
"""
from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from typing import BinaryIO

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Count, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.module_loading import import_string

from contacts import exports
from contacts.crm import ContactPayload, brevo_client, hubspot_client, split_name, webhook_client
from contacts.crm.common import idempotency_key
from contacts.extract import extract_page
from contacts.models import (
    Contact,
    ContactKind,
    ContactSource,
    EnrichmentEvent,
    ExtractionMethod,
    SocialLink,
    Suppression,
    SuppressionKind,
    ValidationResult,
)
from contacts.suppression import is_suppressed, normalize_suppression_entry
from contacts.validation import DELIVERABLE, UNDELIVERABLE, validate_email_address, validate_phone_number
from curation import registry
from curation.exceptions import ErrorClass, PermanentError
from curation.services import processing_enqueue
from pages.models import Domain, Page, PageContent
from places.models import LocalBusiness

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
    return list(LocalBusiness.objects.filter(domain=domain).order_by("created_at", "pk")[:20])


def _region(businesses) -> str | None:
    for business in businesses:
        if business.country_code:
            return business.country_code.upper()
    return None


def page_content_extraction_queue(*, page, content) -> bool:
    """`pages.contacts_hook.content_stored`: page_scrape stored (or replaced) `content`; queue its
    `contact_extraction` (inside the scrape's transaction). Queued again whatever its state: new content is
    new input, and a run still extracting the old content loses its lease (its results are discarded)."""
    processing_enqueue(workflow=registry.get("contact_extraction"), ids=[content.pk], again=True)
    return True


def _is_html(content_type: str) -> bool:
    return "html" in content_type or not content_type


def page_content_extract(*, record: PageContent, lease) -> None:
    """contact_extraction hook (processing-only, queued by page_scrape): parse the stored HTML once
    (`contacts.extract.extract_page`) for the page's metadata and its contacts, then write both through the
    lease: the metadata onto the content (an UPDATE of its own fields), the contacts with provenance
    (`page_contacts_record`). CPU and reads first, outside any transaction; nothing is written if the lease
    was lost (the page was scraped again meanwhile, or the row was rescued)."""
    content = record  # the engine loaded the row (html included) when it claimed it
    page = Page.objects.select_related("domain").get(pk=content.page_id)
    businesses = _domain_businesses(page.domain)
    found = extract_page(content.html or "", url=content.final_url or page.url, site_domain=page.domain.domain,
                         region=_region(businesses))
    metadata = found.metadata if _is_html(content.content_type) else {}
    with lease.complete():
        if metadata:
            PageContent.objects.filter(pk=content.pk).update(**metadata)
        page_contacts_record(page=page, content=content, found=found, businesses=businesses)


def page_contacts_record(*, page, content, found=None, businesses: list | None = None) -> RecordResult:
    """Upsert the contacts of one scraped page, in one transaction; `found` is the page's extraction
    (`extract_page`, done by the `contact_extraction` hook before its transaction), else it is extracted here
    from the stored HTML.

    Contacts are unique per (domain, kind, normalised value); every (page,
    method) they were found by is a `ContactSource`. A source of this page not
    found again gets `still_on_page = False`; nothing is ever duplicated, and
    the contacts' own curation and processing statuses are never touched.
    """
    domain = page.domain
    if businesses is None:
        businesses = _domain_businesses(domain)
    business = businesses[0] if len(businesses) == 1 else None
    if found is None:
        found = extract_page(
            content.html or "",
            url=content.final_url or page.url,
            site_domain=domain.domain,
            region=_region(businesses),
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
    for fax in found.faxes:  # its own kind: stored and exported, never synced as a phone
        key = (ContactKind.FAX.value, fax.e164)
        wanted[key] = {
            "value": fax.raw[:320], "is_role": False, "is_free_provider": False, "on_domain": False,
            "certain": fax.certain, "number_type": fax.number_type or "",
            "name": "", "title": "", "confidence": fax.confidence,
        }
        sources.append((*key, fax.method, fax.raw[:320]))

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
    # A source typed in by hand (contacts.manual) is not the scraper's to confirm or mark gone.
    existing = {(s.contact_id, s.method): s
                for s in ContactSource.objects.filter(page=page).exclude(method=ExtractionMethod.MANUAL)}
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
            handle=social.handle[:200], method=social.method, location=social.location, first_seen=now,
            last_seen=now,
        )
    update_fields = ["network", "handle", "method", "location", "page", "last_seen"] + (["business"] if business is not None else [])
    SocialLink.objects.bulk_create(
        list(rows.values()), update_conflicts=True, unique_fields=["domain", "url"], update_fields=update_fields
    )
    return len(socials)


def contacts_reextract(*, domain_ids: Iterable | None = None) -> RecordResult:
    """Extract contacts again from every stored PageContent (of `domain_ids`, or all): no fetching."""
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


def contact_validate(*, record: Contact, lease) -> None:
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
    with lease.complete():
        history += list(Contact.objects.filter(pk=record.pk).values_list("validation_history", flat=True).first() or [])
        values.update(validation_result=result, validated_at=now, validation_history=history[:VALIDATION_HISTORY_KEEP],
                      updated_at=now)
        Contact.objects.filter(pk=record.pk).update(**values)


# --- syncs ---------------------------------------------------------------------------------------------
#
# The three sync hooks are batch hooks (Workflow.hook_batch_size): they take the claimed rows of one vendor
# call, build every payload with a few queries, make ONE call through the vendor's batch endpoint outside any
# transaction, write each row's result with one UPDATE, and answer {pk: error} for the rows that failed, so one
# bad contact fails alone and is retried alone. External effects are at-least-once: every delivery carries an
# idempotency key derived from the row and its content version (crm.common.idempotency_key), and the CRMs
# upsert by email, so a redelivery (a retry, a re-run after a lost lease) is harmless at the receiver.

def suppression_reasons(contacts: list[Contact]) -> dict:
    """{pk: why this contact must not be contacted} for the suppressed ones, in one query."""
    wanted: dict = {}
    emails, hosts_all = set(), set()
    for contact in contacts:
        email = contact.normalized if contact.kind == ContactKind.EMAIL else None
        hosts = [email.rpartition("@")[2]] if email else []
        hosts.append(contact.domain.domain)
        candidates = set()
        for host in hosts:
            labels = host.lower().strip(".").split(".")
            candidates.update(".".join(labels[i:]) for i in range(len(labels) - 1))
        wanted[contact.pk] = (email, candidates)
        if email:
            emails.add(email)
        hosts_all |= candidates
    if not wanted:
        return {}
    entries = Suppression.objects.filter(
        Q(kind=SuppressionKind.EMAIL, value__in=emails) | Q(kind=SuppressionKind.DOMAIN, value__in=hosts_all)
    ).values_list("kind", "value", "reason")
    listed_emails, listed_domains, reasons = set(), set(), {}
    for kind, value, reason in entries:
        (listed_emails if kind == SuppressionKind.EMAIL else listed_domains).add(value)
        reasons[value] = reason
    if not listed_emails and not listed_domains:
        return {}
    found_reasons = {}
    for contact in contacts:
        email, candidates = wanted[contact.pk]
        found = is_suppressed(email, contact.domain.domain, emails=listed_emails & {email},
                              domains=listed_domains & candidates)
        if found is None:
            continue
        detail = next((f"{found} ({reason})" for value, reason in reasons.items() if reason and value in found), found)
        found_reasons[contact.pk] = detail
    return found_reasons


def suppression_reason(contact: Contact) -> str | None:
    """Why `contact` must not be contacted (the suppression list), or None."""
    return suppression_reasons([contact]).get(contact.pk)


def _blocked(contact: Contact, destination: str, suppressed: str | None) -> PermanentError | None:
    if suppressed:
        return PermanentError(f"Not synced to {destination}: {suppressed}", error_class=ErrorClass.BLOCKED)
    if contact.validation_result == ValidationResult.INVALID:
        return PermanentError(
            f"Not synced to {destination}: the last validation found this contact invalid "
            f"({contact.validation_reason or 'no detail'}); validate it again if it changed",
            error_class=ErrorClass.BLOCKED,
        )
    return None


_BUSINESS_FIELDS = ("id", "domain_id", "created_at", "name", "website", "website_normalized", "city", "country_code",
                    "phone_e164")


def _with_domains(contacts: list[Contact]) -> list[Contact]:
    """`contacts` with their `domain` loaded (one query for the ones not loaded yet)."""
    missing = {c.domain_id for c in contacts if not Contact.domain.is_cached(c)}
    if missing:
        domains = Domain.objects.only("id", "domain", "homepage_url").in_bulk(list(missing))
        for contact in contacts:
            if not Contact.domain.is_cached(contact):
                contact.domain = domains[contact.domain_id]
    return contacts


def contact_payloads(contacts: list[Contact]) -> dict:
    """{pk: ContactPayload}: the plain data the CRM clients take, real values only (B-17), in three or four
    queries for any number of contacts (their domains when not loaded, their businesses, the same person's own
    phone, the source page). A fax number is sent as what it is (`fax_e164`), never as a phone.
    """
    if not contacts:
        return {}
    _with_domains(contacts)
    domain_ids = {c.domain_id for c in contacts}
    explicit = {c.business_id for c in contacts if c.business_id}
    first_business: dict = {}
    by_pk: dict = {}
    wanted = Q(domain_id__in=list(domain_ids))
    if explicit:
        wanted |= Q(pk__in=list(explicit))
    for business in LocalBusiness.objects.filter(wanted).only(*_BUSINESS_FIELDS).order_by("domain_id", "created_at", "pk"):
        by_pk[business.pk] = business
        if business.domain_id in domain_ids:
            first_business.setdefault(business.domain_id, business)
    names = {c.name for c in contacts if c.kind == ContactKind.EMAIL and c.name}
    own_phone: dict = {}
    if names:
        for domain_id, name, number in (Contact.objects.filter(domain_id__in=list(domain_ids), kind=ContactKind.PHONE,
                                                               name__in=list(names))
                                        .order_by("-confidence", "pk").values_list("domain_id", "name", "normalized")):
            own_phone.setdefault((domain_id, name), number)
    source_url: dict = {}
    for contact_id, url in (ContactSource.objects.filter(contact_id__in=[c.pk for c in contacts])
                            .order_by("contact_id", "-still_on_page", "first_seen").values_list("contact_id", "page__url")):
        source_url.setdefault(contact_id, url)
    payloads = {}
    for contact in contacts:
        business = by_pk.get(contact.business_id) if contact.business_id else None
        business = business or first_business.get(contact.domain_id)
        kind = str(contact.kind)
        phone = contact.normalized if kind == ContactKind.PHONE else None
        if kind == ContactKind.EMAIL and contact.name:
            phone = own_phone.get((contact.domain_id, contact.name))  # the same person's own number
        website = (business.website_normalized or business.website) if business else ""
        payloads[contact.pk] = ContactPayload(
            contact_id=str(contact.pk),
            kind=kind,
            email=contact.normalized if kind == ContactKind.EMAIL else None,
            phone_e164=phone,
            fax_e164=contact.normalized if kind == "fax" else None,
            full_name=contact.name or None,
            job_title=contact.title or None,
            company_name=(business.name if business else None) or None,
            website=website or contact.domain.homepage_url or None,
            domain=contact.domain.domain,
            city=(business.city if business else None) or None,
            country_code=(business.country_code if business else None) or None,
            business_phone_e164=(business.phone_e164 if business else None) or None,
            source_url=source_url.get(contact.pk),
            validation=contact.validation_result or None,
        )
    return payloads


def contact_payload(contact: Contact) -> ContactPayload:
    """The payload of one contact (see `contact_payloads`)."""
    return contact_payloads([contact])[contact.pk]


def webhook_idempotency_key(payload: ContactPayload) -> str:
    """The same contact with the same data gives the same key: a re-run is recognisable as a redelivery."""
    return idempotency_key(payload, prefix="contact")


@dataclass
class _SyncPlan:
    payloads: dict  # pk -> ContactPayload, the rows to send
    failures: dict  # pk -> PermanentError (blocked: suppressed or invalid)
    skipped: dict  # pk -> why the destination cannot take this contact


def _sync_plan(records: list[Contact], destination: str, unsupported) -> _SyncPlan:
    # The engine loaded these rows right after claiming them: they are not read again (a re-read of 100
    # contacts with 22 timestamps and their JSON fields cost more than the vendor call); only their domains.
    contacts = _with_domains(list(records))
    suppressed = suppression_reasons(contacts)
    plan = _SyncPlan({}, {}, {})
    sendable = []
    for contact in contacts:
        blocked = _blocked(contact, destination, suppressed.get(contact.pk))
        if blocked:
            plan.failures[contact.pk] = blocked
        else:
            sendable.append(contact)
    for pk, payload in contact_payloads(sendable).items():
        reason = unsupported(payload) if unsupported else None
        if reason:
            plan.skipped[pk] = f"Skipped, nothing sent: {reason}"
        else:
            plan.payloads[pk] = payload
    return plan


def _write_sync_results(prefix: str, id_field: str, plan: _SyncPlan, results: dict, leases) -> dict:
    """Store each row's outcome (one statement for all, through the lease: only rows still ours);
    returns {pk: error} for the engine."""
    now = timezone.now()
    failures = dict(plan.failures)
    width = Contact._meta.get_field(id_field).max_length
    rows = []
    for pk, payload in plan.payloads.items():
        outcome = results.get(payload.contact_id)
        if outcome is None:
            failures[pk] = PermanentError(f"{prefix}: no answer for this contact", error_class=ErrorClass.BUG)
        elif isinstance(outcome, Exception):
            failures[pk] = outcome
        else:
            rows.append((pk, outcome.remote_id[:width], outcome.detail[:500]))
    rows += [(pk, None, reason[:500]) for pk, reason in plan.skipped.items()]  # a skip keeps the old id
    with leases.complete([row[0] for row in rows]) as ours:
        rows = [row for row in rows if row[0] in ours]
        if rows:
            _update_sync_fields(prefix, id_field, rows, now)
    return failures


def _update_sync_fields(prefix: str, id_field: str, rows: list[tuple], now) -> None:
    """(pk, remote id or None, detail) per row: one UPDATE … FROM unnest() on PostgreSQL (bulk_update's CASE
    per row and field cost 0.5 s per 100 rows), one executemany elsewhere."""
    meta = Contact._meta
    q = connection.ops.quote_name
    table, pk_col = q(meta.db_table), q(meta.pk.column)
    id_col, at_col = q(meta.get_field(id_field).column), q(meta.get_field(f"{prefix}_synced_at").column)
    detail_col, updated_col = q(meta.get_field(f"{prefix}_sync_detail").column), q(meta.get_field("updated_at").column)
    # inside the lease's transaction (no savepoint: the statement is the whole block)
    with transaction.atomic(savepoint=False), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                f"UPDATE {table} AS c SET {id_col} = COALESCE(v.rid, c.{id_col}), "
                f"{at_col} = CASE WHEN v.rid IS NULL THEN c.{at_col} ELSE %s END, "
                f"{detail_col} = v.detail, {updated_col} = %s "
                f"FROM unnest(%s::uuid[], %s::text[], %s::text[]) AS v(id, rid, detail) WHERE c.{pk_col} = v.id",
                [now, now, [r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows]],
            )
            return
        cursor.executemany(
            f"UPDATE {table} SET {id_col} = COALESCE(%s, {id_col}), "
            f"{at_col} = CASE WHEN %s IS NULL THEN {at_col} ELSE %s END, {detail_col} = %s, {updated_col} = %s "
            f"WHERE {pk_col} = %s",
            [(rid, rid, now, detail, now, meta.pk.get_db_prep_value(pk, connection)) for pk, rid, detail in rows],
        )


def contact_brevo_sync(*, records: list[Contact], leases) -> dict:
    """Batch hook of `brevo_sync`: one Brevo import for the rows (upsert by email); stores Brevo's ids.

    A contact Brevo cannot take (no email: a phone or fax number) is skipped with the reason on the row.
    """
    with brevo_client() as client:
        plan = _sync_plan(records, "Brevo", client.unsupported)
        payloads = list(plan.payloads.values())
        results = client.import_contacts(payloads, list_ids=getattr(settings, "BREVO_LIST_IDS", []) or []) \
            if payloads else {}
    return _write_sync_results("brevo", "brevo_remote_id", plan, results, leases)


def contact_hubspot_sync(*, records: list[Contact], leases) -> dict:
    """Batch hook of `hubspot_sync`: batch upsert by email, 100 per call; stores HubSpot's ids.

    A contact HubSpot cannot take (no email: a phone or fax number) is skipped with the reason on the row.
    """
    with hubspot_client() as client:
        plan = _sync_plan(records, "HubSpot", client.unsupported)
        payloads = list(plan.payloads.values())
        results = client.upsert_contacts(payloads) if payloads else {}
    return _write_sync_results("hubspot", "hubspot_remote_id", plan, results, leases)


def contact_webhook_sync(*, records: list[Contact], leases) -> dict:
    """Batch hook of `webhook_sync`: one signed document with the rows as an array; stores the delivery ids.

    Every contact kind goes (a fax as `fax_e164`); WEBHOOK_SYNC_BATCH_SIZE=1 sends one document per contact.
    """
    plan = _sync_plan(records, "the webhook", None)
    items = [(webhook_idempotency_key(p), p) for p in plan.payloads.values()]
    size = max(1, int(getattr(settings, "WEBHOOK_SYNC_BATCH_SIZE", 100) or 1))
    results: dict = {}
    with webhook_client() as client:
        for start in range(0, len(items), size):
            part = items[start:start + size]
            if size == 1:
                key, payload = part[0]
                results[payload.contact_id] = client.send_one("contact.synced", payload, key)
            else:
                results.update(client.send_many("contacts.synced", part))
    return _write_sync_results("webhook", "webhook_delivery_id", plan, results, leases)


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


def contact_list_annotations() -> dict:
    """found_on_count for a Contact queryset (the API's list): a correlated count, worked out for one page of
    rows, not an aggregate over the whole table."""
    return {"found_on_count": Coalesce(Subquery(
        ContactSource.objects.filter(contact=OuterRef("pk")).order_by().values("contact")
        .annotate(n=Count("page", distinct=True)).values("n")), 0)}


# --- exports ------------------------------------------------------------------------------------------

def export_queryset(queryset: QuerySet) -> QuerySet:
    """The queryset with what the export rows read, loaded in bulk."""
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
        "fax": contact.normalized if contact.kind == ContactKind.FAX else None,
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


def contacts_export_stream(*, queryset: QuerySet, columns: list[str] | str | None) -> Iterator[bytes]:
    """The CSV export of `queryset` as byte chunks, for a streamed response: rows are read 500 at a time
    through a server-side cursor, so memory stays flat however many contacts are exported. Unknown columns
    raise ValueError before the first byte."""
    columns = exports.parse_columns(columns if columns is None or isinstance(columns, str) else ",".join(columns))
    return exports.iter_csv(export_rows(queryset.order_by("domain__domain", "kind", "normalized")), columns)


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
