"""Direct submission of sitemap files and pages (the original's entry points that bypass earlier stages).

Domains have theirs in `pages.services.domain_submit`; a submitted sitemap or
page URL gets its domain from there too (the one normalisation, B-14). New
rows start with curation New; `queue=True` marks them Selected through
`curation.services.curation_status_set`, which queues them like any curator's
selection. `sitemap_file_create` / `sitemap_file_delete` are the original's
sitemap-file records (one file typed in for a known domain; a delete that
spares a file being imported).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from urllib.parse import urlsplit

from django.db import IntegrityError, transaction

from curation import registry
from curation.services import CurationInputError, curation_status_set
from pages.models import DiscoveredHow, Domain, Page, PageSource, SitemapFile
from pages.services import AlreadyKnown, DomainSource, DomainSubmitResult, _page_row, domain_submit
from pages.sitemaps import normalize_page_url
from places.domains import domain_key, normalize_website

MAX_URL_LENGTH = 2000


@dataclass
class UrlSubmitResult:
    created: list[dict] = field(default_factory=list)  # {"input", "url", "id", "domain_id"}
    existing: list[dict] = field(default_factory=list)
    errors: list[dict] = field(default_factory=list)  # {"input", "error"}
    queued_count: int = 0

    def as_dict(self) -> dict:
        return asdict(self)


def _http_url(text: str) -> str:
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("not an http(s) URL")
    if len(text) > MAX_URL_LENGTH:
        raise ValueError(f"longer than {MAX_URL_LENGTH} characters")
    return text


def _sitemap_url(text: str) -> str:
    url = _http_url(text)
    path = urlsplit(url).path.lower()
    if not (path.endswith((".xml", ".xml.gz", ".txt")) or "sitemap" in url.lower()):
        raise ValueError("not a sitemap URL (the path should end in .xml or name a sitemap)")
    return url


def _domains_for(urls: dict[str, str], source: str, user) -> dict[str, str | None]:
    """input → domain id for each URL's site (None: not a crawlable site), creating the domains that are new."""
    domain_submit(domains=list(dict.fromkeys(urls.values())), source=source, user=user)
    keys = {}
    for raw, url in urls.items():
        try:
            keys[raw] = domain_key(normalize_website(url))
        except ValueError:
            keys[raw] = None
    ids = dict(Domain.objects.filter(domain__in=[k for k in keys.values() if k]).values_list("domain", "pk"))
    return {raw: str(ids[key]) if key in ids else None for raw, key in keys.items()}


def _clean(values, check, result: UrlSubmitResult) -> dict[str, str]:
    """input → cleaned URL, first occurrence only; bad inputs go to result.errors."""
    if values is None or isinstance(values, (str, bytes)):
        raise CurationInputError("Send a list of URLs")
    wanted: dict[str, str] = {}
    seen: set[str] = set()
    for raw in values:
        text = str(raw if raw is not None else "").strip()
        try:
            url = check(text)
        except ValueError as exc:
            result.errors.append({"input": text, "error": str(exc)})
            continue
        if url not in seen:
            seen.add(url)
            wanted[text] = url
    return wanted


def sitemap_files_submit(*, urls: list[str], queue: bool = False, refuse_existing: bool = False,
                         source: str = DomainSource.DIRECT, user=None) -> UrlSubmitResult:
    """Create SitemapFile rows (and their domains) from sitemap URLs; `queue` selects them for import.

    A URL known for any domain is `existing` (or, with `refuse_existing`, AlreadyKnown and nothing created).
    """
    result = UrlSubmitResult()
    wanted = _clean(urls, _sitemap_url, result)
    if not wanted:
        return result
    with transaction.atomic():
        known = dict(SitemapFile.objects.filter(url__in=list(wanted.values())).values_list("url", "pk"))
        if refuse_existing and known:
            raise AlreadyKnown(f"{len(known)} sitemap URL(s) exist already: {', '.join(sorted(known)[:10])}",
                               existing=sorted(known))
        domains = _domains_for({raw: url for raw, url in wanted.items() if url not in known}, source, user)
        for raw, url in wanted.items():
            if url in known:
                result.existing.append({"input": raw, "url": url, "id": str(known[url])})
            elif domains.get(raw) is None:
                result.errors.append({"input": raw, "error": "its site cannot be crawled (see domain submission)"})
            else:
                row = SitemapFile.objects.create(domain_id=domains[raw], url=url,
                                                 discovered_how=DiscoveredHow.SUBMITTED)
                result.created.append({"input": raw, "url": url, "id": str(row.pk), "domain_id": domains[raw]})
        if queue and result.created:
            result.queued_count = curation_status_set(
                workflow=registry.get("sitemap_import"), ids=[c["id"] for c in result.created], status="Selected",
                actor=user, source="api").queued_count
    return result


def _page_url(text: str) -> str:
    return normalize_page_url(_http_url(text))


def pages_submit(*, urls: list[str], queue: bool = False, refuse_existing: bool = False,
                 source: str = DomainSource.DIRECT, user=None) -> UrlSubmitResult:
    """Create Page rows (and their domains) from page URLs; `queue` selects them for scraping."""
    result = UrlSubmitResult()
    wanted = _clean(urls, _page_url, result)
    if not wanted:
        return result
    with transaction.atomic():
        known = dict(Page.objects.filter(url__in=list(wanted.values())).values_list("url", "pk"))
        if refuse_existing and known:
            raise AlreadyKnown(f"{len(known)} page URL(s) exist already: {', '.join(sorted(known)[:10])}",
                               existing=sorted(known))
        domains = _domains_for({raw: url for raw, url in wanted.items() if url not in known}, source, user)
        for raw, url in wanted.items():
            if url in known:
                result.existing.append({"input": raw, "url": url, "id": str(known[url])})
                continue
            domain = Domain.objects.get(pk=domains[raw]) if domains.get(raw) else None
            facts = _page_row(domain, url, source=PageSource.SUBMITTED) if domain else None
            if facts is None:
                result.errors.append({"input": raw, "error": "its site cannot be crawled (see domain submission)"})
                continue
            row = Page.objects.create(domain=domain, **facts)
            result.created.append({"input": raw, "url": row.url, "id": str(row.pk), "domain_id": str(domain.pk)})
        if queue and result.created:
            result.queued_count = curation_status_set(
                workflow=registry.get("page_scrape"), ids=[c["id"] for c in result.created], status="Selected",
                actor=user, source="api").queued_count
    return result


def domains_submit_direct(*, domains: list[str], queue: bool = False, user=None) -> tuple[DomainSubmitResult, int]:
    """All-or-nothing domain submission (the original's direct-submit); `queue` selects them for discovery.

    Returns the submission and how many were queued. Raises AlreadyKnown when any domain exists,
    CurationInputError when any input is not a crawlable site; nothing is created then.
    """
    with transaction.atomic():
        result = domain_submit(domains=domains, source=DomainSource.DIRECT, user=user, refuse_existing=True)
        queued = 0
        if queue and result.created:
            queued = curation_status_set(workflow=registry.get("sitemap_discovery"),
                                         ids=[c["id"] for c in result.created], status="Selected", actor=user,
                                         source="api").queued_count
    return result, queued


def domain_scan_request(*, base_url: str, user=None):
    """The original `POST /sitemap/scan`: the site's domain (created if new) queued for sitemap discovery again.

    Returns the Domain. A Completed discovery is run again (reprocess), as a scan request means "now".
    """
    with transaction.atomic():
        result = domain_submit(domains=[base_url], source=DomainSource.DIRECT, user=user)
        entries = result.created + result.existing
        if not entries:
            reason = result.errors[0]["error"] if result.errors else "no domain"
            raise CurationInputError(f"base_url: {base_url!r} cannot be scanned: {reason}")
        domain = Domain.objects.get(pk=entries[0]["id"])
        curation_status_set(workflow=registry.get("sitemap_discovery"), ids=[domain.pk], status="Selected",
                            reprocess=True, actor=user, source="api")
    return domain


def sitemap_file_create(*, domain_id, url: str, user=None) -> SitemapFile:
    """One sitemap file typed in for a known domain (the original's `POST /sitemap-files/`).

    CurationInputError (400) for an unknown domain, a URL that is not a sitemap's or not on that domain
    (its pages would land on another domain's, B-14); AlreadyKnown (409) when the URL is known already.
    New rows start with curation New, like every submission.
    """
    domain = Domain.objects.filter(pk=domain_id).first()
    if domain is None:
        raise CurationInputError(f"domain_id: no domain {domain_id}")
    text = str(url or "").strip()
    try:
        clean = _sitemap_url(text)
        key = domain_key(normalize_website(clean))
    except ValueError as exc:
        raise CurationInputError(f"sitemap_url: {text!r}: {exc}") from None
    if key != domain.domain:
        raise CurationInputError(f"sitemap_url: {clean} is not on {domain.domain}")
    with transaction.atomic():
        known = list(SitemapFile.objects.filter(url=clean).values_list("pk", flat=True))
        if known:
            raise AlreadyKnown(f"The sitemap URL exists already: {clean}", existing=[str(pk) for pk in known])
        try:
            with transaction.atomic():  # a concurrent twin: the unique constraint decides
                return SitemapFile.objects.create(domain=domain, url=clean, discovered_how=DiscoveredHow.SUBMITTED)
        except IntegrityError:
            raise AlreadyKnown(f"The sitemap URL exists already: {clean}", existing=[]) from None


def sitemap_file_delete(*, sitemap_file: SitemapFile) -> bool:
    """Delete a sitemap file unless a worker is importing it right now (False then); its pages stay."""
    workflow = registry.get("sitemap_import")
    with transaction.atomic():
        deleted, _ = (SitemapFile.objects.filter(pk=sitemap_file.pk)
                      .exclude(**{workflow.status_field: "Processing"}).delete())
    return bool(deleted)
