"""Suppression (opt-out / do-not-contact) matching — pure helpers, no models.

Entries are email addresses or domains. A domain entry suppresses every
address at that domain and at its subdomains: suppressing ``example.com``
suppresses ``a@example.com``, ``b@mail.example.com`` and the contacts found on
``shop.example.com``.

`normalize_suppression_entry` reduces what a person pastes into a list to
one canonical entry:

- ``"Jane.Doe@Example.COM"`` → ``("email", "jane.doe@example.com")``
  (lower-cased whole; mailbox names are case-insensitive in practice, and
  over-suppressing is the safe direction for an opt-out list)
- ``"@example.com"``, ``"Example.COM"``, ``"www.example.com"``,
  ``"https://shop.example.co.uk/contact"`` → ``("domain", <registrable domain>)``
  (``example.com``, ``example.co.uk``): a domain entry is widened to its
  registrable domain (public suffix list, offline, the snapshot bundled with
  tldextract), so that one opt-out covers the whole organisation.
- ``mailto:`` prefixes, surrounding spaces, angle brackets and trailing dots
  are removed; IDN domains become punycode.
- Junk raises ValueError with the reason: empty text, no dot, spaces inside,
  a bare public suffix (``co.uk``), an IP address, ``localhost``…
"""
from __future__ import annotations

import ipaddress
import re
from functools import lru_cache
from urllib.parse import urlsplit

import idna
import tldextract

KIND_EMAIL = "email"
KIND_DOMAIN = "domain"
_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
_LOCAL = re.compile(r"^[a-z0-9!#$%&'*+/=?^_`{|}~.-]+$")


@lru_cache(maxsize=1)
def _extractor() -> tldextract.TLDExtract:
    # never fetch the list, no disk cache: the snapshot bundled with tldextract
    return tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None, fallback_to_snapshot=True,
                                 include_psl_private_domains=False)


def _ascii_host(host: str, original: str) -> str:
    host = host.strip().strip(".").lower()
    if not host:
        raise ValueError(f"not an email address or domain: {original!r}")
    if any(ch.isspace() for ch in host) or "/" in host or "@" in host:
        raise ValueError(f"not a valid domain: {original!r}")
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        pass
    else:
        raise ValueError(f"IP addresses cannot be suppressed as domains: {original!r}")
    if not host.isascii():
        try:
            host = idna.encode(host, uts46=True).decode("ascii")
        except idna.IDNAError as exc:
            raise ValueError(f"not a valid domain: {original!r} ({exc})") from None
    labels = host.split(".")
    if len(labels) < 2 or not all(_LABEL.match(label) for label in labels):
        raise ValueError(f"not a valid domain: {original!r}")
    return host


def registrable_domain(host: str, *, original: str | None = None) -> str:
    """The registrable domain (eTLD+1) of `host`; ValueError for a bare public suffix or junk."""
    original = host if original is None else original
    ascii_host = _ascii_host(host, original)
    parts = _extractor()(ascii_host)
    if not parts.suffix:
        raise ValueError(f"{original!r} has no public suffix (not an internet domain)")
    if not parts.domain:
        raise ValueError(f"{original!r} is a public suffix, not a domain")
    return f"{parts.domain}.{parts.suffix}"


def normalize_suppression_entry(text: str) -> tuple[str, str]:
    """("email", address) or ("domain", registrable domain) for one list entry; ValueError on junk."""
    if text is None:
        raise ValueError("empty suppression entry")
    value = str(text).strip().strip("<>").strip()
    if value.lower().startswith("mailto:"):
        value = value[7:].split("?", 1)[0].strip()
    if not value:
        raise ValueError("empty suppression entry")
    if "://" in value:
        host = urlsplit(value).hostname or ""
        return KIND_DOMAIN, registrable_domain(host, original=text)
    if value.startswith("@"):
        return KIND_DOMAIN, registrable_domain(value[1:], original=text)
    if "@" in value:
        local, _, domain = value.rpartition("@")
        local = local.strip().lower()
        if not local or "@" in local or not _LOCAL.match(local) or local.startswith(".") or local.endswith(".") \
                or ".." in local:
            raise ValueError(f"not a valid email address: {text!r}")
        host = _ascii_host(domain, text)
        registrable_domain(host, original=text)  # the domain part must be a real internet domain
        return KIND_EMAIL, f"{local}@{host}"
    return KIND_DOMAIN, registrable_domain(value.split("/", 1)[0], original=text)


def _parents(host: str):
    """example.com for mail.example.com, then com; the host itself first."""
    labels = host.split(".")
    for index in range(len(labels) - 1):
        yield ".".join(labels[index:])


def is_suppressed(email: str | None, domain: str | None, *, emails: set[str], domains: set[str]) -> str | None:
    """The reason this contact must not be contacted, or None.

    `emails` and `domains` hold normalized entries (see
    `normalize_suppression_entry`). The email is checked first, then the
    email's domain and `domain` (the business's website domain), each with
    its parent domains.
    """
    address = (email or "").strip().lower()
    if address and address in emails:
        return f"email {address} is on the suppression list"
    hosts = []
    if "@" in address:
        hosts.append(address.rpartition("@")[2])
    if domain:
        hosts.append(str(domain).strip().strip(".").lower())
    for host in hosts:
        if not host:
            continue
        if not host.isascii():
            try:
                host = idna.encode(host, uts46=True).decode("ascii")
            except idna.IDNAError:
                continue
        for candidate in _parents(host):
            if candidate in domains:
                return f"domain {candidate} is on the suppression list"
    return None
