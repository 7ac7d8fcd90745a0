"""A fake DNS resolver for `contact_validation` in the end-to-end tests (the network boundary).

The websites sandbox serves fictional businesses whose email domains do not
exist on the internet; asking real DNS about them would make the tests depend
on the network (and conclude "undeliverable"). This resolver answers like a
DNS server that knows exactly the sandbox's mail domains:

- MX ``10 mx.fake-dns.<domain>.`` for every domain the websites sandbox puts
  in its email addresses (the domain of every business website in the Places
  sandbox dataset, as `scrapersky.sandbox.websites.site_for` computes it);
- NXDOMAIN for every other name.

The settings point at it with
``CONTACTS_DNS_RESOLVER_FACTORY = "tests.e2e.fake_dns.resolver_factory"``
(tests/e2e/worker_settings.py for the qcluster subprocesses). The MX host
names are recognisable, so the tests can see in `Contact.mx_hosts` that the
workers used this resolver and not the system's.
"""
from __future__ import annotations

import functools
from urllib.parse import urlsplit

import dns.name
import dns.rdata
import dns.rdataclass
import dns.rdatatype
import dns.resolver

MX_PREFIX = "mx.fake-dns."


def mx_host(domain: str) -> str:
    """The MX host this resolver announces for `domain`."""
    return f"{MX_PREFIX}{domain}"


@functools.lru_cache(maxsize=1)
def mail_domains() -> frozenset[str]:
    """The email domains of every website of the Places sandbox dataset, as the websites sandbox shows them."""
    from scrapersky.sandbox.places_api import load_dataset
    from scrapersky.sandbox.websites import site_for

    domains = set()
    for place in load_dataset():
        website = place.get("websiteUri") or ""
        host = urlsplit(website).hostname if "://" in website else None
        if host:
            domains.add(site_for(host.encode("idna").decode("ascii") if not host.isascii() else host)["domain"])
    return frozenset(domains)


class SandboxResolver:
    """Anything with ``.resolve(name, rdtype)`` will do (contacts/validation.py); this answers from `mail_domains`."""

    def resolve(self, name, rdtype):
        domain = str(name).rstrip(".").lower()
        rdtype = dns.rdatatype.to_text(rdtype) if not isinstance(rdtype, str) else rdtype.upper()
        if domain not in mail_domains():
            raise dns.resolver.NXDOMAIN(qnames=[dns.name.from_text(domain)])
        if rdtype == "MX":
            return [dns.rdata.from_text(dns.rdataclass.IN, dns.rdatatype.MX, f"10 {mx_host(domain)}.")]
        raise dns.resolver.NoAnswer()


def resolver_factory() -> SandboxResolver:
    return SandboxResolver()
