"""Services of the pages app: the hooks of WF4, WF5 and WF7, direct domain submission and page selection.

Hooks (`def hook(*, record, lease) -> None`) are idempotent and never hold a
transaction open during HTTP: they fetch and parse first (through
`pages.fetch.fetch`: SSRF guard, size caps, time limits, politeness), then
write their results in one transaction through the lease (`with
lease.complete():`), which writes nothing if the lease was lost. Upserts go through the natural keys
(SitemapFile: domain + url; Page: domain + normalised url) with
`bulk_create(update_conflicts=True)` and update facts only, so re-running a
stage never duplicates rows (original B-12) and never resets a row's own
curation or processing status (B-6). New SitemapFile and Page rows arrive
with curation New: nothing is queued automatically (B-15); pages likely to
carry contacts are only flagged `suggested`.

Index sitemaps (a decision, see `sitemap_file_import`): importing an index
follows its children inline, bounded by `SitemapWalker` (depth, cycle
detection, per-file and per-domain URL caps, time budget); each child
becomes (or updates) a SitemapFile row with `parent` set and
`discovered_how="sitemap_index"`, and its pages are imported in the same run.
So selecting one index imports the whole site, and selecting a single child
imports just that child.
"""
from __future__ import annotations

import csv
import email.utils
import functools
import hashlib
import io
import json
import logging
import math
import os
import re
import time
import uuid
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone as dt_timezone
from urllib.parse import urljoin, urlsplit

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from lxml import etree, html as lxml_html

from curation import registry
from curation.exceptions import ErrorClass, PermanentError, WorkflowError
from curation.services import CurationInputError, StatusSetResult, curation_status_set
from pages.categorize import categorize_url
from pages.contacts_hook import content_stored
from pages.fetch import FetchResult, fetch, robots_allows, robots_for
from pages.models import (
    DiscoveredHow,
    Domain,
    DomainKind,
    DomainSource,
    Page,
    PageContent,
    PageSource,
    SitemapFile,
)
from pages.sitemaps import (
    CMS_SITEMAP_PATHS,
    WELL_KNOWN_SITEMAP_PATHS,
    SitemapParseResult,
    SitemapWalker,
    _loose,
    discover_sitemaps,
    homepage_links,
    normalize_page_url_parts,
    parse_sitemap,
    path_depth,
    site_key,
    site_path_base,
)
from pages.social import canonical_social
from places.domains import SITE_BUILDER, domain_key, normalize_website
from places.models import LocalBusiness

logger = logging.getLogger(__name__)

UPSERT_CHUNK = 2_000
MAX_SUBMIT_LINES = 10_000
MAX_CSV_BYTES = 5 * 1024 * 1024

PAGE_FACTS = ("sitemap_file", "source", "lastmod", "changefreq", "priority", "alternates", "category", "confidence",
              "scrape_priority", "path_depth", "suggested")


def _clip(value: str | None, length: int) -> str:
    return (value or "")[:length]


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}{'' if n == 1 else 's'}"


# --- dates -------------------------------------------------------------------------------------

@functools.lru_cache(maxsize=1024)  # a sitemap's entries share a handful of dates: 50,000 parses become a few
def parse_lastmod(text: str | None) -> datetime | None:
    """A sitemap <lastmod> (W3C datetime or date), an RSS pubDate (RFC 822) or an HTTP date → aware datetime."""
    if not text:
        return None
    text = text.strip()
    value = None
    try:
        value = parse_datetime(text)
    except ValueError:
        value = None
    if value is None:
        try:
            day = parse_date(text[:10])
        except ValueError:
            day = None
        if day is not None:
            value = datetime(day.year, day.month, day.day)
    if value is None:
        try:
            value = email.utils.parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            value = None
    if value is None or not (1990 <= value.year <= 2100):
        return None
    if timezone.is_naive(value):
        value = value.replace(tzinfo=dt_timezone.utc)
    return value


# --- metadata ------------------------------------------------------------------------------------

_WS = re.compile(r"\s+")
_WORD = re.compile(r"\w+", re.UNICODE)


def _squash(text: str | None) -> str:
    return _WS.sub(" ", text or "").strip()


def _meta(doc, *names: str) -> str:
    wanted = {n.lower() for n in names}
    for meta in doc.iter("meta"):
        key = (meta.get("name") or meta.get("property") or "").strip().lower()
        if key in wanted and meta.get("content"):
            return _squash(meta.get("content"))
    return ""


def page_metadata_extract(html: str, url: str) -> dict:
    """Title, meta description, first h1, canonical URL, language, word count and outbound social links of a page.

    Pure (lxml, no network). Missing items are empty ("" / 0 / []); `canonical_url` is absolute and http(s) only.
    """
    empty = {"title": "", "meta_description": "", "h1": "", "canonical_url": "", "language": "", "word_count": 0,
             "social_links": []}
    if not html or not html.strip():
        return empty
    try:
        parser = lxml_html.HTMLParser(no_network=True, remove_comments=True, huge_tree=False)
        text = re.sub(r"^\s*<\?xml[^>]*\?>", "", html)
        doc = lxml_html.document_fromstring(text, parser=parser)
    except (etree.ParserError, ValueError):
        return empty
    base = url
    base_el = doc.find(".//base[@href]")
    if base_el is not None:
        base = urljoin(url, base_el.get("href").strip())
    result = dict(empty)
    title = doc.find(".//title")
    result["title"] = _clip(_squash(title.text_content()) if title is not None else "", 1000) or _clip(
        _meta(doc, "og:title"), 1000)
    result["meta_description"] = _clip(_meta(doc, "description") or _meta(doc, "og:description"), 5000)
    h1 = doc.find(".//h1")
    result["h1"] = _clip(_squash(h1.text_content()) if h1 is not None else "", 1000)
    for link in doc.iter("link"):
        rels = (link.get("rel") or "").lower().split()
        if "canonical" in rels and link.get("href"):
            canonical = urljoin(base, link.get("href").strip())
            if urlsplit(canonical).scheme in ("http", "https"):
                result["canonical_url"] = _clip(canonical, 2048)
            break
    language = doc.get("lang") or doc.get("{http://www.w3.org/XML/1998/namespace}lang") or ""
    if not language:
        for meta in doc.iter("meta"):
            if (meta.get("http-equiv") or "").lower() == "content-language" and meta.get("content"):
                language = meta.get("content").split(",")[0]
                break
    if not language:
        language = _meta(doc, "og:locale").replace("_", "-")
    result["language"] = _clip(language.strip(), 35)
    socials: list[str] = []
    for anchor in doc.iter("a"):
        href = (anchor.get("href") or "").strip()
        if not href or href.startswith(("#", "mailto:", "tel:", "javascript:")):
            continue
        found = canonical_social(urljoin(base, href))
        if found and found[1] not in socials:
            socials.append(found[1])
            if len(socials) >= 50:
                break
    result["social_links"] = socials
    body = doc.find("body")
    if body is not None:
        etree.strip_elements(body, "script", "style", "noscript", "template", with_tail=False)
        result["word_count"] = len(_WORD.findall(body.text_content()))
    return result


# --- shared helpers --------------------------------------------------------------------------------

def domain_for_website(*, key: str, site_builder: bool, homepage_url: str):
    """The Domain row of a business website's registrable domain (`key`), created once and shared by every
    business on it: what places' domain extraction (WF3) hands over (places.services.domain_found)."""
    kind = DomainKind.SITE_BUILDER if site_builder else DomainKind.OWN_SITE
    Domain.objects.bulk_create([Domain(domain=key, kind=kind, source=DomainSource.DOMAIN_EXTRACTION,
                                       homepage_url=homepage_url)], ignore_conflicts=True)
    return Domain.objects.values_list("pk", flat=True).get(domain=key)


def count_of(model, field: str, **filters):
    """A correlated COUNT subquery (no join fan-out between a domain's businesses, files and pages)."""
    from django.db.models import Count, IntegerField, OuterRef, Subquery
    from django.db.models.functions import Coalesce

    inner = (model.objects.filter(**{field: OuterRef("pk")}, **filters).order_by().values(field)
             .annotate(n=Count("pk")).values("n")[:1])
    return Coalesce(Subquery(inner, output_field=IntegerField()), 0)


def domain_count_annotations() -> dict:
    """business_count, sitemap_file_count, page_count, suggested_count for a Domain queryset (lists, admin)."""
    return {
        "business_count": count_of(LocalBusiness, "domain"),
        "sitemap_file_count": count_of(SitemapFile, "domain"),
        "page_count": count_of(Page, "domain"),
        "suggested_count": count_of(Page, "domain", suggested=True),
    }


def sitemap_file_count_annotations() -> dict:
    """page_count for a SitemapFile queryset (the API's list)."""
    return {"page_count": count_of(Page, "sitemap_file")}


def domain_root(domain: Domain) -> str:
    """The origin to crawl: the homepage URL's scheme and host, else https://<domain>."""
    if domain.homepage_url:
        parts = urlsplit(domain.homepage_url)
        if parts.scheme in ("http", "https") and parts.netloc:
            return f"{parts.scheme}://{parts.netloc}"
    return f"https://{domain.domain}"


def _site_path(domain: Domain, root: str) -> str:
    """The path the domain's site lives under ("/project/" for https://alice.github.io/project/), else "/".

    From the homepage URL the business gave, when it is on `root`'s host: a
    directory ("/project/"), or on a site builder's shared host any path
    (https://user.wixsite.com/dental is that site). A page of an own site
    ("/contact") means the site is at "/".
    """
    if not domain.homepage_url or urlsplit(domain.homepage_url).netloc.lower() != urlsplit(root).netloc.lower():
        return "/"
    return site_path_base(domain.homepage_url, whole_path=domain.kind == DomainKind.SITE_BUILDER)


def _belongs(url: str, domain: Domain) -> bool:
    """True when `url` is on `domain`'s site (its registrable domain; the whole host for site builders)."""
    return _host_belongs((urlsplit(url).hostname or "").lower().rstrip("."), domain)


def _host_belongs(host: str, domain: Domain) -> bool:
    if domain.kind == DomainKind.SITE_BUILDER:
        return host == domain.domain or host == f"www.{domain.domain}"
    return host == domain.domain or host.endswith("." + domain.domain) or site_key(host) == domain.domain


def _page_row(domain: Domain, url: str, *, source: str, sitemap_file_id=None, lastmod=None, changefreq="",
              priority=None, alternates=()) -> dict | None:
    """The facts of one page (PAGE_FACTS plus its url), or None when the URL is not on the domain's site."""
    try:
        normal, host, path = normalize_page_url_parts(url)  # host and path without a second urlsplit
    except ValueError:
        return None
    if len(normal) > 2048:
        return None
    if not _host_belongs(host, domain):
        return None
    category = categorize_url(path)
    return {
        "url": normal, "sitemap_file_id": sitemap_file_id, "source": source, "lastmod": lastmod,
        "changefreq": _clip(changefreq, 10), "priority": priority, "alternates": list(alternates)[:20],
        "category": category.category, "confidence": category.confidence, "scrape_priority": category.priority,
        "path_depth": min(sum(1 for segment in path.split("/") if segment), 32767),
        "suggested": category.suggested,
    }


@dataclass
class UpsertCount:
    total: int = 0
    new: int = 0
    suggested: int = 0


def pages_upsert(domain: Domain, rows: list[dict], *, chunk: int = UPSERT_CHUNK) -> UpsertCount:
    """Insert or update pages on (domain, url), `chunk` rows per statement, each chunk its own short transaction.

    Only facts are updated on conflict (PAGE_FACTS): a page's curation and processing status survive a re-import.
    """
    count = UpsertCount()
    unique = list({row["url"]: row for row in rows}.values())
    # One lock order for every writer: two imports touching the same pages cannot deadlock (PostgreSQL).
    unique.sort(key=lambda row: row["url"])
    write = {"postgresql": _pages_upsert_postgres, "sqlite": _pages_upsert_sqlite}.get(connection.vendor,
                                                                                   _pages_upsert_orm)
    for start in range(0, len(unique), chunk):
        part = unique[start:start + chunk]
        with transaction.atomic():
            count.new += write(domain, part)
        count.total += len(part)
        count.suggested += sum(1 for row in part if row["suggested"])
    return count


def _pages_upsert_orm(domain: Domain, part: list[dict]) -> int:
    existing = set(Page.objects.filter(domain=domain, url__in=[r["url"] for r in part]).values_list("url", flat=True))
    Page.objects.bulk_create(
        [Page(domain=domain, **row) for row in part], update_conflicts=True, unique_fields=["domain", "url"],
        update_fields=[*PAGE_FACTS, "updated_at"],
    )
    return len(part) - len(existing)


def _pages_upsert_postgres(domain: Domain, part: list[dict]) -> int:
    """The same upsert as one INSERT … SELECT FROM json_to_recordset(…) ON CONFLICT: the chunk travels as one JSON
    document, encoded by the json module's C encoder (binding twelve arrays of 2,000 values cost ~1.3 s of
    psycopg's Python array dumping per 50,000 URLs). Columns the import does not set take the model's defaults."""
    meta = Page._meta
    q = connection.ops.quote_name
    now = timezone.now()
    template = Page(domain=domain)
    constant_cols, constant_params = [], []
    for field in meta.concrete_fields:
        if field.attname in _VARYING or field.primary_key:
            continue
        value = now if field.attname in ("created_at", "updated_at") else getattr(template, field.attname)
        constant_cols.append(q(field.column))
        constant_params.append(field.get_db_prep_save(value, connection))
    fields = [meta.pk] + [meta.get_field(n.removesuffix("_id") if n.endswith("_id") else n) for n in _VARYING]
    names = [f"c{i}" for i in range(len(fields))]  # record columns: no quoting questions
    record = ", ".join(f"{name} {field.rel_db_type(connection) if field.is_relation else field.db_type(connection)}"
                       for name, field in zip(names, fields))
    columns = [q(field.column) for field in fields]
    updates = ", ".join(
        f"{q(meta.get_field(f).column)} = EXCLUDED.{q(meta.get_field(f).column)}" for f in (*PAGE_FACTS, "updated_at")
    )
    sql = (
        f"INSERT INTO {q(meta.db_table)} ({', '.join(columns + constant_cols)}) "
        f"SELECT {', '.join('r.' + name for name in names)}, {', '.join(['%s'] * len(constant_cols))} "
        f"FROM json_to_recordset(%s::json) AS r({record}) "
        f"ON CONFLICT ({q(meta.get_field('domain').column)}, {q(meta.get_field('url').column)}) DO UPDATE SET {updates} "
        f"RETURNING (xmax = 0)"
    )
    document = json.dumps([_json_row(names, key, row) for key, row in zip(_ordered_uuids(len(part)), part)],
                          ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    with connection.cursor() as cursor:
        cursor.execute(sql, [*constant_params, document])
        return sum(1 for (inserted,) in cursor.fetchall() if inserted)


def _json_row(names: list[str], key: uuid.UUID, row: dict) -> dict:
    """One page of the JSON document `_pages_upsert_postgres` sends (names: c0 = id, then _VARYING's order)."""
    values = [str(key)]
    for name in _VARYING:
        value = row[name]
        if value is None:
            pass
        elif name == "sitemap_file_id":
            value = str(value)
        elif name == "lastmod":
            value = value.isoformat()
        elif name in ("priority", "confidence") and not math.isfinite(value):
            value = None
        values.append(value)
    return dict(zip(names, values))


_VARYING = ["url", "sitemap_file_id", "source", "lastmod", "changefreq", "priority", "alternates", "category",
            "confidence", "scrape_priority", "path_depth", "suggested"]


def _sqlite_converter(field):
    """The value → SQLite parameter conversion of one field, without the ORM's per-value machinery."""
    internal = field.get_internal_type() if not field.is_relation else field.target_field.get_internal_type()
    if internal == "UUIDField":
        return lambda v: None if v is None else (v.hex if isinstance(v, uuid.UUID) else uuid.UUID(str(v)).hex)
    if internal == "DateTimeField":  # what the SQLite backend stores: naive UTC, "YYYY-MM-DD HH:MM:SS[.ffffff]"
        return lambda v: (v.astimezone(dt_timezone.utc).replace(tzinfo=None) if v.tzinfo else v).isoformat(" ")
    if internal == "JSONField":
        return lambda v: "[]" if v == [] else json.dumps(v)
    return None


def _ordered_uuids(n: int) -> list[uuid.UUID]:
    """`n` new UUIDs in ascending order (version 7 layout: milliseconds, then random bits).

    Random uuid4 keys land all over the primary-key B-tree: with 50,000 new pages SQLite spent most of the
    insert time on page-cache misses. Ascending keys are appended at the tree's end.
    """
    stamp = int(time.time() * 1000) << 80
    start = int.from_bytes(os.urandom(8), "big") >> 4  # room below 2**62 for the sequence
    keys = []
    for i in range(n):
        value = stamp | (start + i)
        value = (value & ~(0xF << 76)) | (0x7 << 76)  # version 7
        value = (value & ~(0x3 << 62)) | (0x2 << 62)  # RFC 4122 variant
        keys.append(uuid.UUID(int=value))
    return keys


def _pages_upsert_sqlite(domain: Domain, part: list[dict]) -> int:
    """The same upsert on SQLite: one INSERT … ON CONFLICT DO UPDATE run by executemany (bulk_create prepared
    1.35 million values through the ORM for a 50,000-URL sitemap). Columns the import does not set take the
    model's defaults."""
    meta = Page._meta
    q = connection.ops.quote_name
    now = timezone.now()
    template = Page(domain=domain)
    constant_cols, constant_params = [], []
    for field in meta.concrete_fields:
        if field.attname in _VARYING or field.primary_key:
            continue
        value = now if field.attname in ("created_at", "updated_at") else getattr(template, field.attname)
        constant_cols.append(q(field.column))
        constant_params.append(field.get_db_prep_save(value, connection))
    fields = [meta.get_field(n.removesuffix("_id") if n.endswith("_id") else n) for n in _VARYING]
    converters = [_sqlite_converter(f) for f in fields]
    columns = [q(meta.pk.column)] + [q(f.column) for f in fields] + constant_cols
    updates = ", ".join(f"{q(meta.get_field(f).column)} = excluded.{q(meta.get_field(f).column)}"
                        for f in (*PAGE_FACTS, "updated_at"))
    sql = (f"INSERT INTO {q(meta.db_table)} ({', '.join(columns)}) VALUES ({', '.join(['%s'] * len(columns))}) "
           f"ON CONFLICT ({q(meta.get_field('domain').column)}, {q(meta.get_field('url').column)}) "
           f"DO UPDATE SET {updates}")
    urls = [row["url"] for row in part]
    existing = set(Page.objects.filter(domain=domain, url__in=urls).values_list("url", flat=True))
    params = []
    for key, row in zip(_ordered_uuids(len(part)), part):
        values = [key.hex]
        for name, convert in zip(_VARYING, converters):
            value = row[name]
            values.append(convert(value) if convert is not None and value is not None else value)
        params.append(values + constant_params)
    with connection.cursor() as cursor:
        cursor.executemany(sql, params)
    return len(part) - len(existing)


class _RecordingWalker(SitemapWalker):
    """SitemapWalker that also remembers, per fetched sitemap, its size on the wire and Last-Modified header."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.meta: dict[str, dict] = {}

    @classmethod
    def from_settings(cls) -> "_RecordingWalker":
        return cls(
            max_depth=settings.SITEMAP_MAX_DEPTH,
            max_urls_per_domain=settings.SITEMAP_MAX_URLS_PER_DOMAIN,
            time_budget_s=settings.SITEMAP_TIME_BUDGET_S,
            max_urls_per_file=settings.SITEMAP_MAX_URLS_PER_FILE,
            max_decompressed_bytes=settings.SITEMAP_MAX_DECOMPRESSED_BYTES,
        )

    def fetch_and_parse(self, url: str) -> tuple[SitemapParseResult, str]:
        # The same steps as SitemapWalker.fetch_and_parse, keeping the response's size and Last-Modified.
        response: FetchResult = fetch(url, purpose="sitemap")
        for hop in response.redirects:
            key = _loose(hop)
            if key in self.visited and key != _loose(url):
                raise PermanentError(
                    f"Sitemap {url} redirects back to already visited {hop} "
                    f"({' -> '.join([url, *response.redirects])})", error_class=ErrorClass.PARSE)
            self.visited.add(key)
        self.meta[url] = {
            "size_bytes": len(response.content),
            "last_modified": parse_lastmod(response.headers.get("last-modified")),
            "final_url": response.final_url,
        }
        result = parse_sitemap(
            response.content,
            url=response.final_url,
            max_urls=max(0, min(self.max_urls_per_file, self.remaining_urls)) or 1,
            max_decompressed_bytes=self.max_decompressed_bytes,
            deadline=self.deadline,
            site_url=self.site_url,
        )
        if result.kind != "index":
            if self.remaining_urls <= 0:
                result.urls = []
                result.truncated = True
                result.warnings.append(f"per-domain URL limit {self.max_urls_per_domain} reached")
            self.url_count += len(result.urls)
        self.meta[url]["decompressed_bytes"] = result.decompressed_bytes
        return result, response.final_url


def _sitemap_files_upsert(domain: Domain, items: list[dict]) -> dict[str, SitemapFile]:
    """Upsert SitemapFile rows (facts only) and set their parents; returns url → row. Call inside a transaction."""
    if not items:
        return {}
    rows = [
        SitemapFile(domain=domain, url=item["url"], **{k: v for k, v in item.items() if k not in ("url", "parent_url")})
        for item in items
    ]
    fields = sorted({k for item in items for k in item} - {"url", "parent_url"})
    SitemapFile.objects.bulk_create(rows, update_conflicts=True, unique_fields=["domain", "url"],
                                    update_fields=[*fields, "updated_at"])
    by_url = {f.url: f for f in SitemapFile.objects.filter(domain=domain, url__in=[i["url"] for i in items])}
    for item in items:
        parent_url = item.get("parent_url")
        if parent_url and parent_url in by_url and item["url"] in by_url:
            row = by_url[item["url"]]
            parent = by_url[parent_url]
            if row.parent_id != parent.pk and row.pk != parent.pk:
                SitemapFile.objects.filter(pk=row.pk).update(parent=parent)
                row.parent_id = parent.pk
    return by_url


# --- WF4: sitemap discovery -------------------------------------------------------------------------

def domain_sitemaps_discover(*, record: Domain, lease) -> None:
    """WF4 hook: find the domain's sitemaps and record them as SitemapFile rows (upserted on domain + url).

    1. robots.txt (a 5xx/timeout → RetryableError; a site that disallows our
       User-Agent everywhere → PermanentError blocked, nothing else fetched);
    2. the homepage (its title, description and language go on the Domain:
       real metadata, original B-7);
    3. `pages.sitemaps.discover_sitemaps`: robots.txt Sitemap: lines, then
       the homepage's <link rel="sitemap"> and sitemap links, then the
       well-known paths; every candidate is fetched and parsed (sniffed)
       within the walker's limits, indexes are followed (bounded, loop-safe).
       Files listed by robots.txt, the homepage or an index that fail are
       recorded too, with `fetch_error`.
    4. No valid sitemap: the Domain says so (`has_sitemap=False`,
       `discovery_note`) and the fallback crawl turns the homepage and its
       same-site links (at most DISCOVERY_FALLBACK_MAX_PAGES, contact-like
       pages first) into Page rows. The row is Completed, not Error.
    """
    domain = Domain.objects.get(pk=record.pk)
    root = domain_root(domain)
    path_base = _site_path(domain, root)
    started = time.monotonic()
    robots_for(root)  # RetryableError (5xx, timeout) / PermanentError (SSRF, unknown host) propagate
    if not robots_allows(root + path_base):
        raise PermanentError(
            f"Disallowed by robots.txt: {root}{path_base} (the site's robots.txt disallows "
            f"{settings.FETCH_USER_AGENT.split('/')[0]} everywhere; no sitemap or page was fetched)",
            error_class=ErrorClass.BLOCKED,
        )

    homepage_html, homepage_error, homepage_final = "", "", root + path_base
    metadata: dict = {}
    try:
        response = fetch(root + path_base, purpose="homepage")
    except WorkflowError as exc:
        response, homepage_error, homepage_exc = None, exc.message, exc
        if path_base != "/":  # the path is no site (gone, or a page): the host's own homepage then
            path_base, homepage_final = "/", root + "/"
            try:
                response, homepage_error, homepage_exc = fetch(root + "/", purpose="homepage"), "", None
            except WorkflowError as exc_root:
                homepage_error, homepage_exc = exc_root.message, exc_root
    else:
        homepage_exc = None
    if response is not None:
        homepage_final = response.final_url
        if "html" in response.content_type or not response.content_type:
            homepage_html = response.text
            metadata = page_metadata_extract(homepage_html, homepage_final)
    base = root
    final_parts = urlsplit(homepage_final)
    if final_parts.netloc and final_parts.netloc != urlsplit(root).netloc and _belongs(homepage_final, domain):
        base = f"{final_parts.scheme}://{final_parts.netloc}"  # example.com → www.example.com
    if path_base != "/" and final_parts.netloc == urlsplit(base).netloc:
        # /project → /project/ stays the site's path; a redirect out of it (to "/") ends it
        path_base = site_path_base(homepage_final, whole_path=domain.kind == DomainKind.SITE_BUILDER)

    walker = _RecordingWalker.from_settings()
    walker.site_url = f"https://{domain.domain}/"
    found = discover_sitemaps(base + path_base, walker=walker, homepage_html=homepage_html)
    valid = [d for d in found if d.error is None]
    failed = [d for d in found if d.error is not None]

    now = timezone.now()
    items = []
    for d in found:
        meta = walker.meta.get(d.url, {})
        items.append({
            "url": _clip(d.url, 2000), "parent_url": d.parent, "sitemap_type": d.kind or "",
            "discovered_how": d.how if d.how in DiscoveredHow.values else DiscoveredHow.WELL_KNOWN,
            "depth": d.depth, "url_count": d.url_count if d.error is None else None,
            "size_bytes": meta.get("size_bytes"), "decompressed_bytes": meta.get("decompressed_bytes"),
            "is_gzip": d.gzip, "truncated": d.truncated, "last_modified": meta.get("last_modified"),
            "fetched_at": now, "fetch_error": f"[{d.error_class}] {d.error}" if d.error else "",
            "warnings": list(d.warnings)[:20],
        })

    fallback_rows: list[Page] = []
    notes: list[str] = []
    if valid:
        by_how: dict[str, int] = {}
        for d in valid:
            by_how[d.how] = by_how.get(d.how, 0) + 1
        how_text = ", ".join(f"{n} via {DiscoveredHow(h).label if h in DiscoveredHow.values else h}"
                             for h, n in by_how.items())
        listed = sum(d.url_count for d in valid if d.kind != "index")
        notes.append(f"{_plural(len(valid), 'sitemap file')} found ({how_text}), listing {_plural(listed, 'URL')}.")
    else:
        if homepage_exc is not None and not homepage_html:
            raise type(homepage_exc)(
                f"No sitemap found, and the homepage could not be read for the fallback crawl: {homepage_error}",
                error_class=homepage_exc.error_class,
            )
        limit = max(1, settings.DISCOVERY_FALLBACK_MAX_PAGES)
        urls = [homepage_final, *homepage_links(homepage_html, homepage_final, limit - 1)]
        fallback_rows = [row for row in (_page_row(domain, u, source=PageSource.HOMEPAGE_LINKS) for u in urls) if row]
        notes.append(
            "No sitemap: robots.txt lists none that works, the homepage links none, and none of the "
            + (f"{len(CMS_SITEMAP_PATHS)} sitemap paths under {path_base} nor of the " if path_base != "/" else "")
            + f"{len(WELL_KNOWN_SITEMAP_PATHS)} well-known paths answered with a sitemap. Fallback: "
            f"{_plural(len(fallback_rows), 'page')} taken from the homepage and its links "
            f"(at most {limit})."
        )
    for d in failed:
        notes.append(f"{d.url} (found via {d.how}) could not be read: {d.error}")
    if homepage_error:
        notes.append(f"Homepage not read: {homepage_error}")
    skipped = [f"{u} ({why})" for u, why in walker.skipped if why != "already visited"]
    if skipped:
        notes.append(f"Not followed: {'; '.join(skipped[:5])}")
    notes.append(f"Took {time.monotonic() - started:.1f}s.")

    domain_values = {
        "has_sitemap": bool(valid), "sitemap_count": len(valid), "discovery_note": "\n".join(notes)[:10_000],
        "discovered_at": now, "updated_at": now,
    }
    if metadata or homepage_html:
        domain_values.update(
            title=_clip(metadata.get("title"), 500) or None,
            meta_description=metadata.get("meta_description") or None,
            language=_clip(metadata.get("language"), 35) or None,
            last_fetched_at=now,
        )
        if not domain.homepage_url:
            domain_values["homepage_url"] = _clip(homepage_final, 2000)
    with lease.complete():
        _sitemap_files_upsert(domain, items)
        Domain.objects.filter(pk=domain.pk).update(**domain_values)
        if fallback_rows:
            pages_upsert(domain, fallback_rows)


# --- WF5: sitemap import ----------------------------------------------------------------------------

def _subtree_ids(sitemap_file: SitemapFile, max_depth: int) -> set:
    ids = {sitemap_file.pk}
    frontier = {sitemap_file.pk}
    for _ in range(max_depth + 1):
        frontier = set(SitemapFile.objects.filter(parent_id__in=frontier).exclude(pk__in=ids)
                       .values_list("pk", flat=True))
        if not frontier:
            break
        ids |= frontier
    return ids


def sitemap_file_import(*, record: SitemapFile, lease) -> None:
    """WF5 hook: fetch and stream-parse the sitemap, follow an index's children inline, upsert its URLs as pages.

    Bounds (settings): SITEMAP_MAX_BYTES on the wire, SITEMAP_MAX_DECOMPRESSED_BYTES
    after gunzip (a gzip bomb stops there → PermanentError too_large with the
    sizes), SITEMAP_MAX_DEPTH levels of indexes, SITEMAP_MAX_URLS_PER_FILE per
    file, SITEMAP_MAX_URLS_PER_DOMAIN over all the domain's pages (pages from
    other sitemaps count against it), SITEMAP_TIME_BUDGET_S. DOCTYPE/ENTITY
    documents are refused (parse). Cycles (an index listing itself, a child
    listing its index, redirects back to a visited file) are skipped; a
    redirect loop ends in an error naming the whole chain.

    The file itself failing → the error propagates (the row ends Error or is
    retried, by class); a child failing → recorded on the child's row
    (`fetch_error`) and in the import note, the others are imported.
    Every URL is normalised (`normalize_page_url`), kept only when it is on
    the domain's site, categorised (`categorize_url`, multilingual) and
    upserted on (domain, url) in chunks of 2,000.
    """
    sitemap_file = SitemapFile.objects.select_related("domain").get(pk=record.pk)
    domain = sitemap_file.domain
    started = time.monotonic()
    walker = _RecordingWalker.from_settings()
    walker.site_url = f"https://{domain.domain}/"
    subtree = _subtree_ids(sitemap_file, walker.max_depth)
    others = Page.objects.filter(domain=domain).exclude(sitemap_file_id__in=subtree).count()
    walker.max_urls_per_domain = max(0, settings.SITEMAP_MAX_URLS_PER_DOMAIN - others)
    budget_note = ""
    if others:
        budget_note = (f"{_plural(others, 'page')} of {domain.domain} come from elsewhere; this import may add at most "
                       f"{walker.max_urls_per_domain:,} (SITEMAP_MAX_URLS_PER_DOMAIN {settings.SITEMAP_MAX_URLS_PER_DOMAIN:,}).")

    visited: list[dict] = []  # one entry per file read (or failed), in walk order

    def walk(url: str, depth: int, parent: str | None) -> None:
        if not walker.visit(url, depth):
            return
        entry = {"url": url, "depth": depth, "parent": parent, "result": None, "error": None}
        try:
            result, _final = walker.fetch_and_parse(url)
        except WorkflowError as exc:
            if depth == 0:
                raise
            entry["error"] = exc
            visited.append(entry)
            return
        entry["result"] = result
        visited.append(entry)
        if result.kind == "index":
            for child in result.children:
                if walker.expired:
                    result.warnings.append("time budget exhausted; remaining children not visited")
                    break
                walk(child, depth + 1, url)

    walk(sitemap_file.url, 0, None)
    if not visited:  # the walker refused the file itself (a zero time budget or depth limit)
        why = walker.skipped[-1][1] if walker.skipped else "refused by the walker"
        raise PermanentError(f"Sitemap {sitemap_file.url} was not read: {why} (check the SITEMAP_* settings)",
                             error_class=ErrorClass.CONFIG)
    with lease.complete():
        _sitemap_import_write(sitemap_file, domain, walker, visited, started, budget_note)


def _sitemap_import_write(sitemap_file: SitemapFile, domain: Domain, walker: _RecordingWalker, visited: list[dict],
                          started: float, budget_note: str) -> None:
    """The results of one import (files, pages, notes), written inside the hook's lease transaction."""
    now = timezone.now()
    items = []
    for entry in visited:
        meta = walker.meta.get(entry["url"], {})
        result, error = entry["result"], entry["error"]
        item = {
            "url": _clip(entry["url"], 2000), "parent_url": entry["parent"], "fetched_at": now,
            "size_bytes": meta.get("size_bytes"), "last_modified": meta.get("last_modified"),
        }
        if entry["depth"] > 0:
            item.update(discovered_how=DiscoveredHow.SITEMAP_INDEX, depth=min(sitemap_file.depth + entry["depth"], 100))
        if result is not None:
            item.update(
                sitemap_type=result.kind, is_gzip=result.gzip, truncated=result.truncated,
                url_count=len(result.children) if result.kind == "index" else len(result.urls),
                decompressed_bytes=result.decompressed_bytes or meta.get("decompressed_bytes"),
                warnings=list(result.warnings)[:20], fetch_error="",
            )
        else:
            item.update(fetch_error=f"[{error.error_class}] {error.message}", warnings=[])
        items.append(item)
    # Children need their (domain, url) row first: SitemapFile ids for the pages' provenance.
    for item in items:
        item.setdefault("discovered_how", sitemap_file.discovered_how)
        item.setdefault("depth", sitemap_file.depth)
    # Facts that only some items carry must not be reset to defaults on the others: upsert by groups of keys.
    with transaction.atomic():
        by_url: dict[str, SitemapFile] = {}
        groups: dict[tuple, list[dict]] = {}
        for item in items:
            groups.setdefault(tuple(sorted(item)), []).append(item)
        for group in groups.values():
            by_url.update(_sitemap_files_upsert(domain, group))
        # Parents across groups.
        for item in items:
            parent_url = item.get("parent_url")
            if parent_url and parent_url in by_url and item["url"] in by_url:
                row, parent = by_url[item["url"]], by_url[parent_url]
                if row.parent_id != parent.pk and row.pk != parent.pk:
                    SitemapFile.objects.filter(pk=row.pk).update(parent=parent)

    rows: list[Page] = []
    per_file: dict[str, int] = {}
    dropped = 0
    for entry in visited:
        result = entry["result"]
        if result is None or result.kind == "index":
            continue
        file_row = by_url.get(_clip(entry["url"], 2000))
        file_id = file_row.pk if file_row else sitemap_file.pk
        kept = 0
        for item in result.urls:
            row = _page_row(domain, item.loc, source=PageSource.SITEMAP, sitemap_file_id=file_id,
                            lastmod=parse_lastmod(item.lastmod), changefreq=item.changefreq or "",
                            priority=item.priority, alternates=item.alternates)
            if row is None:
                dropped += 1
                continue
            rows.append(row)
            kept += 1
        per_file[entry["url"]] = kept
    count = pages_upsert(domain, rows)

    notes = [f"Imported {_plural(count.total, 'page')} ({count.new:,} new, {count.suggested:,} suggested) "
             f"from {_plural(len([e for e in visited if e['result'] is not None]), 'file')} "
             f"in {time.monotonic() - started:.1f}s."]
    if dropped:
        notes.append(f"{_plural(dropped, 'URL')} dropped (not on {domain.domain}, or invalid).")
    if budget_note:
        notes.append(budget_note)
    for entry in visited:
        if entry["error"] is not None:
            notes.append(f"Child {entry['url']} failed: {entry['error'].message}")
        elif entry["result"] is not None and entry["result"].warnings:
            notes.append(f"{entry['url']}: {'; '.join(entry['result'].warnings[:3])}")
    cycles = [u for u, why in walker.skipped if why == "already visited"]
    if cycles:
        notes.append(f"Cycle skipped: {', '.join(cycles[:5])} already read in this import.")
    deeper = [u for u, why in walker.skipped if why != "already visited"]
    if deeper:
        notes.append(f"Not followed: {'; '.join(f'{u} ({why})' for u, why in walker.skipped if why != 'already visited')[:500]}")
    note = "\n".join(notes)[:10_000]
    with transaction.atomic():
        SitemapFile.objects.filter(pk=sitemap_file.pk).update(
            pages_imported=count.total, pages_new=count.new, import_note=note, updated_at=timezone.now())
        for url, kept in per_file.items():
            child = by_url.get(_clip(url, 2000))
            if child is not None and child.pk != sitemap_file.pk:
                SitemapFile.objects.filter(pk=child.pk).update(
                    pages_imported=kept, import_note=f"Imported with its index {sitemap_file.url} ({_plural(kept, 'page')}).",
                    updated_at=timezone.now())


# --- WF7: page scrape --------------------------------------------------------------------------------

_TEXT_TYPES = ("text/", "application/xhtml", "application/xml", "application/json", "application/ld+json")


def page_scrape(*, record: Page, lease) -> None:
    """WF7 hook: politely fetch the page and store its content; contact extraction is the next workflow's.

    The fetcher respects robots.txt (disallowed → PermanentError blocked,
    "Disallowed by robots.txt: <url>"), caps the size (FETCH_MAX_BYTES →
    too_large) and classifies failures (a 404 → PermanentError http_4xx
    "HTTP 404 from <url>"; 5xx, 429, timeouts → retried). Every error
    carries a message (original B-17). The content (decoded HTML, kept for
    re-extraction) and its hash go into `PageContent` (one per page,
    replaced), and `pages.contacts_hook.content_stored` hands it over in the
    same transaction: the contacts app queues its `contact_extraction`, which
    parses the HTML once for the metadata and the contacts in whichever worker
    process claims it. This hook parses nothing then, so its threads spend
    their time waiting on the network, not holding the GIL. Without the
    contacts app the metadata is extracted here, before the transaction.
    """
    page = record  # loaded by the engine when it claimed the row (only its url and pk are needed here)
    response = fetch(page.url, purpose="page")
    content_type = response.content_type
    is_text = not content_type or content_type.startswith(_TEXT_TYPES) or "html" in content_type
    text = response.text.replace("\x00", "") if is_text else ""
    metadata = {}
    if not content_stored.provided and ("html" in content_type or not content_type):
        metadata = page_metadata_extract(text, response.final_url)  # nobody extracts later: CPU before writing
    values = {
        "page": page,
        "final_url": _clip(response.final_url, 2048),
        "redirects": list(response.redirects)[:10],
        "status_code": response.status,
        "content_type": _clip(content_type, 100),
        "content_hash": hashlib.sha256(response.content).hexdigest(),
        "size_bytes": len(response.content),
        "fetched_at": timezone.now(),
        "elapsed_ms": int(response.elapsed_s * 1000),
        "html": text,
        # new content: the metadata of the old one no longer applies (contact_extraction writes the new one)
        "title": "", "meta_description": "", "h1": "", "canonical_url": "", "language": "", "word_count": 0,
        "social_links": [],
        **metadata,
    }
    # One upsert on the page (INSERT … ON CONFLICT (page) DO UPDATE): the content row keeps its id across
    # re-scrapes, and its workflow fields (contact_extraction's) are left to the engine's services.
    content = PageContent(**values)
    with lease.complete():
        PageContent.objects.bulk_create([content], update_conflicts=True, unique_fields=["page"],
                                        update_fields=[*(k for k in values if k != "page"), "updated_at"])
        content.pk = PageContent.objects.filter(page=page).values_list("pk", flat=True).get()  # the kept id
        content_stored(page=page, content=content)


# --- direct submission (API POST, CSV import) ----------------------------------------------------------

@dataclass
class DomainSubmitResult:
    created: list[dict] = field(default_factory=list)
    existing: list[dict] = field(default_factory=list)
    errors: list[dict] = field(default_factory=list)

    @property
    def valid_count(self) -> int:
        return len(self.created) + len(self.existing)

    def as_dict(self) -> dict:
        return asdict(self)


class AlreadyKnown(CurationInputError):
    """An all-or-nothing submission named rows that exist already (the original answered 409)."""

    def __init__(self, message: str, *, existing: list[str]):
        super().__init__(message)
        self.existing = existing


def domain_submit(*, domains: list[str], source: str = DomainSource.DIRECT, user=None,
                  refuse_existing: bool = False) -> DomainSubmitResult:
    """Create Domain rows from websites or domain names (API POST, CSV import), deduplicated.

    Each input is normalised with `places.domains.normalize_website` and keyed
    with `domain_key` (the one normalisation of the project, B-14): "https://www.foo.co.uk/x"
    → "foo.co.uk". Inputs that are not a crawlable website (not a URL, a social
    profile, a directory…) are reported in `errors` with the reason; duplicates
    within the request count once; domains already known are listed in
    `existing` and left untouched (`refuse_existing`: any invalid input raises
    CurationInputError and any known domain AlreadyKnown; nothing is created then). New rows have curation New (not queued).
    """
    if domains is None or isinstance(domains, (str, bytes)):
        raise CurationInputError("domains must be a list of domain names or website URLs")
    if len(domains) > MAX_SUBMIT_LINES:
        raise CurationInputError(f"Too many domains: {len(domains):,}; the limit is {MAX_SUBMIT_LINES:,} per request")
    result = DomainSubmitResult()
    wanted: dict[str, dict] = {}
    for raw in domains:
        text = str(raw if raw is not None else "").strip()
        if not text:
            result.errors.append({"input": text, "error": "empty value"})
            continue
        try:
            info = normalize_website(text)
        except ValueError as exc:
            result.errors.append({"input": text, "error": str(exc)})
            continue
        key = domain_key(info)
        if key is None:
            result.errors.append({"input": text, "error": f"not a site to crawl: {info.reason}"})
            continue
        if key in wanted:
            continue
        parts = urlsplit(info.url)
        homepage = info.url if info.kind == SITE_BUILDER else f"{parts.scheme}://{parts.netloc}"
        kind = DomainKind.SITE_BUILDER if info.kind == SITE_BUILDER else DomainKind.OWN_SITE
        wanted[key] = {"input": text, "kind": kind, "homepage_url": _clip(homepage, 2000)}
    if refuse_existing and result.errors:
        raise CurationInputError("Invalid domain(s): " + "; ".join(f"{e['input'] or '(empty)'}: {e['error']}"
                                                                   for e in result.errors[:10]))
    if not wanted:
        return result
    with transaction.atomic():
        known = dict(Domain.objects.filter(domain__in=list(wanted)).values_list("domain", "pk"))
        if refuse_existing and known:
            raise AlreadyKnown(f"{len(known)} domain(s) exist already: {', '.join(sorted(known)[:10])}",
                               existing=sorted(known))
        Domain.objects.bulk_create(
            [Domain(domain=key, kind=v["kind"], source=source, homepage_url=v["homepage_url"])
             for key, v in wanted.items() if key not in known],
            ignore_conflicts=True,
        )
        ids = dict(Domain.objects.filter(domain__in=list(wanted)).values_list("domain", "pk"))
    for key, v in wanted.items():
        entry = {"input": v["input"], "domain": key, "id": str(ids[key])}
        (result.existing if key in known else result.created).append(entry)
    if result.created:
        logger.info("%s submitted %d new domain(s) via %s", getattr(user, "username", "system"), len(result.created),
                    source)
    return result


def domains_from_csv(data: bytes | str) -> list[str]:
    """Values of a CSV upload: the column named domain/domains/website/url (any case), else the first column.

    A file without such a header is read as one value per line (first column). Raises CurationInputError
    for an empty, oversized or undecodable file.
    """
    if isinstance(data, bytes):
        if len(data) > MAX_CSV_BYTES:
            raise CurationInputError(f"The file is {len(data):,} bytes; the limit is {MAX_CSV_BYTES:,}")
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise CurationInputError("The file is not UTF-8 text; save it as CSV UTF-8") from None
    else:
        text = data.lstrip("\ufeff")
    if len(text) > MAX_CSV_BYTES:
        raise CurationInputError(f"The file is longer than {MAX_CSV_BYTES:,} characters")
    if not text.strip():
        raise CurationInputError("The file is empty")
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    try:
        rows = [row for row in csv.reader(io.StringIO(text), dialect) if any(cell.strip() for cell in row)]
    except csv.Error as exc:  # e.g. one field over csv.field_size_limit() (131,072 characters)
        raise CurationInputError(f"The file is not readable as CSV: {exc}; nothing was imported") from None
    if not rows:
        raise CurationInputError("The file has no values")
    header = [cell.strip().lower() for cell in rows[0]]
    column = next((header.index(name) for name in ("domain", "domains", "website", "websites", "url", "urls")
                   if name in header), None)
    if column is not None:
        body = rows[1:]
    else:
        column, body = 0, rows
    values = [row[column].strip() if column < len(row) else "" for row in body]
    return values


# --- curation helpers ------------------------------------------------------------------------------

def pages_select_suggested(*, domain_ids, actor=None, source: str = "admin") -> StatusSetResult:
    """Mark the suggested (likely contact-bearing) pages of these domains Selected: queues their page scrape.

    One call of `curation.services.curation_status_set` (Completed pages stay
    Completed; use "Re-run" to scrape again). Raises CurationInputError when
    the domains have no suggested page.
    """
    ids = list(Page.objects.filter(domain_id__in=list(domain_ids), suggested=True)
               .values_list("pk", flat=True)[: settings.CURATION_MAX_BATCH + 1])
    if not ids:
        raise CurationInputError("These domains have no suggested pages yet: import their sitemaps first")
    return curation_status_set(workflow=registry.get("page_scrape"), ids=ids, status="Selected", actor=actor,
                               source=source)
