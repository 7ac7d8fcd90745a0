"""A sandbox DNS resolver for contact validation: MX answers for the sandbox's business domains, offline.

`contacts.services.contact_validate` asks DNS whether an email's domain accepts
mail (MX, then A/AAAA). DNS is the open internet, and the sandbox's businesses
are fictional, so a real resolver would (rightly) call their addresses
undeliverable. Point the setting at this module's factory to keep validation
offline and honest:

    CONTACTS_DNS_RESOLVER_FACTORY = "scrapersky.sandbox.dns.make_resolver"

(`manage.py demo` does that for its run). The resolver answers like a real zone:

- a domain of the sandbox dataset (the registrable domain of every website in
  ``data/places.json``, the same key the website sandbox builds its addresses
  on, in Unicode and IDNA form): ``MX 10 mx1.<domain>.`` and
  ``MX 20 mx2.<domain>.``, ``A 192.0.2.x`` (TEST-NET-1, documentation range);
- any other name: NXDOMAIN — an address the sandbox never showed is not
  deliverable here, exactly as a made-up domain would not be on the internet.

It has the interface `contacts.validation` uses (``resolve(name, rdtype)``
returning records, raising ``dns.resolver.NXDOMAIN`` / ``NoAnswer``), and
counts its queries in ``queries`` so that callers can say what it answered.
"""
from __future__ import annotations

import functools
import hashlib
import json
import threading
from urllib.parse import urlsplit

import dns.name
import dns.rdata
import dns.rdataclass
import dns.rdatatype
import dns.resolver

__all__ = ["SandboxResolver", "make_resolver", "sandbox_mail_domains", "QUERY_LOG"]


def _variants(domain: str) -> set[str]:
    domain = domain.lower().strip(".")
    out = {domain}
    try:
        out.add(domain.encode("idna").decode("ascii"))
    except UnicodeError:
        pass
    if domain.startswith("xn--") or ".xn--" in domain:
        try:
            out.add(domain.encode("ascii").decode("idna"))
        except UnicodeError:
            pass
    return out


@functools.lru_cache(maxsize=1)
def sandbox_mail_domains() -> frozenset[str]:
    """The registrable domains of the sandbox dataset's websites (Unicode and IDNA forms)."""
    from pages.sitemaps import site_key
    from scrapersky.sandbox.places_api import DATASET_PATH

    places = json.loads(DATASET_PATH.read_text(encoding="utf-8"))
    domains: set[str] = set()
    for place in places:
        host = urlsplit(place.get("websiteUri") or "").hostname
        if not host:
            continue
        for variant in _variants(host):
            domains |= _variants(site_key(variant))
    return frozenset(domains)


class _QueryLog:
    """Process-wide counters of what the sandbox resolvers answered (thread-safe)."""

    def __init__(self):
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self.answered = 0
            self.nxdomain = 0
            self.names: set[str] = set()

    def record(self, name: str, found: bool) -> None:
        with self._lock:
            self.names.add(name)
            if found:
                self.answered += 1
            else:
                self.nxdomain += 1

    @property
    def total(self) -> int:
        return self.answered + self.nxdomain


QUERY_LOG = _QueryLog()


class SandboxResolver:
    """Answers MX/A for `domains` (default: the sandbox dataset's), NXDOMAIN for every other name."""

    def __init__(self, domains: frozenset[str] | set[str] | None = None):
        self.domains = frozenset(d.lower().strip(".") for d in domains) if domains is not None \
            else sandbox_mail_domains()

    def resolve(self, name, rdtype="A", *args, **kwargs):
        qname = str(name).lower().rstrip(".")
        rdtype = dns.rdatatype.to_text(rdtype) if not isinstance(rdtype, str) else rdtype.upper()
        found = qname in self.domains
        QUERY_LOG.record(qname, found)
        if not found:
            raise dns.resolver.NXDOMAIN(qnames=[dns.name.from_text(qname)] if qname else [])
        ascii_name = next(iter(sorted(v for v in _variants(qname) if v.isascii())), qname)
        if rdtype == "MX":
            return [dns.rdata.from_text(dns.rdataclass.IN, dns.rdatatype.MX, f"{pref} mx{i}.{ascii_name}.")
                    for i, pref in ((1, 10), (2, 20))]
        if rdtype == "A":
            last = hashlib.sha256(qname.encode()).digest()[0] % 250 + 2
            return [dns.rdata.from_text(dns.rdataclass.IN, dns.rdatatype.A, f"192.0.2.{last}")]
        raise dns.resolver.NoAnswer()


def make_resolver() -> SandboxResolver:
    """The factory CONTACTS_DNS_RESOLVER_FACTORY points at (no arguments)."""
    return SandboxResolver()
