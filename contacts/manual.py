"""Contacts made and edited by hand (the original's `POST /contacts/`, `PUT /contacts/{id}`; issue #13).

Extraction is how contacts normally arrive (`services.page_contacts_record`).
A contact typed in by a person goes through the same rules: the email's syntax
(email-validator) and flags (role, free provider, disposable), the phone's
E.164 form (phonenumbers, the domain's region for national numbers), one row
per (domain, kind, value). Its provenance says who made it: a `ContactSource`
with method `manual` on the page it was typed in for, and an audit event
(source `api`, the user as actor, note "created by hand"). Statuses change
only through `curation.services.curation_status_set`; a value (the contact's
identity and dedupe key) is never rewritten in place.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from contacts.extract_data import registrable_domain
from contacts.models import WORKFLOWS, Contact, ContactKind, ContactSource, ExtractionMethod
from contacts.services import _domain_businesses, _region
from contacts.validation import validate_email_address, validate_phone_number
from curation import registry
from curation.choices import ProcessingStatus
from curation.models import CurationEvent
from curation.services import CurationInputError, StatusSetResult, curation_status_set
from pages.models import Domain, Page
from pages.services import AlreadyKnown

MANUAL_NOTE = "created by hand"


@dataclass
class ContactValue:
    """A typed-in email or phone number, normalised as extraction would."""

    kind: str
    normalized: str
    written: str
    facts: dict = field(default_factory=dict)


def contact_value_clean(*, kind: str, raw: str, domain: Domain) -> ContactValue:
    """The normalised value of a typed-in email or phone number; CurationInputError (400) if it is not one."""
    text = (raw or "").strip()
    if not text:
        raise CurationInputError(f"{'email' if kind == ContactKind.EMAIL else 'phone_number'}: empty")
    if kind == ContactKind.EMAIL:
        check = validate_email_address(text, check_dns=False)
        if not check.syntax_valid:
            raise CurationInputError(f"email: {text!r} is not a valid address ({check.reason})")
        own = registrable_domain(check.normalized.rpartition("@")[2]) == registrable_domain(domain.domain)
        return ContactValue(kind, check.normalized, text[:320], {
            "is_role": check.is_role, "is_free_provider": check.is_free_provider,
            "is_disposable": check.is_disposable, "on_domain": own})
    check = validate_phone_number(text, default_region=_region(_domain_businesses(domain)))
    if not check.valid:
        raise CurationInputError(f"phone_number: {text!r} is not a valid phone number ({check.reason}); "
                                 "write it with its country code (+44 20 7946 0958)")
    return ContactValue(kind, check.e164, text[:320], {"number_type": check.number_type or ""})


def _audit_created(contacts: list[Contact], *, user, at) -> None:
    actor = user if getattr(user, "is_authenticated", False) else None
    CurationEvent.objects.bulk_create([
        CurationEvent(at=at, workflow="contact_validation", model_label=Contact._meta.label, object_id=str(c.pk),
                      curation_to=c.contact_validation_curation_status, note=MANUAL_NOTE, source="api",
                      actor=actor, actor_label=actor.get_username() if actor else "system")
        for c in contacts])


def contact_create(*, domain_id, email: str | None = None, phone_number: str | None = None, name: str = "",
                   page_id=None, user=None) -> list[Contact]:
    """Create the contacts one person typed in for a domain: the email's, and the phone number's if given.

    All or nothing: an unknown domain or page, a page of another domain, an invalid email or phone
    number raise CurationInputError (400); a value the domain already has raises AlreadyKnown (409).
    Provenance: a `manual` source on `page_id` (if given) and an audit event per contact.
    """
    domain = Domain.objects.filter(pk=domain_id).first()
    if domain is None:
        raise CurationInputError(f"domain_id: no domain {domain_id}")
    page = None
    if page_id:
        page = Page.objects.filter(pk=page_id).first()
        if page is None:
            raise CurationInputError(f"page_id: no page {page_id}")
        if page.domain_id != domain.pk:
            raise CurationInputError(f"page_id: page {page_id} is not on {domain.domain}")
    values = []
    if email:
        values.append(contact_value_clean(kind=ContactKind.EMAIL, raw=email, domain=domain))
    if phone_number:
        values.append(contact_value_clean(kind=ContactKind.PHONE, raw=phone_number, domain=domain))
    if not values:
        raise CurationInputError("email or phone_number is required")
    now = timezone.now()
    with transaction.atomic():
        known = Contact.objects.filter(domain=domain).filter(
            Q(*(Q(kind=v.kind, normalized=v.normalized) for v in values), _connector=Q.OR))
        existing = [str(pk) for pk in known.values_list("pk", flat=True)]
        if existing:
            raise AlreadyKnown(f"{domain.domain} has this contact already", existing=existing)
        businesses = _domain_businesses(domain)
        contacts = []
        try:
            with transaction.atomic():  # a concurrent twin: the unique constraint decides
                for value in values:
                    contacts.append(Contact.objects.create(
                        domain=domain, business=businesses[0] if len(businesses) == 1 else None, kind=value.kind,
                        value=value.written, normalized=value.normalized, name=(name or "")[:200], certain=True,
                        confidence=1.0, first_seen_at=now, last_seen_at=now, **value.facts))
        except IntegrityError:
            raise AlreadyKnown(f"{domain.domain} has this contact already", existing=[]) from None
        if page is not None:
            ContactSource.objects.bulk_create([
                ContactSource(contact=c, page=page, method=ExtractionMethod.MANUAL, value_as_written=v.written,
                              first_seen=now, last_seen=now) for c, v in zip(contacts, values)])
        _audit_created(contacts, user=user, at=now)
    return contacts


@dataclass
class ContactUpdateResult:
    name_changed: bool = False
    statuses: list[StatusSetResult] = field(default_factory=list)


def contact_update(*, contact: Contact, name: str | None = None, statuses: dict[str, str] | None = None,
                   user=None) -> ContactUpdateResult:
    """Edit a contact by hand: its name, and curation statuses of its workflows ({workflow name: status}).

    Statuses go through `curation_status_set` (a selection queues like any other); the name is written
    with one UPDATE of that field (never a whole-row save: workers may be writing their own fields).
    All or nothing: a status the workflow refuses raises CurationInputError and nothing changes.
    """
    result = ContactUpdateResult()
    with transaction.atomic():
        if name is not None and name[:200] != contact.name:
            Contact.objects.filter(pk=contact.pk).update(name=name[:200], updated_at=timezone.now())
            result.name_changed = True
        for workflow_name, status in (statuses or {}).items():
            if workflow_name not in WORKFLOWS:
                raise CurationInputError(f"{workflow_name} is not a contact workflow")
            result.statuses.append(curation_status_set(workflow=registry.get(workflow_name), ids=[contact.pk],
                                                       status=status, actor=user, source="api"))
    return result


def contact_delete(*, contact: Contact) -> bool:
    """Delete a contact unless a worker holds it right now (False then: try again in a moment)."""
    in_flight = Q()
    for name in WORKFLOWS:
        in_flight |= Q(**{f"{registry.get(name).status_field}": ProcessingStatus.PROCESSING})
    with transaction.atomic():
        deleted, _ = Contact.objects.filter(pk=contact.pk).exclude(in_flight).delete()
    return bool(deleted)
