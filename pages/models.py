"""Models of the pages app: WF4 (`sitemap_discovery`), WF5 (`sitemap_import`), WF7 (`page_scrape`).

- `Domain` is the input of WF4: one row per registrable domain (or per
  site-builder host such as ``name.wixsite.com``), created by WF3
  (`domain_extraction`) from the businesses' websites, or submitted directly
  (API, CSV). One domain links to many businesses
  (`places.LocalBusiness.domain`).
- `SitemapFile`: a sitemap found by discovery (or listed by an index),
  unique on (domain, url); the input of WF5.
- `Page`: a page URL of a domain, unique on (domain, normalised url), from a
  sitemap import or the no-sitemap fallback crawl; categorised and flagged
  `suggested` when it likely carries contacts; the input of WF7.
- `PageContent`: what WF7 fetched (one per page, replaced on re-scrape):
  the HTML kept for re-extraction and the extracted metadata; the input of
  the processing-only `contact_extraction` workflow (declared by the contacts
  app, which parses the stored HTML once for the metadata and the contacts),
  queued whenever page_scrape stores (or replaces) the content.

Upserts on the natural keys only ever update facts: a re-run never resets a
row's own curation or processing status (original defects B-6, B-12).
"""
from django.db import models
from django.db.models import Q

from curation.fields import BaseModel, workflow_constraints, workflow_fields, workflow_indexes


class DomainSource(models.TextChoices):
    DOMAIN_EXTRACTION = "domain_extraction", "Domain extraction (from a business's website)"
    DIRECT = "direct", "Direct submission"
    CSV = "csv", "CSV import"


class DomainKind(models.TextChoices):
    OWN_SITE = "own_site", "Own site (registrable domain)"
    SITE_BUILDER = "site_builder", "Site-builder subdomain (whole host)"


class Domain(workflow_fields("sitemap_discovery"), BaseModel):
    # The key: a registrable domain ("example.co.uk"), or the full host of a
    # site-builder subdomain ("joes-pizza.wixsite.com"); always places.domains.domain_key().
    domain = models.CharField(max_length=253, unique=True)
    kind = models.CharField(max_length=20, choices=DomainKind.choices, default=DomainKind.OWN_SITE)
    source = models.CharField(max_length=20, choices=DomainSource.choices, default=DomainSource.DOMAIN_EXTRACTION,
                              db_index=True)
    # Homepage metadata (filled by the pages workflows; the URL is first the business's cleaned website).
    homepage_url = models.URLField(max_length=2000, null=True, blank=True)
    title = models.CharField(max_length=500, null=True, blank=True)
    meta_description = models.TextField(null=True, blank=True)
    language = models.CharField(max_length=35, null=True, blank=True)
    last_fetched_at = models.DateTimeField(null=True, blank=True)
    # Written by sitemap_discovery (facts only; the workflow statuses are the engine's).
    has_sitemap = models.BooleanField(null=True, blank=True, db_index=True,
                                      help_text="Empty until discovery ran; No: the fallback crawl gave the pages.")
    sitemap_count = models.PositiveIntegerField(default=0, help_text="Valid sitemap files found by discovery.")
    discovery_note = models.TextField(blank=True, default="",
                                      help_text="What discovery found, or why there is no sitemap.")
    discovered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["domain"]
        indexes = workflow_indexes("sitemap_discovery")
        constraints = [
            *workflow_constraints("sitemap_discovery"),
            models.CheckConstraint(condition=~models.Q(domain=""), name="domain_not_empty"),
        ]

    def __str__(self) -> str:
        return self.domain


# --- WF5 input: sitemap files ---------------------------------------------------------------


class SitemapType(models.TextChoices):
    URLSET = "urlset", "XML urlset"
    INDEX = "index", "Sitemap index"
    TEXT = "text", "Text (one URL per line)"
    RSS = "rss", "RSS feed"
    ATOM = "atom", "Atom feed"


class DiscoveredHow(models.TextChoices):
    ROBOTS = "robots", "robots.txt Sitemap: line"
    WELL_KNOWN = "well_known", "Well-known path"
    HOMEPAGE_LINK = "homepage_link", "Homepage link"
    SITEMAP_INDEX = "sitemap_index", "Listed by a sitemap index"
    SUBMITTED = "submitted", "Submitted directly (API, CSV)"


class SitemapFile(workflow_fields("sitemap_import"), BaseModel):
    """A sitemap file of a domain, unique on (domain, url); selecting it imports its URLs as pages."""

    domain = models.ForeignKey(Domain, on_delete=models.CASCADE, related_name="sitemap_files")
    url = models.URLField(max_length=2000)
    sitemap_type = models.CharField("type", max_length=10, choices=SitemapType.choices, blank=True, default="",
                                    db_index=True, help_text="Empty until the file was read successfully.")
    discovered_how = models.CharField(max_length=20, choices=DiscoveredHow.choices, db_index=True)
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="children",
                               help_text="The sitemap index that lists this file.")
    depth = models.PositiveSmallIntegerField(default=0, help_text="0 = found directly; n = n indexes down.")
    url_count = models.PositiveIntegerField(null=True, blank=True,
                                            help_text="URLs (or child sitemaps of an index) read from the file.")
    size_bytes = models.PositiveBigIntegerField(null=True, blank=True, help_text="Bytes on the wire.")
    decompressed_bytes = models.PositiveBigIntegerField(null=True, blank=True)
    is_gzip = models.BooleanField("gzip", default=False)
    truncated = models.BooleanField(default=False, help_text="A URL, size or time limit cut the file short.")
    last_modified = models.DateTimeField(null=True, blank=True, help_text="The server's Last-Modified header.")
    fetched_at = models.DateTimeField(null=True, blank=True)
    fetch_error = models.TextField(blank=True, default="",
                                   help_text="Why the file could not be read the last time it was fetched.")
    warnings = models.JSONField(default=list, blank=True)
    pages_imported = models.PositiveIntegerField(null=True, blank=True, help_text="Pages upserted by the last import.")
    pages_new = models.PositiveIntegerField(null=True, blank=True, help_text="Of those, new pages.")
    import_note = models.TextField(blank=True, default="")

    class Meta:
        verbose_name = "sitemap file"
        ordering = ["domain__domain", "depth", "url"]
        indexes = workflow_indexes("sitemap_import")
        constraints = [
            *workflow_constraints("sitemap_import"),
            models.UniqueConstraint(fields=["domain", "url"], name="sitemap_file_domain_url_unique"),
        ]

    def __str__(self) -> str:
        return self.url


# --- WF7 input: pages --------------------------------------------------------------------------


class PageSource(models.TextChoices):
    SITEMAP = "sitemap", "Sitemap import"
    HOMEPAGE_LINKS = "homepage_links", "Homepage links (no sitemap)"
    SUBMITTED = "submitted", "Submitted directly (API, CSV)"


PAGE_CATEGORIES = [(c, c.replace("_", " ").capitalize()) for c in (
    "contact", "impressum", "about", "team", "locations", "careers", "legal", "services", "product", "blog", "home",
    "other",
)]


class Page(workflow_fields("page_scrape"), BaseModel):
    """A page URL of a domain, unique on (domain, normalised url) (pages.sitemaps.normalize_page_url)."""

    domain = models.ForeignKey(Domain, on_delete=models.CASCADE, related_name="pages")
    url = models.URLField(max_length=2048, help_text="Normalised: the uniqueness key within the domain.")
    sitemap_file = models.ForeignKey(SitemapFile, null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="pages", help_text="The sitemap that listed it last.")
    source = models.CharField(max_length=20, choices=PageSource.choices, default=PageSource.SITEMAP, db_index=True)
    lastmod = models.DateTimeField(null=True, blank=True)
    changefreq = models.CharField(max_length=10, blank=True, default="")
    priority = models.FloatField("sitemap priority", null=True, blank=True)
    alternates = models.JSONField(default=list, blank=True, help_text="hreflang alternates listed by the sitemap.")
    category = models.CharField(max_length=20, choices=PAGE_CATEGORIES, default="other", db_index=True)
    confidence = models.FloatField(default=0.0)
    scrape_priority = models.PositiveSmallIntegerField(
        default=3, help_text="1 = contact/impressum, 2 = other suggested pages, 3 = the rest.")
    path_depth = models.PositiveSmallIntegerField(default=0)
    suggested = models.BooleanField(default=False, db_index=True,
                                    help_text="Likely carries contacts (contact, impressum, about, team, locations).")

    class Meta:
        ordering = ["domain__domain", "scrape_priority", "path_depth", "url"]
        indexes = [
            *workflow_indexes("page_scrape"),
            models.Index(fields=["domain", "suggested"], name="page_domain_suggested_idx"),
            models.Index(fields=["domain", "category"], name="page_domain_category_idx"),
        ]
        constraints = [
            *workflow_constraints("page_scrape"),
            models.UniqueConstraint(fields=["domain", "url"], name="page_domain_url_unique"),
            models.CheckConstraint(condition=Q(confidence__gte=0) & Q(confidence__lte=1),
                                   name="page_confidence_range"),
        ]

    def __str__(self) -> str:
        return self.url


class PageContent(workflow_fields("contact_extraction", curation=False), BaseModel):
    """What page_scrape fetched for a page (replaced on every scrape): the HTML for re-extraction and its metadata.

    The input of `contact_extraction` (processing-only, contacts/workflows.py): page_scrape queues it when it
    stores the content; its hook parses the HTML once and writes the metadata below and the contacts.
    """

    page = models.OneToOneField(Page, on_delete=models.CASCADE, related_name="content")
    final_url = models.URLField(max_length=2048, help_text="After redirects.")
    redirects = models.JSONField(default=list, blank=True)
    status_code = models.PositiveSmallIntegerField()
    content_type = models.CharField(max_length=100, blank=True, default="")
    content_hash = models.CharField(max_length=64, db_index=True, help_text="SHA-256 of the body as received.")
    size_bytes = models.PositiveIntegerField(default=0)
    fetched_at = models.DateTimeField()
    elapsed_ms = models.PositiveIntegerField(null=True, blank=True)
    html = models.TextField(blank=True, default="", help_text="The decoded body (capped by FETCH_MAX_BYTES).")
    title = models.CharField(max_length=1000, blank=True, default="")
    meta_description = models.TextField(blank=True, default="")
    h1 = models.CharField("h1", max_length=1000, blank=True, default="")
    canonical_url = models.URLField(max_length=2048, blank=True, default="")
    language = models.CharField(max_length=35, blank=True, default="")
    word_count = models.PositiveIntegerField(default=0)
    social_links = models.JSONField(default=list, blank=True, help_text="Outbound links to social networks.")

    class Meta:
        verbose_name = "page content"
        verbose_name_plural = "page contents"
        ordering = ["-fetched_at"]
        indexes = workflow_indexes("contact_extraction")
        constraints = workflow_constraints("contact_extraction")

    def __str__(self) -> str:
        return self.title or self.final_url


class HostPoliteness(models.Model):
    """Per-host state shared by every worker process (pages.politeness, PostgreSQL backend): when the next
    request to a host may start, and the cached robots.txt of an origin (rows keyed "robots:<origin>")."""

    host = models.CharField(max_length=300, primary_key=True)
    next_start = models.FloatField(default=0.0, help_text="Unix time the next request to this host may start.")
    robots_expires_at = models.FloatField(null=True, blank=True, help_text="Unix time the cached robots.txt expires.")
    robots_text = models.TextField(null=True, blank=True, help_text="None: no robots.txt (allow all).")
    robots_failure = models.JSONField(null=True, blank=True, help_text="A temporary failure to fetch robots.txt.")

    class Meta:
        verbose_name = "host politeness state"
        verbose_name_plural = "host politeness state"

    def __str__(self) -> str:
        return self.host
