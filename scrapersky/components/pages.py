"""Settings of the pages app (read from the environment; documented in .env.example).

Star-imported at the end of scrapersky/settings.py: only UPPER_CASE names are
public here; helpers and imports carry a leading underscore.

Sandbox rule: when the sandbox is enabled (env SANDBOX not "0" and
GOOGLE_MAPS_API_KEY empty), every website host is routed to the bundled
website sandbox (FETCH_HOST_MAP = {"*": "127.0.0.1:<SANDBOX_WEBSITES_PORT>"})
and loopback is allowed by the SSRF guard (FETCH_ALLOW_PRIVATE includes
127.0.0.0/8 and ::1), so the whole pipeline runs offline. With a real API key
the host map is empty and private addresses are refused.
"""
import os as _os


def _env(name, default):
    value = _os.environ.get(name)
    return default if value is None or value == "" else value


def _env_int(name, default):
    return int(_env(name, default))


def _env_float(name, default):
    return float(_env(name, default))


def _env_list(name, default):
    value = _os.environ.get(name)
    if value is None or value == "":
        return list(default)
    return [item.strip() for item in value.split(",") if item.strip()]


def _env_map(name, default):
    # "host=127.0.0.1:8102,*.test=127.0.0.1:8102" -> {"host": "127.0.0.1:8102", ...}
    value = _os.environ.get(name)
    if value is None or value == "":
        return dict(default)
    result = {}
    for item in value.split(","):
        if "=" in item:
            key, _, target = item.partition("=")
            result[key.strip().lower()] = target.strip()
    return result


_SANDBOX_ENABLED = _env("SANDBOX", "1") != "0" and not _os.environ.get("GOOGLE_MAPS_API_KEY", "")

# Port the website sandbox (scrapersky/sandbox/websites.py) listens on.
SANDBOX_WEBSITES_PORT = _env_int("SANDBOX_WEBSITES_PORT", 8102)
# Honest User-Agent sent with every request; its first token is matched against robots.txt groups.
FETCH_USER_AGENT = _env("FETCH_USER_AGENT", "ScraperSkyBot/1.0 (+https://scrapersky.example/bot)")
# Seconds to establish a TCP/TLS connection.
FETCH_CONNECT_TIMEOUT = _env_float("FETCH_CONNECT_TIMEOUT", 5)
# Seconds any single socket read may wait (also the wait for response headers).
FETCH_READ_TIMEOUT = _env_float("FETCH_READ_TIMEOUT", 15)
# Seconds for a whole fetch, redirects and body streaming included.
FETCH_TOTAL_TIMEOUT = _env_float("FETCH_TOTAL_TIMEOUT", 30)
# Byte cap of a page/homepage response body (decoded); reading stops as soon as it is exceeded.
FETCH_MAX_BYTES = _env_int("FETCH_MAX_BYTES", 5 * 1024 * 1024)
# Byte cap of a robots.txt body (Google reads the first 500 KiB).
FETCH_ROBOTS_MAX_BYTES = _env_int("FETCH_ROBOTS_MAX_BYTES", 500 * 1024)
# Redirect hops followed (each re-checked for scheme and SSRF) before giving up.
FETCH_MAX_REDIRECTS = _env_int("FETCH_MAX_REDIRECTS", 5)
# CIDRs the SSRF guard lets through although private/loopback (sandbox: loopback).
FETCH_ALLOW_PRIVATE = _env_list("FETCH_ALLOW_PRIVATE", ["127.0.0.0/8", "::1/128"] if _SANDBOX_ENABLED else [])
# Host name -> "ip:port" routing without DNS ("*.suffix" and "*" patterns; https becomes plain http).
FETCH_HOST_MAP = _env_map("FETCH_HOST_MAP", {"*": f"127.0.0.1:{SANDBOX_WEBSITES_PORT}"} if _SANDBOX_ENABLED else {})
# Where the per-host limits and the robots.txt cache live: "auto" (Redis when REDIS_URL is set, else the database
# on PostgreSQL, else this process's memory), "redis", "database" or "local" (pages/politeness.py).
FETCH_POLITENESS_BACKEND = _env("FETCH_POLITENESS_BACKEND", "auto")
# Simultaneous requests per host name, across all worker processes and machines (see FETCH_POLITENESS_BACKEND).
FETCH_PER_HOST_CONCURRENCY = _env_int("FETCH_PER_HOST_CONCURRENCY", 2)
# Minimum seconds between the starts of two requests to the same host (0.5 by default, 0 against the sandbox).
FETCH_PER_HOST_DELAY = _env_float("FETCH_PER_HOST_DELAY", 0.0 if _SANDBOX_ENABLED else 0.5)
# Seconds a host's robots.txt stays cached.
FETCH_ROBOTS_TTL = _env_int("FETCH_ROBOTS_TTL", 3600)
# Byte cap of a downloaded sitemap file (compressed size on the wire).
SITEMAP_MAX_BYTES = _env_int("SITEMAP_MAX_BYTES", 50 * 1024 * 1024)
# Byte cap after gunzip; a gzip bomb stops here.
SITEMAP_MAX_DECOMPRESSED_BYTES = _env_int("SITEMAP_MAX_DECOMPRESSED_BYTES", 200 * 1024 * 1024)
# URLs (or child sitemaps) read from one sitemap file; the rest is truncated with a warning.
SITEMAP_MAX_URLS_PER_FILE = _env_int("SITEMAP_MAX_URLS_PER_FILE", 50_000)
# URLs imported per domain over all its sitemap files.
SITEMAP_MAX_URLS_PER_DOMAIN = _env_int("SITEMAP_MAX_URLS_PER_DOMAIN", 100_000)
# Nesting depth of sitemap indexes followed (0 = the file itself only).
SITEMAP_MAX_DEPTH = _env_int("SITEMAP_MAX_DEPTH", 3)
# Seconds one discovery or import run may spend on a domain's sitemaps.
SITEMAP_TIME_BUDGET_S = _env_float("SITEMAP_TIME_BUDGET_S", 60)
# Pages taken from the homepage's links when a domain has no sitemap (fallback crawl).
DISCOVERY_FALLBACK_MAX_PAGES = _env_int("DISCOVERY_FALLBACK_MAX_PAGES", 20)
