"""Settings of the pages app (read from the environment; documented in .env.example).

Star-imported at the end of scrapersky/settings.py: only UPPER_CASE names are
public here; helpers and imports carry a leading underscore.

Sandbox rule (scrapersky/components/sandbox.py decides): when the sandbox is
on, every website host is routed to the bundled website sandbox
(FETCH_HOST_MAP = {"*": "127.0.0.1:<SANDBOX_WEBSITES_PORT>"}) and the SSRF
guard lets through that one address and port (not the rest of loopback: a
sandbox page redirecting to the app's own admin is refused). When it is off
the host map is empty, nothing private is allowed, and setting FETCH_HOST_MAP
or a loopback FETCH_ALLOW_PRIVATE stops start-up: only the sandbox may route
the fetcher to this machine.
"""
from ipaddress import ip_network as _ip_network

from django.core.exceptions import ImproperlyConfigured as _ImproperlyConfigured

from scrapersky.components.sandbox import SANDBOX_ENABLED as _SANDBOX
from scrapersky.components.sandbox import SANDBOX_WEBSITES_PORT as _WEBSITES_PORT
from scrapersky.env import env as _env
from scrapersky.env import parse_network as _parse_network

# Honest User-Agent sent with every request; its first token is matched against robots.txt groups.
FETCH_USER_AGENT = _env.str("FETCH_USER_AGENT", "ScraperSkyBot/1.0 (+https://scrapersky.example/bot)")
# Seconds to establish a TCP/TLS connection.
FETCH_CONNECT_TIMEOUT = _env.float("FETCH_CONNECT_TIMEOUT", 5, minimum=0.1)
# Seconds any single socket read may wait (also the wait for response headers).
FETCH_READ_TIMEOUT = _env.float("FETCH_READ_TIMEOUT", 15, minimum=0.1)
# Seconds for a whole fetch, redirects and body streaming included.
FETCH_TOTAL_TIMEOUT = _env.float("FETCH_TOTAL_TIMEOUT", 30, minimum=0.1)
# Byte cap of a page/homepage response body (decoded); reading stops as soon as it is exceeded.
FETCH_MAX_BYTES = _env.int("FETCH_MAX_BYTES", 5 * 1024 * 1024, minimum=1)
# Byte cap of a robots.txt body (Google reads the first 500 KiB).
FETCH_ROBOTS_MAX_BYTES = _env.int("FETCH_ROBOTS_MAX_BYTES", 500 * 1024, minimum=1)
# Redirect hops followed (each re-checked for scheme and SSRF) before giving up.
FETCH_MAX_REDIRECTS = _env.int("FETCH_MAX_REDIRECTS", 5, minimum=0)
# Addresses the SSRF guard lets through although private/loopback: CIDRs, each optionally with ":port"
# ("[v6]:port"). Sandbox: the website sandbox's own address and port only.
FETCH_ALLOW_PRIVATE = _env.networks("FETCH_ALLOW_PRIVATE", [f"127.0.0.1:{_WEBSITES_PORT}"] if _SANDBOX else [])
# Host name -> "ip:port" routing without DNS ("*.suffix" and "*" patterns; https becomes plain http).
FETCH_HOST_MAP = _env.host_map("FETCH_HOST_MAP", {"*": f"127.0.0.1:{_WEBSITES_PORT}"} if _SANDBOX else {})
if not _SANDBOX:
    if FETCH_HOST_MAP:
        raise _ImproperlyConfigured("FETCH_HOST_MAP routes websites without DNS and is for the sandbox only; "
                                    "it must be empty when the sandbox is off (SANDBOX=0 or a Google key set).")
    _LOOPBACK = [_ip_network(n) for n in ("127.0.0.0/8", "::1/128", "::ffff:127.0.0.0/104")]
    _loopback = [item for item in FETCH_ALLOW_PRIVATE
                 if any(_net.version == _parsed.version and _net.overlaps(_parsed) for _net in _LOOPBACK
                        for _parsed in [_parse_network(item)[0]])]
    if _loopback:
        raise _ImproperlyConfigured(f"FETCH_ALLOW_PRIVATE may not include loopback ({', '.join(_loopback)}) when "
                                    "the sandbox is off: it would open this machine's own services to the fetcher.")
# Where the per-host limits and the robots.txt cache live: "auto" (Redis when REDIS_URL is set, else the database
# on PostgreSQL, else this process's memory), "redis", "database" or "local" (pages/politeness.py).
FETCH_POLITENESS_BACKEND = _env.choice("FETCH_POLITENESS_BACKEND", "auto", ("auto", "redis", "database", "local"))
# Simultaneous requests per host name, across all worker processes and machines (see FETCH_POLITENESS_BACKEND).
FETCH_PER_HOST_CONCURRENCY = _env.int("FETCH_PER_HOST_CONCURRENCY", 2, minimum=1)
# Minimum seconds between the starts of two requests to the same host (0.5 by default, 0 against the sandbox).
FETCH_PER_HOST_DELAY = _env.float("FETCH_PER_HOST_DELAY", 0.0 if _SANDBOX else 0.5, minimum=0)
# Seconds a host's robots.txt stays cached.
FETCH_ROBOTS_TTL = _env.int("FETCH_ROBOTS_TTL", 3600, minimum=0)
# Byte cap of a downloaded sitemap file (compressed size on the wire).
SITEMAP_MAX_BYTES = _env.int("SITEMAP_MAX_BYTES", 50 * 1024 * 1024, minimum=1)
# Byte cap after gunzip; a gzip bomb stops here.
SITEMAP_MAX_DECOMPRESSED_BYTES = _env.int("SITEMAP_MAX_DECOMPRESSED_BYTES", 200 * 1024 * 1024, minimum=1)
# URLs (or child sitemaps) read from one sitemap file; the rest is truncated with a warning.
SITEMAP_MAX_URLS_PER_FILE = _env.int("SITEMAP_MAX_URLS_PER_FILE", 50_000, minimum=1)
# URLs imported per domain over all its sitemap files.
SITEMAP_MAX_URLS_PER_DOMAIN = _env.int("SITEMAP_MAX_URLS_PER_DOMAIN", 100_000, minimum=1)
# Nesting depth of sitemap indexes followed (0 = the file itself only).
SITEMAP_MAX_DEPTH = _env.int("SITEMAP_MAX_DEPTH", 3, minimum=0)
# Seconds one discovery or import run may spend on a domain's sitemaps.
SITEMAP_TIME_BUDGET_S = _env.float("SITEMAP_TIME_BUDGET_S", 60, minimum=0.1)
# Pages taken from the homepage's links when a domain has no sitemap (fallback crawl).
DISCOVERY_FALLBACK_MAX_PAGES = _env.int("DISCOVERY_FALLBACK_MAX_PAGES", 20, minimum=0)
