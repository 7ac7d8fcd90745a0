"""Bundled reference lists and domain helpers shared by extraction and validation.

Pure and offline: the lists live in ``contacts/data/`` and the public suffix list
is tldextract's bundled snapshot (never fetched at run time).
"""
from __future__ import annotations

import functools
import re
from pathlib import Path

import tldextract

DATA_DIR = Path(__file__).resolve().parent / "data"

# Offline public-suffix extractor: bundled snapshot, no cache dir, no HTTP.
_TLD_EXTRACT = tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)


def _read_list(name: str) -> frozenset[str]:
    lines = (DATA_DIR / name).read_text(encoding="utf-8").splitlines()
    return frozenset(
        line.split("#", 1)[0].strip().lower()
        for line in lines
        if line.split("#", 1)[0].strip()
    )


@functools.cache
def _domain_list(name: str) -> tuple[frozenset[str], frozenset[str]]:
    """(exact domains, wildcard names) — "yahoo.*" becomes the wildcard name "yahoo"."""
    entries = _read_list(name)
    wild = frozenset(e[:-2] for e in entries if e.endswith(".*"))
    exact = frozenset(e for e in entries if not e.endswith(".*"))
    return exact, wild


@functools.cache
def role_local_parts() -> frozenset[str]:
    return _read_list("role_local_parts.txt")


def free_provider_domains() -> frozenset[str]:
    return _domain_list("free_providers.txt")[0]


def disposable_domains() -> frozenset[str]:
    return _domain_list("disposable_domains.txt")[0]


@functools.cache
def split_domain(host: str) -> tuple[str, str, str]:
    """(subdomain, domain label, public suffix) of a host name, lower-cased."""
    ext = _TLD_EXTRACT(host.lower().strip().rstrip("."))
    return ext.subdomain, ext.domain, ext.suffix


def registrable_domain(host: str | None) -> str | None:
    """``shop.example.co.uk`` → ``example.co.uk``; None when there is no public suffix."""
    if not host:
        return None
    host = host.lower().strip().rstrip(".")
    if host.startswith("www."):
        host = host[4:]
    _, domain, suffix = split_domain(host)
    if not suffix or not domain:
        return None
    return f"{domain}.{suffix}"


def has_public_suffix(host: str) -> bool:
    return bool(split_domain(host)[2])


def _in_domain_list(domain: str, name: str) -> bool:
    exact, wild = _domain_list(name)
    domain = domain.lower().rstrip(".")
    labels = domain.split(".")
    # the domain itself or any parent domain (mx.mailinator.com → mailinator.com)
    for i in range(len(labels) - 1):
        if ".".join(labels[i:]) in exact:
            return True
    if wild:
        _, label, suffix = split_domain(domain)
        if suffix and label in wild:
            return True
    return False


def is_free_provider_domain(domain: str) -> bool:
    return _in_domain_list(domain, "free_providers.txt")


def is_disposable_domain(domain: str) -> bool:
    return _in_domain_list(domain, "disposable_domains.txt")


_TOKEN_SPLIT = re.compile(r"[._\-]")


def is_role_local_part(local: str) -> bool:
    """info, kontakt, info.de, info-berlin, sales+de → role; anna.schmidt → personal."""
    local = local.lower().split("+", 1)[0]
    roles = role_local_parts()
    if local in roles:
        return True
    tokens = [t for t in _TOKEN_SPLIT.split(local) if t]
    return bool(tokens) and len(tokens) <= 2 and tokens[0] in roles
