"""Pure validation helpers for the contact_validation workflow.

``validate_email_address`` checks syntax (email-validator), classifies the
address (role / free provider / disposable, from the bundled lists) and asks
DNS whether the domain accepts mail: MX first, then the A/AAAA fallback of
RFC 5321 §5.1. Only a definite answer is "undeliverable" (NXDOMAIN, a null MX,
no MX and no address); timeouts, SERVFAIL and missing nameservers are
"unknown", never "undeliverable". The resolver is injectable (anything with
``.resolve(name, rdtype)`` like :class:`dns.resolver.Resolver`), so tests run
without network.

``validate_phone_number`` is offline (phonenumbers metadata).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import dns.exception
import dns.resolver
import phonenumbers
from email_validator import EmailNotValidError, validate_email

from contacts.extract_data import is_disposable_domain, is_free_provider_domain, is_role_local_part
from contacts.extract_phones import number_type_name

DELIVERABLE = "deliverable"
UNDELIVERABLE = "undeliverable"
UNKNOWN = "unknown"


@dataclass(frozen=True)
class EmailCheck:
    syntax_valid: bool
    normalized: str | None
    deliverability: str  # deliverable | undeliverable | unknown
    mx_hosts: list[str] = field(default_factory=list)  # by preference; empty for the A/AAAA fallback
    is_disposable: bool = False
    is_free_provider: bool = False
    is_role: bool = False
    reason: str = ""


@dataclass(frozen=True)
class PhoneCheck:
    valid: bool
    e164: str | None
    number_type: str | None  # mobile | fixed_line | fixed_line_or_mobile | toll_free | voip | …
    region: str | None
    reason: str = ""


def _setting(name: str, default):
    try:
        from django.conf import settings

        if settings.configured:
            return getattr(settings, name, default)
    except Exception:  # pragma: no cover - Django missing or misconfigured
        pass
    return default


def make_resolver(timeout: float | None = None, nameservers: list[str] | None = None) -> dns.resolver.Resolver:
    """A dnspython resolver honouring CONTACTS_DNS_TIMEOUT / CONTACTS_DNS_NAMESERVERS."""
    timeout = float(timeout if timeout is not None else _setting("CONTACTS_DNS_TIMEOUT", 3.0))
    nameservers = nameservers if nameservers is not None else list(_setting("CONTACTS_DNS_NAMESERVERS", []))
    if nameservers:
        resolver = dns.resolver.Resolver(configure=False)
        resolver.nameservers = nameservers
    else:
        try:
            resolver = dns.resolver.Resolver()
        except dns.resolver.NoResolverConfiguration:
            resolver = dns.resolver.Resolver(configure=False)
            resolver.nameservers = []
    resolver.timeout = timeout
    resolver.lifetime = timeout
    return resolver


class _Unknown(Exception):
    """A DNS answer we cannot conclude from (timeout, SERVFAIL, no nameservers)."""


def _lookup(resolver, name: str, rdtype: str):
    """The answer's records; [] for NoAnswer; raises NXDOMAIN; _Unknown for the rest."""
    try:
        return list(resolver.resolve(name, rdtype))
    except dns.resolver.NXDOMAIN:
        raise
    except dns.resolver.NoAnswer:
        return []
    except dns.exception.Timeout as exc:
        raise _Unknown(f"DNS timeout for {rdtype} {name}") from exc
    except dns.resolver.NoNameservers as exc:
        raise _Unknown(f"no nameserver answered {rdtype} {name} (SERVFAIL or refused)") from exc
    except dns.exception.DNSException as exc:
        raise _Unknown(f"DNS error for {rdtype} {name}: {exc.__class__.__name__}") from exc
    except Exception as exc:  # network unreachable, a resolver bug: never conclude "undeliverable"
        raise _Unknown(f"DNS error for {rdtype} {name}: {exc.__class__.__name__}: {exc}") from exc


def check_domain_mail(domain: str, resolver) -> tuple[str, list[str], str]:
    """(deliverability, mx hosts, reason) for an ASCII (IDNA) domain."""
    try:
        records = _lookup(resolver, domain, "MX")
    except dns.resolver.NXDOMAIN:
        return UNDELIVERABLE, [], f"domain {domain} does not exist (NXDOMAIN)"
    except _Unknown as exc:
        return UNKNOWN, [], str(exc)
    if records:
        ranked = sorted(
            ((getattr(r, "preference", 0), str(getattr(r, "exchange", r)).rstrip(".")) for r in records),
            key=lambda pair: (pair[0], pair[1]),
        )
        hosts = [host.lower() for _, host in ranked if host not in ("", ".")]
        if not hosts:
            return UNDELIVERABLE, [], f"{domain} publishes a null MX (accepts no mail)"
        return DELIVERABLE, hosts, f"MX: {', '.join(hosts)}"
    saw_unknown = None
    for rdtype in ("A", "AAAA"):
        try:
            if _lookup(resolver, domain, rdtype):
                return DELIVERABLE, [], f"no MX; {rdtype} record accepts mail (implicit MX)"
        except dns.resolver.NXDOMAIN:
            return UNDELIVERABLE, [], f"domain {domain} does not exist (NXDOMAIN)"
        except _Unknown as exc:
            saw_unknown = str(exc)
    if saw_unknown:
        return UNKNOWN, [], saw_unknown
    return UNDELIVERABLE, [], f"{domain} has no MX, A or AAAA record"


def validate_email_address(
    address: str,
    *,
    resolver=None,
    timeout: float | None = None,
    check_dns: bool = True,
) -> EmailCheck:
    """Syntax, role/free/disposable flags and DNS deliverability of one address.

    ``timeout`` defaults to CONTACTS_DNS_TIMEOUT (3.0 s) and only applies to the
    resolver built here; an injected ``resolver`` keeps its own settings.
    """
    try:
        result = validate_email(
            (address or "").strip(), check_deliverability=False, allow_quoted_local=False,
            allow_domain_literal=False,
        )
    except EmailNotValidError as exc:
        return EmailCheck(
            syntax_valid=False, normalized=None, deliverability=UNDELIVERABLE,
            reason=f"invalid syntax: {exc}",
        )
    normalized = result.normalized.lower()
    local, _, domain = normalized.rpartition("@")
    ascii_domain = result.ascii_domain.lower()
    flags = dict(
        is_disposable=is_disposable_domain(ascii_domain) or is_disposable_domain(domain),
        is_free_provider=is_free_provider_domain(ascii_domain) or is_free_provider_domain(domain),
        is_role=is_role_local_part(local),
    )
    if not check_dns:
        return EmailCheck(True, normalized, UNKNOWN, [], reason="DNS check skipped", **flags)
    if resolver is None:
        resolver = make_resolver(timeout)
    deliverability, hosts, reason = check_domain_mail(ascii_domain, resolver)
    return EmailCheck(True, normalized, deliverability, hosts, reason=reason, **flags)


def validate_phone_number(e164_or_raw: str, *, default_region: str | None = None) -> PhoneCheck:
    """Offline validity, E.164, type and region of a phone number."""
    raw = (e164_or_raw or "").strip()
    if raw.lower().startswith("tel:"):
        raw = raw[4:]
    compact = raw.replace(" ", "")
    if compact.startswith("00"):
        raw = "+" + compact[2:]
    region = default_region.upper() if default_region else None
    if not raw.startswith("+") and region is None:
        return PhoneCheck(False, None, None, None, reason="national number without a region")
    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException as exc:
        return PhoneCheck(False, None, None, None, reason=f"unparseable: {exc}")
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    number_region = phonenumbers.region_code_for_number(number)
    if not phonenumbers.is_possible_number(number):
        return PhoneCheck(False, e164, None, number_region, reason="impossible length for its country")
    if not phonenumbers.is_valid_number(number):
        return PhoneCheck(False, e164, None, number_region, reason="not a valid number in its numbering plan")
    return PhoneCheck(True, e164, number_type_name(number), number_region, reason="valid")
