"""Sitemap discovery and streaming sitemap parsing (WF4, WF5), plus page-URL normalisation.

Pure functions over bytes/strings; the only network access is in
`discover_sitemaps` / `SitemapWalker.fetch_and_parse`, which go through
`pages.fetch.fetch` (SSRF guard, size caps, time bounds, politeness).

Limits (defaults from settings, passed explicitly to `parse_sitemap`):
- gzip is inflated incrementally (zlib.decompressobj with max_length); past
  `max_decompressed_bytes` -> PermanentError(too_large) with the sizes, so a
  gzip bomb costs at most the cap in CPU and one chunk in memory;
- XML is stream-parsed with lxml.etree.XMLPullParser (resolve_entities=False,
  no_network=True, load_dtd=False, huge_tree=False), elements are cleared as
  soon as they are read (no whole-document DOM); a document declaring a
  DOCTYPE/ENTITY is refused before the parser sees it (billion laughs)
  -> PermanentError(parse);
- at most `max_urls` entries per file (the rest is dropped, truncated=True,
  with a warning); the `deadline` (time.monotonic()) stops parsing likewise;
- relative or invalid <loc>s are dropped, and so are <loc>s outside the
  sitemap's own site (same registrable domain), each with a warning count.

Why not ultimate-sitemap-parser (1.8.1, evaluated): it fetches by itself
(its own requests-based web client and recursion), so our fetcher's SSRF
guard, address pinning, size caps and deadlines would have to be re-plumbed
through its client interface; it holds the whole decompressed document as
one Python str (up to a hard-coded 100 MB) and parses it in one expat call,
with no per-file URL cap, no deadline, class-private limits we cannot set,
and it silently treats a failed gunzip as plain text. It would also add
requests and python-dateutil. We keep its good idea (refuse DOCTYPE/ENTITY)
and implement our own streaming parser instead. It is not a dependency
(it was pip-installed only to read it, then uninstalled).
"""
from __future__ import annotations

import codecs
import functools
import posixpath
import re
import time
import zlib
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, quote, urlencode, urljoin, urlsplit, urlunsplit

import tldextract
from django.conf import settings
from lxml import etree, html as lxml_html

from curation.exceptions import ErrorClass, PermanentError, WorkflowError
from pages.categorize import categorize_url
from pages.fetch import fetch, robots_for

__all__ = [
    "SitemapUrl",
    "SitemapParseResult",
    "parse_sitemap",
    "WELL_KNOWN_SITEMAP_PATHS",
    "CMS_SITEMAP_PATHS",
    "site_path_base",
    "robots_sitemap_urls",
    "sitemap_candidates",
    "homepage_links",
    "normalize_page_url",
    "normalize_page_url_parts",
    "path_depth",
    "site_key",
    "same_site",
    "on_site",
    "SitemapWalker",
    "DiscoveredSitemap",
    "discover_sitemaps",
]

# What common CMSs and generators publish, most likely first (an index before its children). Also
# probed under the path of a site that lives under one (https://host/project/ -> /project/sitemap.xml).
CMS_SITEMAP_PATHS: tuple[str, ...] = (
    "sitemap.xml",
    "sitemap_index.xml",  # Yoast, Rank Math
    "sitemap-index.xml",
    "wp-sitemap.xml",  # WordPress core
    "sitemap.xml.gz",
    "sitemap.txt",
    "post-sitemap.xml",  # Yoast children, published on their own by static exports
    "page-sitemap.xml",
    "news-sitemap.xml",  # Google News sitemaps (Yoast News SEO, generators)
    "sitemap_news.xml",
)

# Probed at the host's root, in order, until the first that yields entries: the CMS paths, then the
# rest of the original's 18 (original-scrapersky.md 9.2), then other generators' paths.
WELL_KNOWN_SITEMAP_PATHS: tuple[str, ...] = tuple(dict.fromkeys((
    *(f"/{path}" for path in CMS_SITEMAP_PATHS),
    "/sitemap.php",
    "/sitemap/sitemap.xml",
    "/wp-sitemap-index.xml",
    "/wp-sitemap-posts-post-1.xml",
    "/sitemap-posts-post-1.xml",
    "/sitemap-pages-post-1.xml",
    "/sitemap-categories-1.xml",
    "/sitemap/index.xml",
    "/product-sitemap.xml",
    "/category-sitemap.xml",
    "/sitemapindex.xml",
    "/sitemap-news.xml",
    "/sitemap_index.xml.gz",
    "/sitemaps.xml",
    "/sitemap1.xml",
    "/sitemap/sitemap-index.xml",
    "/wp-sitemap-posts-page-1.xml",
    "/page-sitemap1.xml",
    "/sitemap_products_1.xml",  # Shopify
    "/sitemap-pages.xml",  # Wix, Squarespace
    "/rss.xml",
    "/feed",
    "/atom.xml",
)))

_XML_CHUNK = 64 * 1024
_MAX_LOC_LEN = 2048
_MAX_PROLOG = 1024 * 1024
_DTD_MARKERS = (b"<!doctype", b"<!entity")
# The bundled public suffix list (offline), private section included: alice.github.io and bob.github.io,
# or two *.blogspot.com blogs, are different sites.
_EXTRACT = tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None, include_psl_private_domains=True)


# ----------------------------------------------------------------------------- data


@dataclass(frozen=True)
class SitemapUrl:
    loc: str
    lastmod: str | None = None
    changefreq: str | None = None
    priority: float | None = None
    alternates: tuple[str, ...] = ()  # xhtml:link hreflang alternates (same site only)


@dataclass
class SitemapParseResult:
    kind: str  # "urlset" | "index" | "text" | "rss" | "atom"
    urls: list[SitemapUrl] = field(default_factory=list)
    children: list[str] = field(default_factory=list)
    gzip: bool = False
    truncated: bool = False
    warnings: list[str] = field(default_factory=list)
    decompressed_bytes: int = 0
    xml_error: str = ""  # the XML error that ended reading early, if any


# ----------------------------------------------------------------------------- site identity and URLs


@functools.lru_cache(maxsize=4096)
def site_key(host: str) -> str:
    """The registrable domain of `host` (public suffix list with its private section, offline).

    "alice.github.io" for alice.github.io, "acme.co.uk" for www.acme.co.uk; the
    host itself for IPs; a bare public suffix ("github.io") is its own key.
    """
    host = (host or "").lower().rstrip(".")
    if host.startswith("[") or re.fullmatch(r"[\d.]+", host) or ":" in host:
        return host
    ext = _EXTRACT(host)
    if hasattr(type(ext), "top_domain_under_public_suffix"):
        registrable = ext.top_domain_under_public_suffix
    else:  # tldextract < 5.3
        registrable = ext.registered_domain
    if registrable:
        return registrable
    labels = host.split(".")
    return ".".join(labels[-2:]) if len(labels) >= 2 else host


@functools.lru_cache(maxsize=1024)
def _is_public_suffix(name: str) -> bool:
    ext = _EXTRACT(name)
    return bool(ext.suffix) and not ext.domain and ext.suffix == name


def on_site(host: str, site: str) -> bool:
    """True when `host` belongs to the site whose key is `site` (a `site_key`).

    A site key that is itself a public suffix of the private section
    ("uk.com", "azurewebsites.net": a Domain keyed on the ICANN list only)
    still covers its sub-domains, so such a domain keeps its pages.
    """
    host = (host or "").lower().rstrip(".")
    if site_key(host) == site:
        return True
    return host.endswith("." + site) and _is_public_suffix(site)


def same_site(url_a: str, url_b: str) -> bool:
    return site_key(urlsplit(url_a).hostname or "") == site_key(urlsplit(url_b).hostname or "")


_TRACKING_PARAMS = {
    "gclid", "dclid", "gbraid", "wbraid", "fbclid", "msclkid", "yclid", "igshid", "mc_cid", "mc_eid",
    "_ga", "_gl", "_hsenc", "_hsmi", "mkt_tok", "srsltid", "ref_src", "spm",
}
_UNRESERVED = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")


def _normalize_escapes(component: str, safe: str) -> str:
    # Decode escapes of unreserved characters, upper-case the rest; keep everything else as is.
    def repl(match: re.Match) -> str:
        char = chr(int(match.group(1), 16))
        return char if char in _UNRESERVED else "%" + match.group(1).upper()

    component = re.sub(r"%([0-9A-Fa-f]{2})", repl, component)
    return quote(component, safe=safe + "%")


# A URL already in canonical form, as generators write almost every sitemap entry: http(s), a lower-case ASCII
# host without port or trailing dot, a path of characters that escaping leaves as they are (no "%"), no query or
# fragment. `normalize_page_url` returns such a URL unchanged when its path also has no empty, "." or ".."
# segment and no trailing slash; `_canonical` checks that without urlsplit, quote and normpath (~10 µs a URL).
_CANONICAL = re.compile(
    r"https?://((?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)"
    r"(/[A-Za-z0-9\-._~/:@!$&'()*+,;=]*)?"
)


def _canonical(url: str) -> tuple[str, str] | None:
    """(host, path) when `url` is already canonical (see _CANONICAL), else None."""
    match = _CANONICAL.fullmatch(url)
    if match is None:
        return None
    path = match.group(2)
    if path is None or path == "/":
        return (match.group(1), "/") if path else None  # "https://host" becomes "https://host/"
    if path.endswith("/") or "//" in path or "/." in path and (
            "/./" in path or "/../" in path or path.endswith(("/.", "/.."))):
        return None
    return match.group(1), path


def normalize_page_url_parts(url: str) -> tuple[str, str, str]:
    """(normalised URL, its host, its path): `normalize_page_url` and the parts the import reads from it."""
    url = url.strip()
    fast = _canonical(url)
    if fast is not None:
        return url, fast[0], fast[1]
    normal = normalize_page_url(url)
    parts = urlsplit(normal)
    return normal, (parts.hostname or "").rstrip("."), parts.path or "/"


def normalize_page_url(url: str) -> str:
    """Canonical form used as the Page uniqueness key.

    Lower-case scheme and host (IDNA), no default port, no fragment, no
    userinfo, tracking parameters (utm_*, gclid, fbclid, ...) removed, the
    remaining query parameters sorted, dot segments resolved, escapes
    normalised, an empty path is "/", and no trailing slash on any other path
    ("/contact/" == "/contact"). Raises ValueError for a non-http(s) or
    host-less URL.
    """
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise ValueError(f"not an http(s) URL: {url!r}")
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise ValueError(f"URL without host: {url!r}")
    try:
        host = host.encode("idna").decode("ascii").lower() if not host.isascii() else host.lower()
    except UnicodeError as exc:
        raise ValueError(f"invalid host in {url!r}") from exc
    if ":" in host:
        host = f"[{host}]"
    try:
        port = parts.port
    except ValueError as exc:
        raise ValueError(f"invalid port in {url!r}") from exc
    netloc = host if port is None or (scheme, port) in (("http", 80), ("https", 443)) else f"{host}:{port}"
    path = parts.path or "/"
    path = _normalize_escapes(path, safe="/:@!$&'()*+,;=~")
    if path != "/":
        resolved = posixpath.normpath(path)
        if resolved.startswith("//"):
            resolved = "/" + resolved.lstrip("/")
        path = resolved.rstrip("/") or "/"
    query_items = [
        (k, v)
        for k, v in parse_qsl(parts.query, keep_blank_values=True)
        if not k.lower().startswith("utm_") and k.lower() not in _TRACKING_PARAMS
    ]
    query = urlencode(sorted(query_items), doseq=True) if query_items else ""
    return urlunsplit((scheme, netloc, path, query, ""))


def path_depth(url: str) -> int:
    """Number of non-empty path segments ("/" -> 0, "/a/b/" -> 2)."""
    return len([segment for segment in urlsplit(url).path.split("/") if segment])


def _clean_loc(loc: str | None, base_url: str, base_site: str, stats: dict) -> str | None:
    if not loc:
        return None
    loc = loc.strip()
    if not loc:
        return None
    if len(loc) > _MAX_LOC_LEN:
        stats["invalid"] = stats.get("invalid", 0) + 1
        return None
    fast = _canonical(loc)
    if fast is not None:  # the common case: no urlsplit needed to check it
        if on_site(fast[0], base_site):
            return loc
        stats["foreign"] = stats.get("foreign", 0) + 1
        stats.setdefault("foreign_example", loc[:200])
        return None
    if loc.startswith("/"):
        # Root-relative ("/post-sitemap.xml", static exports of Yoast indexes) or protocol-relative:
        # resolved against the sitemap's own URL, as a browser would.
        loc = urljoin(base_url, loc)
        stats["resolved"] = stats.get("resolved", 0) + 1
    parts = urlsplit(loc)
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        key = "relative" if not parts.scheme and not parts.netloc else "invalid"
        stats[key] = stats.get(key, 0) + 1
        stats.setdefault(f"{key}_example", loc[:200])
        return None
    try:
        host = parts.hostname or ""
        _ = parts.port
    except ValueError:
        stats["invalid"] = stats.get("invalid", 0) + 1
        return None
    if not on_site(host, base_site):
        stats["foreign"] = stats.get("foreign", 0) + 1
        stats.setdefault("foreign_example", loc[:200])
        return None
    return loc


def _stats_warnings(stats: dict, url: str, base_site: str) -> list[str]:
    out = []
    if stats.get("resolved"):
        out.append(f"{stats['resolved']} root-relative <loc> entries resolved against {url}")
    if stats.get("relative"):
        out.append(f"{stats['relative']} relative <loc> entries dropped (e.g. {stats.get('relative_example')!r})")
    if stats.get("invalid"):
        out.append(f"{stats['invalid']} invalid <loc> entries dropped"
                   + (f" (e.g. {stats['invalid_example']!r})" if stats.get("invalid_example") else ""))
    if stats.get("foreign"):
        out.append(
            f"{stats['foreign']} URLs on another site dropped (e.g. {stats.get('foreign_example')}); "
            f"a sitemap may only list its own site ({base_site})"
        )
    if stats.get("self"):
        out.append(f"the sitemap lists itself ({url}); ignored")
    return out


# ----------------------------------------------------------------------------- decompression


def _chunks(data: bytes, max_decompressed: int, url: str):
    """Yield decompressed chunks (gzip, possibly multi-member) or the raw data in chunks, bounded."""
    total = 0
    if data[:2] == b"\x1f\x8b":
        pending = data
        while pending:
            obj = zlib.decompressobj(16 + zlib.MAX_WBITS)
            chunk = pending
            while True:
                try:
                    out = obj.decompress(chunk, _XML_CHUNK)
                except zlib.error as exc:
                    raise PermanentError(f"Corrupt gzip sitemap {url}: {exc}", error_class=ErrorClass.PARSE) from exc
                if out:
                    total += len(out)
                    if total > max_decompressed:
                        raise PermanentError(
                            f"Sitemap {url} decompresses to more than {max_decompressed} bytes "
                            f"(compressed size {len(data)} bytes); refused as a possible gzip bomb",
                            error_class=ErrorClass.TOO_LARGE,
                        )
                    yield out
                chunk = obj.unconsumed_tail
                if obj.eof or not chunk:
                    break
            if not obj.eof:
                break  # truncated stream: keep what we have
            pending = obj.unused_data.lstrip(b"\x00")
            if pending[:2] != b"\x1f\x8b":
                break
        return
    if len(data) > max_decompressed:
        raise PermanentError(
            f"Sitemap {url} is {len(data)} bytes, more than the {max_decompressed}-byte limit",
            error_class=ErrorClass.TOO_LARGE,
        )
    for start in range(0, len(data), _XML_CHUNK):
        yield data[start:start + _XML_CHUNK]


# ----------------------------------------------------------------------------- parsing


_LOCAL_NAMES: dict = {}  # "{namespace}Tag" -> "tag": a sitemap repeats a handful of tags 50,000 times


def _local(tag) -> str:
    name = _LOCAL_NAMES.get(tag)
    if name is None:
        if not isinstance(tag, str):
            return ""
        name = tag.rsplit("}", 1)[-1].lower()
        if len(_LOCAL_NAMES) < 4096:
            _LOCAL_NAMES[tag] = name
    return name


def _first_significant(chunk: bytes) -> bytes:
    head = chunk.lstrip(b"\xef\xbb\xbf").lstrip()
    if head[:2] in (b"\xff\xfe", b"\xfe\xff"):
        return b"<"  # UTF-16 XML
    return head[:1]


def parse_sitemap(
    data: bytes,
    *,
    url: str,
    max_urls: int,
    max_decompressed_bytes: int,
    deadline: float | None = None,
    site_url: str | None = None,
) -> SitemapParseResult:
    """Parse one sitemap file (XML urlset/index, gzip, text, RSS, Atom) within the given bounds.

    Entries outside the site are dropped: the site is `site_url`'s registrable
    domain when given (a sitemap hosted elsewhere, e.g. on a CDN, and listed
    in the site's robots.txt), else that of the sitemap's own `url`.
    """
    gz = data[:2] == b"\x1f\x8b"
    stream = _chunks(data, max_decompressed_bytes, url)
    first = b""
    for piece in stream:
        first = piece
        if piece.strip():
            break
    if not first.strip():
        raise PermanentError(f"Empty sitemap {url}", error_class=ErrorClass.PARSE)

    def all_chunks():
        yield first
        yield from stream

    if _first_significant(first) == b"<":
        result = _parse_xml(all_chunks(), url=url, max_urls=max_urls, deadline=deadline, site_url=site_url or url)
        if result.xml_error and any(marker in result.xml_error for marker in _ENTITY_ERRORS):
            # An unescaped "&" (a query string a generator forgot to escape): read the file again with
            # every "&" that starts no entity escaped, outside CDATA; the URLs keep their "&".
            first_error = result.xml_error
            result = _parse_xml(_escape_bare_ampersands(_chunks(data, max_decompressed_bytes, url)), url=url,
                                max_urls=max_urls, deadline=deadline, site_url=site_url or url)
            result.warnings.insert(0, f"unescaped '&' in the XML read as '&amp;' ({first_error})")
    else:
        result = _parse_text(all_chunks(), url=url, max_urls=max_urls, deadline=deadline, site_url=site_url or url)
    result.gzip = gz
    return result


_ENTITY_ERRORS = ("EntityRef", "xmlParseEntityRef", "not defined")
_BARE_AMP = re.compile(rb"&(?!(?:amp|lt|gt|quot|apos|#[0-9]{1,7}|#x[0-9a-fA-F]{1,6});)")
_MAX_CARRY = 1024 * 1024


def _escape_outside_cdata(part: bytes, in_cdata: bool) -> tuple[bytes, bool]:
    out = []
    pos = 0
    while pos < len(part):
        if in_cdata:
            end = part.find(b"]]>", pos)
            if end < 0:
                out.append(part[pos:])
                break
            out.append(part[pos:end + 3])
            pos, in_cdata = end + 3, False
        else:
            start = part.find(b"<![CDATA[", pos)
            if start < 0:
                out.append(_BARE_AMP.sub(b"&amp;", part[pos:]))
                break
            out.append(_BARE_AMP.sub(b"&amp;", part[pos:start]) + b"<![CDATA[")
            pos, in_cdata = start + 9, True
    return b"".join(out), in_cdata


def _escape_bare_ampersands(chunks):
    """The chunks with each "&" that starts no XML entity escaped, CDATA sections left alone.

    Each piece is cut after its last ">": no entity reference and no CDATA
    marker contains one before its end, so none is split between two pieces.
    """
    carry = b""
    in_cdata = False
    for chunk in chunks:
        buffer = carry + chunk
        cut = buffer.rfind(b">") + 1
        if cut == 0 and len(buffer) > _MAX_CARRY:
            cut = len(buffer)  # one absurdly long text node: escape it as it is
        head, carry = buffer[:cut], buffer[cut:]
        out, in_cdata = _escape_outside_cdata(head, in_cdata)
        if out:
            yield out
    if carry:
        yield _escape_outside_cdata(carry, in_cdata)[0]


def _parse_text(chunks, *, url: str, max_urls: int, deadline: float | None, site_url: str) -> SitemapParseResult:
    result = SitemapParseResult(kind="text")
    base_site = site_key(urlsplit(site_url).hostname or "")
    stats: dict = {}
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    buffer = ""
    seen: set[str] = set()
    non_url_lines = 0
    total = 0

    def handle(line: str) -> bool:
        nonlocal non_url_lines
        line = line.strip().lstrip("\ufeff")
        if not line:
            return True
        if not re.match(r"(?i)https?://", line):
            non_url_lines += 1
            if non_url_lines > 1000 and not result.urls:
                raise PermanentError(f"Not a sitemap (no URLs in the first lines of text): {url}",
                                     error_class=ErrorClass.PARSE)
            return True
        loc = _clean_loc(line, url, base_site, stats)
        if loc and loc not in seen:
            if len(result.urls) >= max_urls:
                result.truncated = True
                return False
            seen.add(loc)
            result.urls.append(SitemapUrl(loc=loc))
        return True

    stop = False
    for chunk in chunks:
        total += len(chunk)
        buffer += decoder.decode(chunk)
        *lines, buffer = buffer.split("\n")
        if len(buffer) > 64 * 1024:
            buffer = ""  # an absurdly long line: drop it
        for line in lines:
            if not handle(line):
                stop = True
                break
        if stop:
            break
        if deadline is not None and time.monotonic() > deadline:
            result.truncated = True
            result.warnings.append(f"time budget exhausted after {len(result.urls)} URLs; the rest of {url} was not read")
            stop = True
            break
    if not stop:
        buffer += decoder.decode(b"", final=True)
        handle(buffer)
    if result.truncated and not any("time budget" in w for w in result.warnings):
        result.warnings.append(f"URL limit {max_urls} reached; remaining entries of {url} ignored")
    if non_url_lines and not result.urls and not stats:
        raise PermanentError(f"Not a sitemap (no URLs found): {url}", error_class=ErrorClass.PARSE)
    result.warnings.extend(_stats_warnings(stats, url, base_site))
    result.decompressed_bytes = total
    return result


_URL_FIELDS = frozenset(("loc", "lastmod", "changefreq", "priority"))


def _child_text(element, name: str) -> str | None:
    for child in element:
        if _local(child.tag) == name:
            return (child.text or "").strip() or None
    return None


_LEADING_JUNK = re.compile(rb"^(?:\xef\xbb\xbf)?(?:\s|<!--.*?-->)+(?=<\?xml[\s?])", re.S)


def _strip_before_declaration(chunk: bytes) -> bytes:
    """Drop whitespace and comments before the XML declaration (a blank line a CMS plugin printed
    first, a generator's banner): XML forbids them there, browsers and search engines ignore them."""
    match = _LEADING_JUNK.match(chunk[:_XML_CHUNK])
    return chunk[match.end():] if match else chunk


def _parse_xml(chunks, *, url: str, max_urls: int, deadline: float | None, site_url: str) -> SitemapParseResult:
    parser = etree.XMLPullParser(
        events=("start", "end"),
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
    )
    base_site = site_key(urlsplit(site_url).hostname or "")
    self_key = _loose(url)
    stats: dict = {}
    result: SitemapParseResult | None = None
    root_seen = False
    prolog_tail = b""
    prolog_size = 0
    seen: set[str] = set()
    total = 0
    depth = 0
    done = False

    def item_end(element) -> bool:
        """Handle a finished <url>/<sitemap>/<item>/<entry>; False once the URL cap is reached."""
        kind = result.kind
        if kind == "index":
            loc = _clean_loc(_child_text(element, "loc"), url, base_site, stats)
            if loc and _loose(loc) == self_key:
                stats["self"] = 1
                return True
            if loc and loc not in seen:
                if len(result.children) >= max_urls:
                    result.truncated = True
                    return False
                seen.add(loc)
                result.children.append(loc)
            return True
        if kind == "urlset":
            # One pass over the children (the first of each name counts, as _child_text reads them).
            raw = lastmod = changefreq = priority_text = None
            seen_names = set()
            alternates = []
            for child in element:
                name = _local(child.tag)
                if name == "link":
                    if child.get("rel") == "alternate" and child.get("href"):
                        href = child.get("href").strip()
                        if href.startswith(("http://", "https://")) and on_site(urlsplit(href).hostname or "",
                                                                                base_site):
                            alternates.append(href)
                    continue
                if name in seen_names or name not in _URL_FIELDS:
                    continue
                seen_names.add(name)
                text = (child.text or "").strip() or None
                if name == "loc":
                    raw = text
                elif name == "lastmod":
                    lastmod = text
                elif name == "changefreq":
                    changefreq = text
                else:
                    priority_text = text
        elif kind == "rss":
            raw = _child_text(element, "link")
            if not raw:
                guid = next((c for c in element if _local(c.tag) == "guid"), None)
                raw = (guid.text or "").strip() if guid is not None and guid.get("isPermaLink", "true") != "false" else None
            lastmod = _child_text(element, "pubdate")
            changefreq = priority_text = None
            alternates = []
        else:  # atom
            raw = None
            for child in element:
                if _local(child.tag) == "link" and child.get("href") and child.get("rel", "alternate") == "alternate":
                    raw = child.get("href")
                    break
            lastmod = _child_text(element, "updated") or _child_text(element, "published")
            changefreq = priority_text = None
            alternates = []
        loc = _clean_loc(raw, url, base_site, stats)
        if not loc or loc in seen:
            return True
        if len(result.urls) >= max_urls:
            result.truncated = True
            return False
        priority = None
        if priority_text:
            try:
                priority = min(1.0, max(0.0, float(priority_text)))
            except ValueError:
                priority = None
        seen.add(loc)
        result.urls.append(SitemapUrl(loc=loc, lastmod=lastmod, changefreq=(changefreq or None) and changefreq.lower(),
                                      priority=priority, alternates=tuple(alternates)))
        return True

    item_names = {"index": "sitemap", "urlset": "url", "rss": "item", "atom": "entry"}
    state = {"root_closed": False}

    def drain() -> bool:
        """Handle the parser's pending events; False once the URL cap is reached."""
        nonlocal depth, root_seen, result
        for event, element in parser.read_events():
            if event == "start":
                depth += 1
                if not root_seen:
                    root_seen = True
                    name = _local(element.tag)
                    kind = {"urlset": "urlset", "sitemapindex": "index", "rss": "rss", "rdf": "rss",
                            "feed": "atom"}.get(name)
                    if kind is None:
                        what = "an HTML page" if name == "html" else f"root element <{name}>"
                        raise PermanentError(f"Not a sitemap ({what}): {url}", error_class=ErrorClass.PARSE)
                    result = SitemapParseResult(kind=kind)
                continue
            depth -= 1
            if result is None:
                continue
            if depth == 0:
                state["root_closed"] = True
                continue
            if _local(element.tag) == item_names[result.kind]:
                keep_going = item_end(element)
                element.clear()
                parent = element.getparent()
                if parent is not None:
                    while element.getprevious() is not None:
                        del parent[0]
                if not keep_going:
                    return False
            elif depth == 1:
                element.clear()  # stray element under the root: drop it and its predecessors
                parent = element.getparent()
                if parent is not None:
                    while element.getprevious() is not None:
                        del parent[0]
        return True

    try:
        for chunk in chunks:
            total += len(chunk)
            if not root_seen:
                prolog_size += len(chunk)
                window = (prolog_tail + chunk).lower()
                if any(marker in window for marker in _DTD_MARKERS) or b"<\x00!\x00d\x00o\x00c" in window:
                    raise PermanentError(
                        f"Sitemap {url} declares a DTD (<!DOCTYPE>/<!ENTITY>); refused to prevent entity expansion",
                        error_class=ErrorClass.PARSE,
                    )
                prolog_tail = chunk[-16:]
                if prolog_size > _MAX_PROLOG:
                    raise PermanentError(f"Sitemap {url}: no root element in the first {_MAX_PROLOG} bytes",
                                         error_class=ErrorClass.PARSE)
                if total == len(chunk):
                    chunk = _strip_before_declaration(chunk)
            parser.feed(chunk)
            if not drain():
                done = True
                break
            if state["root_closed"]:
                done = True  # whatever follows the root element carries no entries
                break
            if deadline is not None and time.monotonic() > deadline:
                result = result or SitemapParseResult(kind="urlset")
                result.truncated = True
                result.warnings.append(
                    f"time budget exhausted after {len(result.urls) + len(result.children)} entries; "
                    f"the rest of {url} was not read"
                )
                done = True
                break
        if not done:
            parser.close()
            drain()
    except etree.XMLSyntaxError as exc:
        # The events read before the error are still queued: keep their entries. (Not lxml's recover
        # mode: it silently rewrites "a=1&b=2" into "a=1=2" and turns a cut-off tail into a URL.)
        if drain() and state["root_closed"]:
            result.warnings.append(f"malformed XML after the root element ignored: {exc}")
        elif result is None:
            raise PermanentError(f"Invalid XML in sitemap {url}: {exc}", error_class=ErrorClass.PARSE) from exc
        elif not state["root_closed"]:
            result.truncated = True
            result.xml_error = str(exc)
            result.warnings.append(
                f"XML error after {len(result.urls) + len(result.children)} entries, rest ignored: {exc}")
    if result is None:
        raise PermanentError(f"Not a sitemap (no root element): {url}", error_class=ErrorClass.PARSE)
    if result.truncated and not result.warnings:
        result.warnings.append(f"URL limit {max_urls} reached; remaining entries of {url} ignored")
    result.warnings.extend(_stats_warnings(stats, url, base_site))
    result.decompressed_bytes = total
    return result


def _loose(url: str) -> str:
    """Key for cycle detection: scheme-less, normalised."""
    try:
        return normalize_page_url(url).split("://", 1)[1]
    except ValueError:
        return url


# ----------------------------------------------------------------------------- discovery


_ROBOTS_SITEMAP = re.compile(r"^\s*sitemap\s*:\s*(\S+)", re.IGNORECASE | re.MULTILINE)


def robots_sitemap_urls(robots_text: str, base_url: str) -> list[str]:
    """Absolute URLs of the `Sitemap:` lines of a robots.txt (relative ones joined to base_url)."""
    out: list[str] = []
    for match in _ROBOTS_SITEMAP.finditer(robots_text or ""):
        absolute = urljoin(base_url, match.group(1).strip())
        if urlsplit(absolute).scheme in ("http", "https") and absolute not in out:
            out.append(absolute)
    return out


def _parse_html(html: str, base_url: str):
    if not html or not html.strip():
        return None
    try:
        parser = lxml_html.HTMLParser(no_network=True, remove_comments=True, huge_tree=False)
        text = re.sub(r"^\s*<\?xml[^>]*\?>", "", html[:5 * 1024 * 1024])  # lxml refuses str with an encoding declaration
        doc = lxml_html.document_fromstring(text, parser=parser)
    except (etree.ParserError, ValueError):
        return None
    base = doc.find(".//base[@href]")
    if base is not None:
        base_url = urljoin(base_url, base.get("href").strip())
    return doc, base_url


def _homepage_sitemap_links(html: str, base_url: str) -> list[str]:
    parsed = _parse_html(html, base_url)
    if parsed is None:
        return []
    doc, base = parsed
    out: list[str] = []
    for link in doc.iter("link"):
        rels = (link.get("rel") or "").lower().split()
        if "sitemap" in rels and link.get("href"):
            out.append(urljoin(base, link.get("href").strip()))
    for anchor in doc.iter("a"):
        href = (anchor.get("href") or "").strip()
        if re.search(r"sitemap[^/]*\.(xml|xml\.gz|txt)(\?|$)", href, re.IGNORECASE):
            out.append(urljoin(base, href))
    return [u for u in dict.fromkeys(out) if urlsplit(u).scheme in ("http", "https")]


def site_path_base(url: str, *, whole_path: bool = False) -> str:
    """The path a site lives under: "/project/" for https://host/project/ (or …/project/index.html), "/" at the root.

    A path without a trailing slash names a page ("/contact": the site is at
    "/"), unless `whole_path` (a site builder's shared host, where
    https://user.wixsite.com/dental is the site itself: "/dental/").
    """
    path = urlsplit(url or "").path or "/"
    if not path.endswith("/"):
        head, _, last = path.rpartition("/")
        path = path + "/" if whole_path and "." not in last else head + "/"
    return re.sub(r"/{2,}", "/", path)


def _probe_urls(base_url: str) -> list[str]:
    """Well-known URLs to probe, in order: the CMS paths under the site's own path first, then the root's."""
    parts = urlsplit(base_url)
    root = f"{parts.scheme}://{parts.netloc}"
    base = site_path_base(base_url)
    under_path = [f"{root}{base}{path}" for path in CMS_SITEMAP_PATHS] if base != "/" else []
    return list(dict.fromkeys([*under_path, *(root + path for path in WELL_KNOWN_SITEMAP_PATHS)]))


def sitemap_candidates(*, base_url: str, robots_text: str | None, homepage_html: str | None) -> list[tuple[str, str]]:
    """Candidate sitemap URLs with how they were found, best first, deduplicated.

    Order: robots.txt `Sitemap:` lines ("robots"), the homepage's
    <link rel="sitemap"> and sitemap-looking links ("homepage_link", relative
    to `base_url`), then the well-known paths ("well_known"): under the path
    the site lives at (https://host/project/), then at the root.
    """
    parts = urlsplit(base_url)
    root = f"{parts.scheme}://{parts.netloc}"
    home = root + site_path_base(base_url)
    out: dict[str, str] = {}
    for url in robots_sitemap_urls(robots_text or "", root + "/"):
        out.setdefault(url, "robots")
    for url in _homepage_sitemap_links(homepage_html or "", home):
        out.setdefault(url, "homepage_link")
    for url in _probe_urls(base_url):
        out.setdefault(url, "well_known")
    return list(out.items())


_ASSET_EXT = re.compile(
    r"\.(pdf|jpe?g|png|gif|webp|svg|ico|bmp|tiff?|mp[34]|avi|mov|wmv|webm|zip|rar|gz|7z|exe|dmg|css|js|json|xml|txt|"
    r"docx?|xlsx?|pptx?|woff2?|ttf|eot|rss)$",
    re.IGNORECASE,
)


def homepage_links(html: str, base_url: str, limit: int) -> list[str]:
    """Same-site page links of a homepage for the no-sitemap fallback crawl.

    Normalised, deduplicated, without assets, fragments-only links, mailto:/tel:
    or the homepage itself; likely contact-bearing pages (contact, impressum,
    about, team, locations) first, then document order; at most `limit`.
    """
    parsed = _parse_html(html, base_url)
    if parsed is None or limit <= 0:
        return []
    doc, base = parsed
    home_site = site_key(urlsplit(base_url).hostname or "")
    try:
        home = normalize_page_url(base_url)
    except ValueError:
        home = base_url
    found: list[str] = []
    seen = {home}
    for anchor in doc.iter("a", "area"):
        href = (anchor.get("href") or "").strip()
        if not href or href.startswith(("#", "mailto:", "tel:", "javascript:", "data:")):
            continue
        absolute = urljoin(base, href)
        parts = urlsplit(absolute)
        if parts.scheme not in ("http", "https") or not on_site(parts.hostname or "", home_site):
            continue
        if _ASSET_EXT.search(parts.path):
            continue
        try:
            normal = normalize_page_url(absolute)
        except ValueError:
            continue
        if normal in seen:
            continue
        seen.add(normal)
        found.append(normal)
        if len(found) >= 20 * limit:
            break
    ranked = sorted(enumerate(found), key=lambda item: (-categorize_url(item[1]).priority_score, item[0]))
    return [url for _, url in ranked[:limit]]


# ----------------------------------------------------------------------------- walking indexes


@dataclass
class DiscoveredSitemap:
    url: str
    how: str  # "robots" | "well_known" | "homepage_link" | "sitemap_index"
    depth: int = 0
    parent: str | None = None
    kind: str | None = None
    url_count: int = 0
    gzip: bool = False
    truncated: bool = False
    warnings: list[str] = field(default_factory=list)
    error: str | None = None
    error_class: str | None = None


class SitemapWalker:
    """Visited set, depth limit, per-domain URL budget and time budget for following sitemap indexes.

    `visit(url, depth)` says whether a sitemap should be fetched (it returns
    False for one already seen in any spelling — scheme, trailing slash,
    tracking parameters — or beyond the depth limit), so an index listing
    itself, a child listing its index, robots.txt listing the same file
    twice and redirects back to a visited file cannot loop.
    """

    def __init__(self, *, max_depth: int, max_urls_per_domain: int, time_budget_s: float,
                 max_urls_per_file: int, max_decompressed_bytes: int):
        self.max_depth = max_depth
        self.max_urls_per_domain = max_urls_per_domain
        self.max_urls_per_file = max_urls_per_file
        self.max_decompressed_bytes = max_decompressed_bytes
        self.deadline = time.monotonic() + time_budget_s
        self.visited: set[str] = set()
        self.url_count = 0
        self.skipped: list[tuple[str, str]] = []
        self.site_url: str | None = None  # whose URLs are accepted; None = each sitemap's own site

    @classmethod
    def from_settings(cls) -> "SitemapWalker":
        return cls(
            max_depth=settings.SITEMAP_MAX_DEPTH,
            max_urls_per_domain=settings.SITEMAP_MAX_URLS_PER_DOMAIN,
            time_budget_s=settings.SITEMAP_TIME_BUDGET_S,
            max_urls_per_file=settings.SITEMAP_MAX_URLS_PER_FILE,
            max_decompressed_bytes=settings.SITEMAP_MAX_DECOMPRESSED_BYTES,
        )

    def visit(self, url: str, depth: int) -> bool:
        key = _loose(url)
        if key in self.visited:
            self.skipped.append((url, "already visited"))
            return False
        if depth > self.max_depth:
            self.skipped.append((url, f"deeper than {self.max_depth} levels"))
            return False
        if self.expired:
            self.skipped.append((url, "time budget exhausted"))
            return False
        self.visited.add(key)
        return True

    @property
    def expired(self) -> bool:
        return time.monotonic() > self.deadline

    @property
    def remaining_urls(self) -> int:
        return max(0, self.max_urls_per_domain - self.url_count)

    def fetch_and_parse(self, url: str) -> tuple[SitemapParseResult, str]:
        """Fetch (purpose "sitemap") and parse one file within the walker's limits; returns (result, final_url).

        A redirect onto an already visited sitemap is reported as a cycle (PermanentError parse).
        """
        response = fetch(url, purpose="sitemap")
        for hop in response.redirects:
            key = _loose(hop)
            if key in self.visited and key != _loose(url):
                raise PermanentError(f"Sitemap {url} redirects back to already visited {hop}", error_class=ErrorClass.PARSE)
            self.visited.add(key)
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
        return result, response.final_url


def discover_sitemaps(base_url: str, *, walker: SitemapWalker | None = None, probe_well_known: bool = True,
                      robots_text: str | None = None, homepage_html: str | None = None) -> list[DiscoveredSitemap]:
    """WF4 core: find a site's sitemap files, following indexes (bounded, loop-safe).

    `base_url` is where the site lives: its origin, or the path it lives
    under ("https://host/project/"). Tries robots.txt Sitemap: lines first;
    only if they yield no entries, the homepage's sitemap links; then the
    well-known paths (`sitemap_candidates` order: the CMS paths under the
    site's path, then the root's), stopping at the first that yields
    entries. Each valid file (and each child of an index, depth-first up to
    the walker's depth) becomes a DiscoveredSitemap; files that failed to
    fetch or parse are returned with `error` set only when they came from
    robots.txt, the homepage or an index (failed well-known probes are
    expected and omitted). Raises RetryableError when robots.txt is
    temporarily unavailable and PermanentError when the site itself is
    refused (SSRF) or does not exist.
    """
    walker = walker or SitemapWalker.from_settings()
    parts = urlsplit(base_url)
    root = f"{parts.scheme}://{parts.netloc}"
    home = root + site_path_base(base_url)
    if walker.site_url is None:
        walker.site_url = root + "/"
    if robots_text is None:
        robots = robots_for(root)  # RetryableError/PermanentError propagate: the site is unusable now
        robots_text = ""
        if robots is not None:
            robots_text = "\n".join(f"Sitemap: {u}" for u in robots.sitemaps)
    found: list[DiscoveredSitemap] = []

    def walk(url: str, how: str, depth: int, parent: str | None, report_errors: bool) -> bool:
        """Read one file (and an index's children); True when it yielded entries."""
        if not walker.visit(url, depth):
            return False
        item = DiscoveredSitemap(url=url, how=how, depth=depth, parent=parent)
        try:
            result, final = walker.fetch_and_parse(url)
        except WorkflowError as exc:
            if report_errors:
                item.error, item.error_class = exc.message, exc.error_class
                found.append(item)
            return False
        item.kind, item.gzip, item.truncated, item.warnings = result.kind, result.gzip, result.truncated, result.warnings
        item.url_count = len(result.children) if result.kind == "index" else len(result.urls)
        found.append(item)
        if result.kind == "index":
            for child in result.children:
                if walker.expired:
                    item.warnings.append("time budget exhausted; remaining children not visited")
                    break
                walk(child, "sitemap_index", depth + 1, url, True)
        return item.url_count > 0

    ok = False
    for url in robots_sitemap_urls(robots_text, root + "/"):
        ok = walk(url, "robots", 0, None, True) or ok
    if ok:
        return found
    if homepage_html is None:
        try:
            homepage_html = fetch(home, purpose="homepage").text
        except WorkflowError:
            homepage_html = ""
    for url in _homepage_sitemap_links(homepage_html, home):
        ok = walk(url, "homepage_link", 0, None, True) or ok
    if ok or not probe_well_known:
        return found
    for url in _probe_urls(home):
        if walker.expired:
            break
        if walk(url, "well_known", 0, None, False):
            break  # the first file with entries (and its children) is enough: be polite
    return found
