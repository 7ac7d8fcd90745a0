"""Models of the places app: WF1 (`place_search`), WF2 (`deep_scan`), WF3 (`domain_extraction`).

- `PlaceSearch`: one Google Text Search; processing-only workflow `place_search`
  (queued on creation by `places.services.place_search_create`).
- `Place`: the staging table of the seeds, deduplicated on Google's `place_id`
  across searches, with provenance (`PlaceSearchResult`: every search that found
  it, at which rank); workflow `deep_scan`.
- `LocalBusiness`: the deep-scan result, upserted on `place_id`; workflow
  `domain_extraction`, which links it to a `pages.Domain`.
- `PlaceSearchTile`: one rectangle of an area search (the coverage planner,
  places/coverage.py): its state, results and requests, for progress and resuming.
- `GooglePlacesUsage`: Places HTTP requests and their list price per UTC day
  (the daily budgets, places/budget.py).
"""
from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q

from curation.fields import BaseModel, workflow_constraints, workflow_fields, workflow_indexes
from places.google import MAX_BIAS_RADIUS_M, MAX_SEARCH_RESULTS


class BusinessStatus(models.TextChoices):
    OPERATIONAL = "OPERATIONAL", "Operational"
    CLOSED_TEMPORARILY = "CLOSED_TEMPORARILY", "Closed temporarily"
    CLOSED_PERMANENTLY = "CLOSED_PERMANENTLY", "Closed permanently"


class WebsiteKind(models.TextChoices):
    """What `domain_extraction` found behind a business's website (places.domains kinds + two outcomes)."""

    OWN_SITE = "own_site", "Own site"
    SOCIAL_PROFILE = "social_profile", "Social profile"
    DIRECTORY = "directory", "Directory or marketplace"
    LINK_SHORTENER = "link_shortener", "Link shortener or link-in-bio"
    SITE_BUILDER = "site_builder", "Site-builder subdomain"
    NONE = "none", "No website"
    INVALID = "invalid", "Not a website URL"


class PlaceSearch(workflow_fields("place_search", curation=False), BaseModel):
    """A Google Places Text Search: "<query> in <location_text>", optionally biased to a circle.

    With `cover_area` it is an area search instead: the coverage planner tiles
    the area (a named place geocoded once, a bounding box, or the circle) with
    `locationRestriction` rectangles and searches each, to get past Google's
    60-result ceiling.
    """

    query = models.CharField("business type", max_length=200, help_text='What to search for, e.g. "dentist".')
    location_text = models.CharField("location", max_length=255, blank=True,
                                     help_text='Where, as text: "Austin, TX". Appended as "<query> in <location>".')
    latitude = models.FloatField(null=True, blank=True, validators=[MinValueValidator(-90), MaxValueValidator(90)])
    longitude = models.FloatField(null=True, blank=True,
                                  validators=[MinValueValidator(-180), MaxValueValidator(180)])
    radius_m = models.PositiveIntegerField(
        "radius (m)", null=True, blank=True, validators=[MaxValueValidator(int(MAX_BIAS_RADIUS_M))],
        help_text="Keeps results within this distance of latitude/longitude (at most 50 000 m).")
    language = models.CharField(max_length=10, blank=True, default="",
                                help_text="languageCode, e.g. en, de; empty = the GOOGLE_PLACES_LANGUAGE setting.")
    region = models.CharField(max_length=10, blank=True, default="",
                              help_text="regionCode (two letters), e.g. us; empty = the GOOGLE_PLACES_REGION setting.")
    max_results = models.PositiveSmallIntegerField(
        default=MAX_SEARCH_RESULTS, validators=[MinValueValidator(1), MaxValueValidator(MAX_SEARCH_RESULTS)],
        help_text="At most 60 (Google's ceiling over all pages).")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="place_searches")
    # --- area search (coverage planner) ---
    cover_area = models.BooleanField(
        "cover the whole area", default=False,
        help_text="Tile the area and search every tile (past the 60-result ceiling) instead of one search.")
    area_text = models.CharField("area name", max_length=255, blank=True, default="",
                                 help_text='A city or region looked up once through Places, e.g. "Austin, TX".')
    south = models.FloatField(null=True, blank=True, validators=[MinValueValidator(-90), MaxValueValidator(90)])
    west = models.FloatField(null=True, blank=True, validators=[MinValueValidator(-180), MaxValueValidator(180)])
    north = models.FloatField(null=True, blank=True, validators=[MinValueValidator(-90), MaxValueValidator(90)])
    east = models.FloatField(null=True, blank=True, validators=[MinValueValidator(-180), MaxValueValidator(180)])
    min_tile_m = models.PositiveIntegerField(
        "smallest tile (m)", default=250, validators=[MinValueValidator(50)],
        help_text="A tile still full (60 results) at this size is kept as is and reported as saturated.")
    max_requests = models.PositiveIntegerField(
        "request budget", null=True, blank=True, validators=[MinValueValidator(1)],
        help_text="Stop after this many Places requests (empty: no limit but the daily budgets).")
    max_cost_usd = models.DecimalField(
        "money budget (USD)", max_digits=10, decimal_places=2, null=True, blank=True,
        validators=[MinValueValidator(0)], help_text="Stop before the requests' list price exceeds this.")
    area_resolved = models.CharField("area found", max_length=500, blank=True, default="",
                                     help_text="What Google returned for the area name.")
    # Filled when the search has run (None before).
    results_found = models.PositiveIntegerField("found", null=True, blank=True)
    results_new = models.PositiveIntegerField("new", null=True, blank=True)
    results_known = models.PositiveIntegerField("already known", null=True, blank=True)
    # Searches started together by the original UI's batch search (POST /api/v3/places/batch-search) share it.
    batch_id = models.UUIDField(null=True, blank=True, db_index=True)
    # Coverage and cost, updated as the search runs.
    tiles_total = models.PositiveIntegerField("tiles", default=0)
    tiles_done = models.PositiveIntegerField("tiles done", default=0)
    tiles_saturated = models.PositiveIntegerField(
        "tiles saturated", default=0, help_text="Tiles that returned 60 results at the smallest size: may miss places.")
    requests_used = models.PositiveIntegerField("requests", default=0)
    cost_micros = models.BigIntegerField("cost (µ$)", default=0, help_text="List price of the requests, micro-dollars.")
    note = models.TextField(blank=True, default="",
                            help_text='How the search ended when not simply complete ("partial: page 2 failed (…)").')

    class Meta:
        verbose_name = "place search"
        verbose_name_plural = "place searches"
        ordering = ["-created_at"]
        indexes = workflow_indexes("place_search")
        constraints = [
            *workflow_constraints("place_search"),
            models.CheckConstraint(condition=Q(max_results__gte=1, max_results__lte=MAX_SEARCH_RESULTS),
                                   name="place_search_max_results_range"),
            models.CheckConstraint(condition=Q(latitude__isnull=True, longitude__isnull=True)
                                   | Q(latitude__isnull=False, longitude__isnull=False),
                                   name="place_search_lat_lng_together"),
            models.CheckConstraint(condition=Q(radius_m__isnull=True) | Q(latitude__isnull=False),
                                   name="place_search_radius_needs_center"),
            models.CheckConstraint(condition=Q(south__isnull=True, west__isnull=True, north__isnull=True,
                                               east__isnull=True)
                                   | Q(south__isnull=False, west__isnull=False, north__isnull=False,
                                       east__isnull=False, south__lte=F("north")),
                                   name="place_search_bbox_complete"),
        ]

    def __str__(self) -> str:
        if self.cover_area:
            where = self.area_text or (f"[{self.south:.4f},{self.west:.4f} – {self.north:.4f},{self.east:.4f}]"
                                       if self.south is not None else
                                       f"{self.radius_m} m around {self.latitude:.4f},{self.longitude:.4f}"
                                       if self.latitude is not None else "?")
            return f"{self.query} — all of {where}"
        where = f" in {self.location_text}" if self.location_text else ""
        return f"{self.query}{where}"


class TileStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    DONE = "done", "Done"
    SPLIT = "split", "Full: split in four"
    SATURATED = "saturated", "Full at the smallest size"
    FAILED = "failed", "Failed"
    SKIPPED = "skipped", "Not searched (budget)"


class PlaceSearchTile(models.Model):
    """One rectangle of an area search: what it found, what it cost, and whether it was split."""

    search = models.ForeignKey(PlaceSearch, on_delete=models.CASCADE, related_name="tiles")
    key = models.CharField(max_length=64, help_text='Position in the tiling: "3" a top tile, "3.1" its second quarter.')
    depth = models.PositiveSmallIntegerField(default=0)
    south = models.FloatField()
    west = models.FloatField()
    north = models.FloatField()
    east = models.FloatField()
    status = models.CharField(max_length=12, choices=TileStatus.choices, default=TileStatus.PENDING, db_index=True)
    results = models.PositiveSmallIntegerField(null=True, blank=True)
    new_places = models.PositiveSmallIntegerField("new to this search", null=True, blank=True)
    pages = models.PositiveSmallIntegerField(default=0)
    requests = models.PositiveSmallIntegerField(default=0)
    error = models.TextField(blank=True, default="")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["search", "id"]
        constraints = [models.UniqueConstraint(fields=["search", "key"], name="place_search_tile_unique")]

    def __str__(self) -> str:
        return f"tile {self.key} of search {self.search_id}"


class Place(workflow_fields("deep_scan"), BaseModel):
    """A place found by Text Search (the seeds' `places_staging`), unique on Google's place id."""

    place_id = models.CharField("Google place id", max_length=255, unique=True)
    name = models.CharField(max_length=500, blank=True, default="")
    formatted_address = models.CharField(max_length=1000, blank=True, default="")
    types = models.JSONField(default=list, blank=True)
    primary_type = models.CharField("category", max_length=100, blank=True, default="", db_index=True)
    latitude = models.FloatField(null=True, blank=True)
    longitude = models.FloatField(null=True, blank=True)
    rating = models.FloatField(null=True, blank=True, db_index=True)
    user_rating_count = models.PositiveIntegerField("ratings", null=True, blank=True)
    price_level = models.PositiveSmallIntegerField(null=True, blank=True)
    business_status = models.CharField(max_length=30, blank=True, default="", choices=BusinessStatus.choices,
                                       db_index=True)
    website = models.URLField(max_length=2000, blank=True, default="")
    # The website's places.domains.domain_key() (registrable domain); places sharing it form a chain.
    website_domain = models.CharField(max_length=253, blank=True, default="", db_index=True)
    phone = models.CharField(max_length=50, blank=True, default="")
    google_maps_uri = models.URLField(max_length=500, blank=True, default="")
    raw = models.JSONField("raw Google payload", default=dict, blank=True)
    first_seen_at = models.DateTimeField()
    last_seen_at = models.DateTimeField(db_index=True)
    last_deep_scanned_at = models.DateTimeField(null=True, blank=True)
    deep_scan_requests = models.PositiveIntegerField("deep-scan requests", default=0)
    deep_scan_cost_micros = models.BigIntegerField("deep-scan cost (µ$)", default=0)
    # A relocated place: Google's movedPlaceId, as a Place of its own (deep-scanned on request).
    moved_to = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="moved_from",
                                 help_text="Where Google says this place moved (it reports it CLOSED_PERMANENTLY).")
    # Provenance: every search that found it (PlaceSearchResult holds the rank).
    searches = models.ManyToManyField(PlaceSearch, through="PlaceSearchResult", related_name="places", blank=True)
    first_search = models.ForeignKey(PlaceSearch, null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="+", help_text="The search that found it first.")
    last_search = models.ForeignKey(PlaceSearch, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+", help_text="The latest search that found it.")

    class Meta:
        ordering = ["-last_seen_at", "name"]
        indexes = [*workflow_indexes("deep_scan"), models.Index(fields=["-updated_at"], name="place_updated_idx")]
        constraints = [
            *workflow_constraints("deep_scan"),
            models.CheckConstraint(condition=~Q(place_id=""), name="place_place_id_not_empty"),
        ]

    def __str__(self) -> str:
        return self.name or self.place_id

    @property
    def category(self) -> str:
        return self.primary_type or next((t for t in self.types or [] if isinstance(t, str)), "")


class PlaceSearchResult(models.Model):
    """Provenance: `search` found `place` at `rank` (1 = Google's first result)."""

    search = models.ForeignKey(PlaceSearch, on_delete=models.CASCADE, related_name="results")
    place = models.ForeignKey(Place, on_delete=models.CASCADE, related_name="search_results")
    rank = models.PositiveIntegerField()
    # Area searches: every tile that returned the place, with its rank there ([["3.1", 7], ["3", 42]]).
    tiles = models.JSONField(default=list, blank=True)
    found_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["search", "rank"]
        constraints = [models.UniqueConstraint(fields=["search", "place"], name="place_search_result_unique")]

    def __str__(self) -> str:
        return f"#{self.rank} of {self.search}"


class LocalBusiness(workflow_fields("domain_extraction"), BaseModel):
    """A deep-scanned place (Place Details), upserted on `place_id`.

    A re-scan updates the facts only; the business's own curation and
    processing status (`domain_extraction_*`) are never reset (original defect B-6).
    """

    place_id = models.CharField("Google place id", max_length=255, unique=True)
    source_place = models.OneToOneField(Place, null=True, blank=True, on_delete=models.SET_NULL,
                                        related_name="business", verbose_name="place")
    name = models.CharField(max_length=500, blank=True, default="")
    formatted_address = models.CharField("full address", max_length=1000, blank=True, default="")
    street = models.CharField(max_length=500, blank=True, default="")
    city = models.CharField(max_length=200, blank=True, default="", db_index=True)
    region = models.CharField(max_length=200, blank=True, default="")
    postal_code = models.CharField(max_length=30, blank=True, default="")
    country_code = models.CharField("country", max_length=2, blank=True, default="", db_index=True)
    phone_national = models.CharField("phone (as listed)", max_length=50, blank=True, default="")
    phone_e164 = models.CharField("phone (E.164)", max_length=20, blank=True, default="")
    website = models.URLField(max_length=2000, blank=True, default="")
    categories = models.JSONField(default=list, blank=True)
    primary_category = models.CharField("category", max_length=100, blank=True, default="", db_index=True)
    rating = models.FloatField(null=True, blank=True, db_index=True)
    reviews_count = models.PositiveIntegerField(null=True, blank=True)
    price_level = models.PositiveSmallIntegerField(null=True, blank=True)
    price_text = models.CharField(max_length=10, blank=True, default="")
    opening_hours = models.JSONField(null=True, blank=True)
    latitude = models.FloatField(null=True, blank=True)
    longitude = models.FloatField(null=True, blank=True)
    utc_offset_minutes = models.SmallIntegerField(null=True, blank=True)
    time_zone = models.CharField(max_length=64, blank=True, default="",
                                 help_text='IANA time zone from Google, e.g. "America/Chicago" (empty if not sent).')
    moved_place_id = models.CharField("moved to (place id)", max_length=255, blank=True, default="",
                                      help_text="Google's movedPlaceId: the place this business relocated to.")
    business_status = models.CharField(max_length=30, blank=True, default="", choices=BusinessStatus.choices,
                                       db_index=True)
    google_maps_uri = models.URLField(max_length=500, blank=True, default="")
    raw = models.JSONField("raw Google payload", default=dict, blank=True)
    last_scanned_at = models.DateTimeField("last deep scan", null=True, blank=True, db_index=True)
    # Written by domain_extraction:
    website_normalized = models.URLField(max_length=2000, blank=True, default="")
    website_kind = models.CharField(max_length=20, blank=True, default="", choices=WebsiteKind.choices,
                                    db_index=True)
    website_note = models.TextField(blank=True, default="", help_text="Why the website got its kind (or has none).")
    social_links = models.JSONField(default=dict, blank=True, help_text="network → profile URL; not crawled.")
    domain = models.ForeignKey("pages.Domain", null=True, blank=True, on_delete=models.SET_NULL,
                               related_name="businesses")

    class Meta:
        verbose_name = "local business"
        verbose_name_plural = "local businesses"
        ordering = ["name"]
        # The admin list's order (name, then id): without it a page of businesses sorts the whole table.
        indexes = [*workflow_indexes("domain_extraction"), models.Index(fields=["name"], name="business_name_idx")]
        constraints = [
            *workflow_constraints("domain_extraction"),
            models.CheckConstraint(condition=~Q(place_id=""), name="business_place_id_not_empty"),
        ]

    def __str__(self) -> str:
        return self.name or self.place_id


class GooglePlacesUsage(models.Model):
    """Places HTTP requests sent per UTC day, counted before each request (places/budget.py)."""

    day = models.DateField(unique=True)
    requests = models.PositiveIntegerField(default=0)
    search_requests = models.PositiveIntegerField(default=0)
    details_requests = models.PositiveIntegerField(default=0)
    cost_micros = models.BigIntegerField("cost (µ$)", default=0, help_text="List price of the requests, micro-dollars.")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "Google Places usage"
        verbose_name_plural = "Google Places usage"
        ordering = ["-day"]

    def __str__(self) -> str:
        return f"{self.day}: {self.requests} request(s)"
