"""The declarations of WF4, WF5 and WF7 (README "Adding a workflow").

All three hooks are I/O-bound (HTTP through pages.fetch), so they run on
several threads; the fetcher's per-host gate keeps each site at
FETCH_PER_HOST_CONCURRENCY requests at a time whatever the thread count.
Leases exceed the production worker timeout (Q_CLUSTER timeout 240 s) and the
engine's heartbeat extends them while a hook runs; each run stops starting
rows after its time budget (45 s), and one hook is itself bounded
(SITEMAP_TIME_BUDGET_S = 60 s for fetching and parsing a domain's sitemaps,
plus the database writes; FETCH_TOTAL_TIMEOUT = 30 s per request), so a run
ends well before the worker timeout even on SQLite, where rows run one at a time.
"""
from curation.registry import register
from curation.workflow import Workflow

sitemap_discovery = register(Workflow(
    name="sitemap_discovery",
    model="pages.Domain",
    hook="pages.services.domain_sitemaps_discover",
    label="Sitemap discovery",
    batch_size=8,
    concurrency=4,
    lease_seconds=300,
    max_attempts=4,
    backoff_base_seconds=60,
    backoff_cap_seconds=6 * 3600,
    time_budget_seconds=45,
    description="robots.txt Sitemap: lines, homepage links, well-known paths → SitemapFile rows "
                "(no sitemap: the homepage's links become pages).",
))

sitemap_import = register(Workflow(
    name="sitemap_import",
    model="pages.SitemapFile",
    hook="pages.services.sitemap_file_import",
    label="Sitemap import",
    batch_size=4,
    concurrency=4,
    lease_seconds=300,
    max_attempts=4,
    backoff_base_seconds=60,
    backoff_cap_seconds=6 * 3600,
    time_budget_seconds=45,
    description="Fetch and stream-parse a sitemap (and an index's children, bounded) → Page rows, categorised, "
                "contact-like pages suggested.",
))

page_scrape = register(Workflow(
    name="page_scrape",
    model="pages.Page",
    hook="pages.services.page_scrape",
    label="Page scrape",
    batch_size=50,
    concurrency=8,
    lease_seconds=300,
    max_attempts=4,
    backoff_base_seconds=60,
    backoff_cap_seconds=6 * 3600,
    time_budget_seconds=45,
    description="Polite fetch (robots.txt, per-host limits, size cap) → PageContent with metadata, then contacts.",
))
