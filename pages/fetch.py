"""The one HTTP fetcher every pages stage uses (robots.txt, sitemaps, homepages, pages).

Safety and politeness, in the order a request goes through them:

1. robots.txt (purpose "page" by default): fetched with this same fetcher,
   parsed with Protego, cached per origin for FETCH_ROBOTS_TTL seconds.
   Following Google's convention: a 4xx robots.txt (401/403 included, 429
   excluded) means "no rules, allow all"; a 5xx, 429, timeout or network
   failure means "disallow everything for now" -> RetryableError (the row is
   retried later); that failure is cached for at most 60 s. A redirect loop
   counts as 404; only the first FETCH_ROBOTS_MAX_BYTES (500 KiB) are read.
   A disallowed URL -> PermanentError(blocked, "Disallowed by robots.txt:
   <url>"). Crawl-delay is honoured (capped at 10 s). Discovery purposes
   ("robots", "sitemap", "homepage") do not consult robots.txt by default.
2. Scheme: only http and https, on the first URL and on every redirect hop.
3. SSRF guard: the host is resolved (socket.getaddrinfo) and refused when any
   address is loopback, private, link-local (169.254.169.254 included),
   CGNAT 100.64/10, multicast, reserved, unspecified or otherwise not global,
   IPv4-mapped, 6to4 (2002::/16) and Teredo (2001::/32) IPv6 unwrapped, unless
   it lies in FETCH_ALLOW_PRIVATE (a CIDR, or an address with a port: the
   sandbox allows its website server's port only, not the rest of loopback).
   -> PermanentError(ssrf_refused). The connection goes to the very address
   that was checked (the URL is rewritten to the IP, the Host header and the
   TLS SNI/certificate check keep the host name), so DNS rebinding between
   check and connect is impossible. DNS lookups time out after
   FETCH_CONNECT_TIMEOUT; the checked addresses are tried IPv4 first, the
   next one only when connecting fails. Proxies from the environment are
   ignored (trust_env=False): they would defeat the pinning. (httpx logs the
   wire URL, i.e. the IP address, at INFO.)
4. FETCH_HOST_MAP routes chosen host names ("host", "*.suffix" or "*") to
   "ip:port" without DNS: that is how the sandbox's fictional websites
   resolve. An https URL of a mapped host is fetched as plain http against
   the mapped port (the sandbox speaks no TLS). The mapped address still goes
   through the SSRF guard (loopback passes only because the allow-list says
   so).
5. Politeness: at most FETCH_PER_HOST_CONCURRENCY requests in flight per host
   name, and at least FETCH_PER_HOST_DELAY seconds (or the robots.txt
   Crawl-delay, capped at 10 s) between request starts to the same host —
   across all worker processes and machines (`pages.politeness`: Redis or
   PostgreSQL; this process's memory on SQLite). The robots.txt cache is
   shared the same way.
6. Time: connect timeout, read timeout (per socket read, also the wait for
   the headers) and a total deadline for the whole fetch including redirects.
   The deadline is checked after every network read, and each socket read
   is bounded by min(read timeout, time left when the hop started), so a
   fetch ends within about FETCH_TOTAL_TIMEOUT plus one read timeout at
   worst (a trickling server is cut off at the deadline).
7. Size: the body is streamed and counted (after Content-Encoding decoding,
   which we do ourselves with a bounded zlib so an encoded bomb cannot blow
   up in one step); reading stops as soon as max_bytes is exceeded ->
   PermanentError(too_large).
8. Redirects are followed by hand (httpx follow_redirects=False), at most
   FETCH_MAX_REDIRECTS hops; a loop is reported with the whole chain; a
   Location that is no usable URL fails at once (bad_redirect).

Error classes (curation.exceptions.ErrorClass): network, timeout, http_4xx
(404/410 and other 4xx permanent; 408 retryable), http_5xx (retryable),
rate_limited (429, and 503 with Retry-After; retry_after set), blocked
(robots.txt, and 401/403 with a bot-block signature), too_large,
ssrf_refused, bad_redirect, not_found (the host name does not exist). Messages carry the
URL and the status. HTTP errors carry `.status` and `.url` attributes.
"""
from __future__ import annotations

import concurrent.futures
import email.utils
import ipaddress
import re
import socket
import ssl
import threading
import time
import zlib
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit, urlunsplit

import httpx
from django.conf import settings
from protego import Protego

from curation.exceptions import ErrorClass, PermanentError, RetryableError, WorkflowError
from pages import politeness
from scrapersky.env import parse_network

__all__ = [
    "FetchResult",
    "fetch",
    "robots_for",
    "sitemaps_from_robots",
    "robots_allows",
    "check_address",
    "resolve_target",
    "clear_caches",
]

_PURPOSE_ACCEPT = {
    "page": "text/html,application/xhtml+xml;q=0.9,*/*;q=0.1",
    "homepage": "text/html,application/xhtml+xml;q=0.9,*/*;q=0.1",
    "sitemap": "application/xml,text/xml;q=0.9,application/gzip;q=0.8,text/plain;q=0.5,*/*;q=0.1",
    "robots": "text/plain,*/*;q=0.1",
}
_REDIRECT_STATUSES = {301, 302, 303, 307, 308}
_CHUNK = 64 * 1024
_MAX_CRAWL_DELAY = 10.0
_ROBOTS_FAILURE_TTL = 60.0
_MAX_CACHED_HOSTS = 10_000
_ERROR_BODY_PEEK = 32 * 1024
_CGNAT = ipaddress.ip_network("100.64.0.0/10")
_HOST_CHARS = re.compile(r"[A-Za-z0-9._:-]+")  # a host name (IDNA-encoded) or an IP address
_BOT_BLOCK_PATTERNS = re.compile(
    rb"cf-chl|challenge-platform|attention required|captcha|access denied|bot detection|"
    rb"are you a robot|request unsuccessful\. incapsula|px-captcha|datadome",
    re.IGNORECASE,
)

_SSL_CONTEXT: ssl.SSLContext | None = None
_SSL_LOCK = threading.Lock()


# ----------------------------------------------------------------------------- result


@dataclass
class FetchResult:
    url: str
    final_url: str
    status: int
    headers: dict[str, str]
    content: bytes
    content_type: str
    encoding: str | None
    redirects: list[str] = field(default_factory=list)
    elapsed_s: float = 0.0

    @property
    def text(self) -> str:
        """The body decoded: header charset, else an HTML/XML declared charset, else UTF-8 (lenient)."""
        encoding = self.encoding or _sniff_charset(self.content[:4096]) or "utf-8"
        try:
            return self.content.decode(encoding, errors="replace")
        except LookupError:
            return self.content.decode("utf-8", errors="replace")


def _sniff_charset(head: bytes) -> str | None:
    if head.startswith(b"\xef\xbb\xbf"):
        return "utf-8-sig"
    match = re.search(rb"""<meta[^>]+charset=["']?([A-Za-z0-9_\-]+)""", head, re.IGNORECASE) or re.search(
        rb"""<\?xml[^>]+encoding=["']([A-Za-z0-9_\-]+)""", head
    )
    return match.group(1).decode("ascii") if match else None


# ----------------------------------------------------------------------------- configuration


@dataclass(frozen=True)
class _Config:
    user_agent: str
    connect_timeout: float
    read_timeout: float
    total_timeout: float
    max_bytes: int
    robots_max_bytes: int
    sitemap_max_bytes: int
    max_redirects: int
    allow_private: tuple
    host_map: dict
    per_host_concurrency: int
    per_host_delay: float
    robots_ttl: float


def _config() -> _Config:
    # (network, port or None): "127.0.0.1:8102" lets through that one address and port only.
    allow = [parse_network(entry) for entry in getattr(settings, "FETCH_ALLOW_PRIVATE", []) or []]
    return _Config(
        user_agent=getattr(settings, "FETCH_USER_AGENT", "ScraperSkyBot/1.0 (+https://scrapersky.example/bot)"),
        connect_timeout=float(getattr(settings, "FETCH_CONNECT_TIMEOUT", 5)),
        read_timeout=float(getattr(settings, "FETCH_READ_TIMEOUT", 15)),
        total_timeout=float(getattr(settings, "FETCH_TOTAL_TIMEOUT", 30)),
        max_bytes=int(getattr(settings, "FETCH_MAX_BYTES", 5 * 1024 * 1024)),
        robots_max_bytes=int(getattr(settings, "FETCH_ROBOTS_MAX_BYTES", 500 * 1024)),
        sitemap_max_bytes=int(getattr(settings, "SITEMAP_MAX_BYTES", 50 * 1024 * 1024)),
        max_redirects=int(getattr(settings, "FETCH_MAX_REDIRECTS", 5)),
        allow_private=tuple(allow),
        host_map={str(k).lower(): str(v) for k, v in (getattr(settings, "FETCH_HOST_MAP", {}) or {}).items()},
        per_host_concurrency=max(1, int(getattr(settings, "FETCH_PER_HOST_CONCURRENCY", 2))),
        per_host_delay=float(getattr(settings, "FETCH_PER_HOST_DELAY", 0.0)),
        robots_ttl=float(getattr(settings, "FETCH_ROBOTS_TTL", 3600)),
    )


def _ssl_context() -> ssl.SSLContext:
    global _SSL_CONTEXT
    with _SSL_LOCK:
        if _SSL_CONTEXT is None:
            _SSL_CONTEXT = httpx.create_ssl_context()  # verification on, certifi bundle
        return _SSL_CONTEXT


# ----------------------------------------------------------------------------- SSRF guard


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> list[tuple[str, ipaddress.IPv4Address]]:
    """IPv4 addresses an IPv6 address carries and that a relay would deliver to: mapped, 6to4, Teredo."""
    found = []
    if ip.ipv4_mapped is not None:
        found.append(("IPv4-mapped", ip.ipv4_mapped))
    if ip.sixtofour is not None:  # 2002:AABB:CCDD::/48 -> AA.BB.CC.DD
        found.append(("6to4", ip.sixtofour))
    if ip.teredo is not None:  # 2001:0::/32 -> (server, client); the client is the real destination
        server, client = ip.teredo
        found += [("Teredo", client), ("Teredo server", server)]
    return found


def _forbidden_reason(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str | None:
    if isinstance(ip, ipaddress.IPv6Address):
        for wrapping, inner in _embedded_ipv4(ip):
            reason = _forbidden_reason(inner)
            if reason:
                return f"{wrapping} {reason}"
        if ip.ipv4_mapped is not None:
            return None  # the mapped IPv4 address is public: so is this
    if ip.is_unspecified:
        return "unspecified"
    if ip.is_loopback:
        return "loopback"
    if ip.is_link_local:
        return "link-local"
    if ip.is_multicast:
        return "multicast"
    if isinstance(ip, ipaddress.IPv4Address) and ip in _CGNAT:
        return "shared (CGNAT)"
    if ip.is_private:
        return "private"
    if ip.is_reserved:
        return "reserved"
    if not ip.is_global:
        return "non-global"
    return None


def check_address(host: str, address: str, allow: tuple | None = None, port: int | None = None) -> None:
    """Raise PermanentError(ssrf_refused) if `address` (resolved for `host`) is not public and not allowed.

    `allow` holds (network, port or None) pairs (FETCH_ALLOW_PRIVATE); an entry with a port lets
    through that port only, so the sandbox's one server passes and the rest of loopback does not.
    """
    if allow is None:
        allow = _config().allow_private
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    candidates = [ip]
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        candidates.append(ip.ipv4_mapped)
    for entry in allow:
        net, allowed_port = entry if isinstance(entry, tuple) else (entry, None)
        if allowed_port is not None and allowed_port != port:
            continue
        if any(c.version == net.version and c in net for c in candidates):
            return
    reason = _forbidden_reason(ip)
    if reason:
        where = f" (port {port})" if port is not None else ""
        raise PermanentError(
            f"Refusing to fetch from {host}: it resolves to {reason} address {ip}{where}",
            error_class=ErrorClass.SSRF_REFUSED,
        )


@dataclass(frozen=True)
class _Target:
    host: str  # host name as in the URL (lower case, IDNA)
    ip: str  # the first checked address
    port: int
    scheme: str  # scheme on the wire (mapped hosts: http)
    mapped: bool
    ips: tuple = ()  # every checked address, IPv4 first; tried in order when a connection fails


def _is_ip_literal(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


_DNS_POOL: concurrent.futures.ThreadPoolExecutor | None = None


def _dns_pool() -> concurrent.futures.ThreadPoolExecutor:
    # getaddrinfo has no timeout of its own; a small pool lets us stop waiting (the lookup itself finishes later).
    global _DNS_POOL
    with _SSL_LOCK:
        if _DNS_POOL is None:
            _DNS_POOL = concurrent.futures.ThreadPoolExecutor(max_workers=8, thread_name_prefix="fetch-dns")
        return _DNS_POOL


def _host_map_lookup(host: str, host_map: dict) -> str | None:
    if not host_map or _is_ip_literal(host):
        return None  # the map routes host names; an IP literal always means itself
    if host in host_map:
        return host_map[host]
    best = None
    for pattern, target in host_map.items():
        if pattern.startswith("*.") and (host.endswith(pattern[1:]) or host == pattern[2:]):
            if best is None or len(pattern) > len(best[0]):
                best = (pattern, target)
    if best:
        return best[1]
    return host_map.get("*")


def resolve_target(url: str, cfg: _Config | None = None) -> _Target:
    """Resolve and SSRF-check the host of `url`; return the address to connect to."""
    cfg = cfg or _config()
    parts = httpx.URL(url)
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise PermanentError(f"Refusing non-HTTP(S) URL scheme {scheme!r}: {url}", error_class=ErrorClass.SSRF_REFUSED)
    host = parts.host.lower().rstrip(".")
    if not host:
        raise PermanentError(f"URL has no host: {url}", error_class=ErrorClass.PARSE)
    port = parts.port or (443 if scheme == "https" else 80)
    mapped = _host_map_lookup(host, cfg.host_map)
    if mapped:
        m_host, _, m_port = mapped.rpartition(":")
        m_host = m_host.strip("[]")
        check_address(host, m_host, cfg.allow_private, int(m_port))
        return _Target(host=host, ip=m_host, port=int(m_port), scheme="http", mapped=True, ips=(m_host,))
    try:
        future = _dns_pool().submit(socket.getaddrinfo, host, port, type=socket.SOCK_STREAM)
        infos = future.result(timeout=cfg.connect_timeout)
    except concurrent.futures.TimeoutError as exc:
        raise RetryableError(f"DNS lookup of {host} timed out after {cfg.connect_timeout:g}s ({url})",
                             error_class=ErrorClass.TIMEOUT) from exc
    except socket.gaierror as exc:
        if exc.errno in (socket.EAI_NONAME, getattr(socket, "EAI_NODATA", -5)):
            raise PermanentError(f"Host not found: {host} ({url})", error_class=ErrorClass.NOT_FOUND) from exc
        raise RetryableError(f"DNS lookup failed for {host}: {exc}", error_class=ErrorClass.NETWORK) from exc
    addresses = list(dict.fromkeys(info[4][0] for info in infos))
    if not addresses:
        raise PermanentError(f"Host not found: {host} ({url})", error_class=ErrorClass.NOT_FOUND)
    for address in addresses:  # any forbidden address refuses the host (mixed answers are an attack pattern)
        check_address(host, address, cfg.allow_private, port)
    ordered = sorted((a.split("%", 1)[0] for a in addresses), key=lambda a: ":" in a)  # IPv4 first
    return _Target(host=host, ip=ordered[0], port=port, scheme=scheme, mapped=False, ips=tuple(ordered))


# ----------------------------------------------------------------------------- politeness


class _Polite:
    """Context manager: take one of the host's slots, then wait for its turn (`pages.politeness`: shared by
    every worker process and machine through Redis or PostgreSQL, in this process's memory on SQLite)."""

    def __init__(self, host: str, cfg: _Config, delay: float, deadline: float, url: str):
        self._slot = politeness.backend().slot(host, limit=cfg.per_host_concurrency, delay=delay,
                                               deadline=deadline, url=url)

    def __enter__(self):
        self._slot.__enter__()
        return self

    def __exit__(self, *exc):
        return self._slot.__exit__(*exc)


# ----------------------------------------------------------------------------- robots.txt

# Parsed robots.txt of this process, keyed by origin and the shared entry's expiry: parsing once per process.
_PARSED: dict[tuple[str, float], Protego] = {}


def _origin(url: str) -> str:
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if ":" in host:
        host = f"[{host}]"
    netloc = host if parts.port is None else f"{host}:{parts.port}"
    return f"{parts.scheme.lower()}://{netloc}"


def _ua_token(user_agent: str) -> str:
    return user_agent.split("/", 1)[0].split()[0]


def robots_for(host_url: str) -> Protego | None:
    """The parsed robots.txt of `host_url`'s origin (cached), or None when there is none (4xx).

    Raises RetryableError when robots.txt is temporarily unavailable (5xx, 429,
    timeout, network): callers must treat the host as disallow-all for now.
    """
    cfg = _config()
    origin = _origin(host_url)
    store = politeness.backend()
    cached = store.robots_get(origin)
    if cached is not None:
        return _from_entry(origin, cached)
    robots_url = origin + "/robots.txt"
    text: str | None = None
    failure: WorkflowError | None = None
    try:
        result = fetch(robots_url, purpose="robots", respect_robots=False, max_bytes=cfg.robots_max_bytes,
                       _truncate=True)  # like Google: rules after the size limit are ignored
        text = result.text
        ttl = cfg.robots_ttl
    except PermanentError as exc:
        status = getattr(exc, "status", None)
        if status is not None and 300 <= status < 500:
            # 4xx: no robots.txt, allow all; a redirect loop or too many hops counts as 404 (Google)
            text, ttl = None, cfg.robots_ttl
        else:
            raise  # SSRF refusal, unknown host, TLS failure: the site itself is unreachable
    except RetryableError as exc:
        status = getattr(exc, "status", None)
        if status is not None and 400 <= status < 500 and status != 429:
            text, ttl = None, cfg.robots_ttl  # 408: treat like other 4xx
        else:
            failure = RetryableError(
                f"robots.txt of {origin} unavailable ({exc.message}); treating the site as disallowed for now",
                error_class=exc.error_class,
                retry_after=exc.retry_after,
            )
            ttl = min(_ROBOTS_FAILURE_TTL, cfg.robots_ttl)
    entry = politeness.RobotsEntry(
        time.time() + ttl, text,
        {"message": failure.message, "error_class": failure.error_class, "retry_after": failure.retry_after}
        if failure is not None else None)
    if ttl > 0:
        store.robots_put(origin, entry)
    return _from_entry(origin, entry)


def _from_entry(origin: str, entry: politeness.RobotsEntry) -> Protego | None:
    if entry.failure is not None:  # a fresh exception per caller (no shared traceback between threads)
        raise RetryableError(entry.failure["message"], error_class=entry.failure["error_class"],
                             retry_after=entry.failure.get("retry_after"))
    if entry.text is None:
        return None
    key = (origin, entry.expires_at)
    parsed = _PARSED.get(key)
    if parsed is None:
        parsed = Protego.parse(entry.text)
        if len(_PARSED) >= _MAX_CACHED_HOSTS:
            _PARSED.clear()
        _PARSED[key] = parsed
    return parsed


def robots_allows(url: str) -> bool:
    """True when robots.txt lets our User-Agent fetch `url` (raises RetryableError if robots.txt is unavailable)."""
    robots = robots_for(url)
    return robots is None or robots.can_fetch(url, _ua_token(_config().user_agent))


def sitemaps_from_robots(host_url: str) -> list[str]:
    """Absolute Sitemap: URLs listed in the robots.txt of `host_url`'s origin ([] when none or unavailable)."""
    try:
        robots = robots_for(host_url)
    except RetryableError:
        return []
    if robots is None:
        return []
    base = _origin(host_url) + "/"
    out: list[str] = []
    for loc in robots.sitemaps:
        absolute = urljoin(base, loc.strip())
        if absolute not in out and urlsplit(absolute).scheme in ("http", "https"):
            out.append(absolute)
    return out


def clear_caches() -> None:
    """Forget cached robots.txt files and per-host slots and pacing (tests, settings changes)."""
    _PARSED.clear()
    politeness.clear()


# ----------------------------------------------------------------------------- fetching


class _BoundedDecoder:
    """Content-Encoding decoder with bounded output per step (gzip/deflate); identity otherwise."""

    def __init__(self, encoding: str):
        encoding = (encoding or "").strip().lower()
        if encoding in ("gzip", "x-gzip"):
            self._obj = zlib.decompressobj(16 + zlib.MAX_WBITS)
        elif encoding == "deflate":
            self._obj = zlib.decompressobj()
            self._deflate_fallback = True
        else:
            self._obj = None
        self._first = True

    def feed(self, data: bytes, limit: int):
        """Yield decoded pieces of at most `limit` bytes each."""
        if self._obj is None:
            yield data
            return
        if self._first and getattr(self, "_deflate_fallback", False) and data:
            self._first = False
            if (data[0] & 0x0F) != 8:  # raw deflate without zlib header
                self._obj = zlib.decompressobj(-zlib.MAX_WBITS)
        chunk = data
        while True:
            out = self._obj.decompress(chunk, max(1, limit))
            if out:
                yield out
            chunk = self._obj.unconsumed_tail
            if not chunk:
                break

    def flush(self) -> bytes:
        return self._obj.flush() if self._obj is not None else b""


def _parse_retry_after(value: str | None) -> float | None:
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when is None:
        return None
    return max(0.0, when.timestamp() - time.time())


def _http_error(exc_type, message: str, *, error_class: str, url: str, status: int, retry_after: float | None = None):
    if exc_type is RetryableError:
        exc = RetryableError(message, error_class=error_class, retry_after=retry_after)
    else:
        exc = PermanentError(message, error_class=error_class)
    exc.status = status
    exc.url = url
    return exc


def _status_error(status: int, url: str, headers: httpx.Headers, peek: bytes) -> WorkflowError:
    retry_after = _parse_retry_after(headers.get("retry-after"))
    if status == 429:
        suffix = f" (Retry-After {retry_after:g}s)" if retry_after is not None else ""
        return _http_error(RetryableError, f"HTTP 429 (rate limited) from {url}{suffix}", error_class=ErrorClass.RATE_LIMITED,
                           url=url, status=status, retry_after=retry_after)
    if status == 503 and retry_after is not None:
        return _http_error(RetryableError, f"HTTP 503 from {url} (Retry-After {retry_after:g}s)",
                           error_class=ErrorClass.RATE_LIMITED, url=url, status=status, retry_after=retry_after)
    if status >= 500:
        return _http_error(RetryableError, f"HTTP {status} from {url}", error_class=ErrorClass.HTTP_5XX,
                           url=url, status=status, retry_after=retry_after)
    if status in (401, 403):
        signature = headers.get("cf-mitigated") or (
            "cloudflare" in headers.get("server", "").lower() and status == 403
        ) or _BOT_BLOCK_PATTERNS.search(peek)
        if signature:
            return _http_error(PermanentError, f"HTTP {status} from {url}: blocked by a bot protection",
                               error_class=ErrorClass.BLOCKED, url=url, status=status)
    if status == 408:
        return _http_error(RetryableError, f"HTTP 408 from {url}", error_class=ErrorClass.HTTP_4XX, url=url, status=status,
                           retry_after=retry_after)
    return _http_error(PermanentError, f"HTTP {status} from {url}", error_class=ErrorClass.HTTP_4XX, url=url, status=status)


def _default_max_bytes(purpose: str, cfg: _Config) -> int:
    if purpose == "sitemap":
        return cfg.sitemap_max_bytes
    if purpose == "robots":
        return cfg.robots_max_bytes
    return cfg.max_bytes


def _wire_url(url: httpx.URL, target: _Target, address: str) -> str:
    ip = f"[{address}]" if ":" in address else address
    path = url.raw_path.decode("ascii") or "/"
    return f"{target.scheme}://{ip}:{target.port}{path}"


def _host_header(url: httpx.URL) -> str:
    host = url.raw_host.decode("ascii")
    if ":" in host:
        host = f"[{host}]"
    default = 443 if url.scheme == "https" else 80
    return host if url.port in (None, default) else f"{host}:{url.port}"


def _strip_fragment(url: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, parts.query, ""))


def fetch(
    url: str,
    *,
    purpose: str = "page",
    max_bytes: int | None = None,
    respect_robots: bool | None = None,
    accept: str | None = None,
    _truncate: bool = False,
) -> FetchResult:
    """GET `url` safely (see the module docstring); raise RetryableError/PermanentError on failure.

    purpose: "page" (robots.txt respected by default), "homepage", "sitemap", "robots".
    max_bytes: body cap; defaults FETCH_MAX_BYTES (page/homepage), SITEMAP_MAX_BYTES, FETCH_ROBOTS_MAX_BYTES.
    """
    cfg = _config()
    started = time.monotonic()
    deadline = started + cfg.total_timeout
    if respect_robots is None:
        respect_robots = purpose == "page"
    limit = max_bytes if max_bytes is not None else _default_max_bytes(purpose, cfg)
    url = _strip_fragment(url.strip())
    try:
        httpx.URL(url)
    except (httpx.InvalidURL, ValueError) as exc:
        raise PermanentError(f"Invalid URL {url!r}: {exc}", error_class=ErrorClass.PARSE) from exc

    chain: list[str] = [url]
    current = url
    client = httpx.Client(
        verify=_ssl_context(),
        follow_redirects=False,
        trust_env=False,  # no proxies from the environment: they would bypass the address pinning
        http2=False,
    )
    try:
        while True:
            delay = cfg.per_host_delay
            if respect_robots:
                robots = robots_for(current)
                if robots is not None:
                    if not robots.can_fetch(current, _ua_token(cfg.user_agent)):
                        raise PermanentError(f"Disallowed by robots.txt: {current}", error_class=ErrorClass.BLOCKED)
                    crawl_delay = robots.crawl_delay(_ua_token(cfg.user_agent))
                    if crawl_delay:
                        delay = max(delay, min(float(crawl_delay), _MAX_CRAWL_DELAY))
            target = resolve_target(current, cfg)
            status, headers, body, location = _one_request(client, current, target, cfg, purpose, accept, limit, deadline,
                                                           delay, _truncate)
            if status in _REDIRECT_STATUSES and location:
                next_url = _redirect_target(current, location, status)
                if next_url in chain:
                    raise _http_error(
                        PermanentError,
                        f"Redirect loop fetching {url}: {' -> '.join(chain + [next_url])}",
                        error_class=ErrorClass.NETWORK, url=url, status=status,
                    )
                if len(chain) > cfg.max_redirects:
                    raise _http_error(
                        PermanentError,
                        f"Too many redirects (more than {cfg.max_redirects}) fetching {url}: {' -> '.join(chain + [next_url])}",
                        error_class=ErrorClass.NETWORK, url=url, status=status,
                    )
                chain.append(next_url)
                current = next_url
                continue
            if status >= 400:
                raise _status_error(status, current, headers, body)
            content_type = headers.get("content-type", "")
            charset = None
            match = re.search(r"charset=[\"']?([A-Za-z0-9_\-]+)", content_type)
            if match:
                charset = match.group(1)
            return FetchResult(
                url=url,
                final_url=current,
                status=status,
                headers={k.lower(): v for k, v in headers.items()},
                content=body,
                content_type=content_type.split(";", 1)[0].strip().lower(),
                encoding=charset,
                redirects=chain[1:],
                elapsed_s=time.monotonic() - started,
            )
    finally:
        client.close()


def _redirect_target(current: str, location: str, status: int) -> str:
    """The absolute URL a Location header points to; an unusable one fails for good (it will not get better)."""
    try:
        next_url = _strip_fragment(urljoin(current, location.strip()))
        parsed = httpx.URL(next_url)
        if parsed.scheme in ("http", "https"):
            if not parsed.host:
                raise ValueError("no host")
            if not _HOST_CHARS.fullmatch(parsed.host):
                raise ValueError(f"invalid host {parsed.host!r}")
            if parsed.port is not None and not 0 < parsed.port < 65536:
                raise ValueError(f"invalid port {parsed.port}")
    except (ValueError, UnicodeError, httpx.InvalidURL) as exc:
        raise _http_error(
            PermanentError, f"Invalid redirect from {current}: Location {location[:200]!r} ({exc})",
            error_class=ErrorClass.BAD_REDIRECT, url=current, status=status,
        ) from exc
    return next_url


def _one_request(client, url, target, cfg, purpose, accept, limit, deadline, delay, truncate=False):
    """One hop: returns (status, headers, body, location). Body is read only for non-redirects."""
    parsed = httpx.URL(url)
    with _Polite(target.host, cfg, delay, deadline, url):
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise RetryableError(f"Timed out after {cfg.total_timeout:g}s fetching {url}", error_class=ErrorClass.TIMEOUT)
        timeout = httpx.Timeout(
            connect=min(cfg.connect_timeout, remaining),
            read=min(cfg.read_timeout, remaining),
            write=min(cfg.read_timeout, remaining),
            pool=min(cfg.connect_timeout, remaining),
        )
        headers = {
            "Host": _host_header(parsed),
            "User-Agent": cfg.user_agent,
            "Accept": accept or _PURPOSE_ACCEPT.get(purpose, "*/*"),
            "Accept-Encoding": "gzip, deflate",
            "Connection": "close",
        }
        extensions = {}
        if target.scheme == "https":
            extensions["sni_hostname"] = target.host
        addresses = list(target.ips or (target.ip,))
        try:
            while True:
                address = addresses.pop(0)
                request = client.build_request("GET", _wire_url(parsed, target, address), headers=headers,
                                               timeout=timeout, extensions=extensions)
                try:
                    response = client.send(request, stream=True)
                    break
                except (httpx.ConnectError, httpx.ConnectTimeout):
                    if not addresses or time.monotonic() >= deadline:
                        raise  # otherwise try the host's next checked address
        except httpx.TimeoutException as exc:
            raise RetryableError(f"Timed out ({type(exc).__name__}) fetching {url}", error_class=ErrorClass.TIMEOUT) from exc
        except httpx.ConnectError as exc:
            text = str(exc)
            if "CERTIFICATE_VERIFY_FAILED" in text or "certificate verify failed" in text:
                raise PermanentError(f"TLS certificate verification failed for {target.host} ({url})",
                                     error_class=ErrorClass.NETWORK) from exc
            raise RetryableError(f"Connection failed to {url}: {text or type(exc).__name__}",
                                 error_class=ErrorClass.NETWORK) from exc
        except httpx.RemoteProtocolError as exc:
            # httpx parses a redirect's Location even when not following it; a broken one will not heal.
            if "location header" in str(exc).lower():
                raise _http_error(PermanentError, f"Invalid redirect from {url}: {exc}",
                                  error_class=ErrorClass.BAD_REDIRECT, url=url, status=0) from exc
            raise RetryableError(f"Network error fetching {url}: {exc or type(exc).__name__}",
                                 error_class=ErrorClass.NETWORK) from exc
        except httpx.HTTPError as exc:
            raise RetryableError(f"Network error fetching {url}: {exc or type(exc).__name__}",
                                 error_class=ErrorClass.NETWORK) from exc
        try:
            status = response.status_code
            if status in _REDIRECT_STATUSES and response.headers.get("location"):
                return status, response.headers, b"", response.headers["location"]
            cap = limit if status < 400 else min(limit, _ERROR_BODY_PEEK)
            body = _read_capped(response, url, cap, deadline, cfg, truncate=truncate or status >= 400)
            return status, response.headers, body, None
        finally:
            response.close()


def _read_capped(response: httpx.Response, url: str, limit: int, deadline: float, cfg: _Config, truncate: bool) -> bytes:
    declared = response.headers.get("content-length")
    encoding = response.headers.get("content-encoding", "")
    if not truncate and declared and declared.isdigit() and not encoding and int(declared) > limit:
        raise _http_error(PermanentError,
                          f"Response too large from {url}: Content-Length {int(declared)} bytes exceeds the {limit}-byte limit",
                          error_class=ErrorClass.TOO_LARGE, url=url, status=response.status_code)
    decoder = _BoundedDecoder(encoding)
    parts: list[bytes] = []
    total = 0
    try:
        for raw in response.iter_raw():  # as the network delivers (<= 64 KiB per read); no buffering
            for piece in decoder.feed(raw, _CHUNK):
                total += len(piece)
                if total > limit:
                    if truncate:
                        parts.append(piece[: len(piece) - (total - limit)])
                        return b"".join(parts)
                    raise _http_error(PermanentError,
                                      f"Response too large from {url}: more than {limit} bytes (stopped reading)",
                                      error_class=ErrorClass.TOO_LARGE, url=url, status=response.status_code)
                parts.append(piece)
            if time.monotonic() > deadline:
                raise RetryableError(
                    f"Timed out after {cfg.total_timeout:g}s reading {url} ({total} bytes received)",
                    error_class=ErrorClass.TIMEOUT,
                )
        tail = decoder.flush()
        if tail:
            total += len(tail)
            if total > limit and not truncate:
                raise _http_error(PermanentError, f"Response too large from {url}: more than {limit} bytes",
                                  error_class=ErrorClass.TOO_LARGE, url=url, status=response.status_code)
            parts.append(tail)
    except httpx.TimeoutException as exc:
        raise RetryableError(f"Timed out reading {url} after {total} bytes", error_class=ErrorClass.TIMEOUT) from exc
    except zlib.error as exc:
        raise PermanentError(f"Corrupt {encoding} encoding from {url}: {exc}", error_class=ErrorClass.PARSE) from exc
    except httpx.HTTPError as exc:
        raise RetryableError(f"Network error reading {url}: {exc or type(exc).__name__}", error_class=ErrorClass.NETWORK) from exc
    return b"".join(parts)
