"""Services of the places app: starting a search and the hooks of WF1–WF3.

Hooks (`def hook(*, record, lease) -> None`) are idempotent: they upsert on natural
keys (Google's place id, the registrable domain) and can run twice for the
same row. They never hold a transaction open during HTTP: Google is called
first, then everything is written in one transaction through the lease
(`with lease.complete():`), which writes nothing if the lease was lost.
Request and cost counters are written as the requests are made: they count
calls that happened, whoever wins the row.
"""
from __future__ import annotations

import logging
import re
from datetime import timedelta
from decimal import Decimal, InvalidOperation
from urllib.parse import urlsplit, urlunsplit

from django.conf import settings
from django.db import transaction
from django.db.models import F, Max, Q
from django.utils import timezone

from curation import registry
from curation.extension import ExtensionPoint
from curation.lookups import pk_in
from curation.services import CurationInputError, curation_status_set, processing_enqueue
from places import budget, pricing
from places.coverage import Box, area_search_run, circle_box, first_pass_requests
from places.domains import SITE_BUILDER, SOCIAL_PROFILE, domain_key, normalize_website
from places.google import (MAX_BIAS_RADIUS_M, MAX_SEARCH_RESULTS, PlacesClient, estimate_cost, get_client,
                           parse_place_details, parse_place_summary)
from places.models import LocalBusiness, Place, PlaceSearch, PlaceSearchResult, WebsiteKind

logger = logging.getLogger(__name__)

_LANGUAGE_RE = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$")
_REGION_RE = re.compile(r"^[A-Za-z]{2}$")

# Facts of a Text Search result stored on Place (parse_place_summary keys).
PLACE_FACTS = ("name", "formatted_address", "types", "primary_type", "latitude", "longitude", "rating",
               "user_rating_count", "price_level", "business_status", "website", "phone", "google_maps_uri")
# Facts of a Place Details response stored on LocalBusiness; a re-scan updates these and nothing else (B-6).
BUSINESS_FACTS = ("name", "formatted_address", "street", "city", "region", "postal_code", "country_code",
                  "phone_national", "phone_e164", "website", "categories", "primary_category", "rating",
                  "reviews_count", "price_level", "price_text", "opening_hours", "latitude", "longitude",
                  "utc_offset_minutes", "time_zone", "moved_place_id", "business_status", "google_maps_uri", "raw",
                  "last_scanned_at", "source_place")


def google_readiness() -> str | None:
    """Why the Google workflows cannot run, or None (the workflows' `readiness`)."""
    if not settings.SANDBOX_ENABLED and not settings.GOOGLE_MAPS_API_KEY:
        return "no Google API key: set GOOGLE_MAPS_API_KEY (or SANDBOX=1 to use the offline sandbox)"
    return None


def places_client() -> PlacesClient:
    """The configured client, counting every request against the daily budget."""
    return get_client(before_request=budget.spend)


def _clip(value: str, length: int) -> str:
    return (value or "")[:length]


# --- WF1: place search ---------------------------------------------------------------

def _float_or_none(value, name: str, problems: list) -> float | None:
    if value is None or value == "":
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        problems.append(f"{name} must be a number, got {value!r}")
        return None


def place_search_clean(
    *,
    query: str,
    location_text: str = "",
    latitude: float | None = None,
    longitude: float | None = None,
    radius_m: float | int | None = None,
    language: str = "",
    region: str = "",
    max_results: int | None = MAX_SEARCH_RESULTS,
    cover_area: bool = False,
    area_text: str = "",
    south: float | None = None,
    west: float | None = None,
    north: float | None = None,
    east: float | None = None,
    min_tile_m: int | None = None,
    max_requests: int | None = None,
    max_cost_usd=None,
) -> dict:
    """Validate and normalise a search's parameters; `CurationInputError` lists every problem.

    An area search (`cover_area`) needs exactly one area: `area_text`, a
    bounding box (south, west, north, east) or a circle (latitude, longitude,
    radius_m); it has no `location_text` (the area restricts the results).
    """
    query = (query or "").strip()
    location_text = (location_text or "").strip()
    area_text = (area_text or "").strip()
    language = (language or "").strip()
    region = (region or "").strip().lower()
    if max_results is None:
        max_results = MAX_SEARCH_RESULTS
    problems: list[str] = []
    if not query:
        problems.append("query (the business type) is required")
    elif len(query) > 200:
        problems.append("query is longer than 200 characters")
    if len(location_text) > 255:
        problems.append("location is longer than 255 characters")
    if len(area_text) > 255:
        problems.append("area name is longer than 255 characters")
    try:
        max_results = int(max_results)
    except (TypeError, ValueError):
        problems.append(f"max_results must be a whole number, got {max_results!r}")
    else:
        if not 1 <= max_results <= MAX_SEARCH_RESULTS:
            problems.append(f"max_results must be between 1 and {MAX_SEARCH_RESULTS} (Google's ceiling), got {max_results}")
    if (latitude is None) != (longitude is None):
        problems.append("latitude and longitude go together")
    elif latitude is not None:
        try:
            latitude, longitude = float(latitude), float(longitude)
        except (TypeError, ValueError):
            problems.append("latitude and longitude must be numbers")
        else:
            if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
                problems.append(f"invalid coordinates {latitude}, {longitude}")
    if radius_m is not None:
        if latitude is None:
            problems.append("radius needs latitude and longitude")
        try:
            radius_m = int(round(float(radius_m)))
        except (TypeError, ValueError):
            problems.append("radius must be a number of metres")
        else:
            if not 0 < radius_m <= MAX_BIAS_RADIUS_M:
                problems.append(f"radius must be between 1 and {MAX_BIAS_RADIUS_M:.0f} metres, got {radius_m}")
    if language and not _LANGUAGE_RE.match(language):
        problems.append(f"language must be a language code such as en or pt-BR, got {language!r}")
    if region and not _REGION_RE.match(region):
        problems.append(f"region must be a two-letter region code such as us, got {region!r}")
    bbox = [_float_or_none(v, n, problems) for v, n in ((south, "south"), (west, "west"), (north, "north"), (east, "east"))]
    has_bbox = any(v is not None for v in bbox)
    if has_bbox and any(v is None for v in bbox):
        problems.append("a bounding box needs all of south, west, north and east")
    elif has_bbox:
        s_, w_, n_, e_ = bbox
        if not (-90 <= s_ < n_ <= 90):
            problems.append(f"bounding box: south ({s_}) must be below north ({n_}), both within ±90")
        if not (-180 <= w_ < e_ <= 180):
            problems.append(f"bounding box: west ({w_}) must be left of east ({e_}), both within ±180")
    min_tile = int(min_tile_m) if str(min_tile_m or "").strip().isdigit() else (None if min_tile_m in (None, "") else -1)
    if min_tile is not None and min_tile < 50:
        problems.append(f"the smallest tile must be a whole number of metres, at least 50, got {min_tile_m!r}")
    budget_requests = None
    if max_requests not in (None, ""):
        try:
            budget_requests = int(max_requests)
            if budget_requests < 1:
                raise ValueError
        except (TypeError, ValueError):
            problems.append(f"the request budget must be a whole number of at least 1, got {max_requests!r}")
    budget_usd = None
    if max_cost_usd not in (None, ""):
        try:
            budget_usd = Decimal(str(max_cost_usd)).quantize(Decimal("0.01"))
            if budget_usd < 0:
                raise InvalidOperation
        except (InvalidOperation, ValueError):
            problems.append(f"the money budget must be a positive amount of dollars, got {max_cost_usd!r}")
    if cover_area:
        areas = [name for name, given in (("an area name", bool(area_text)), ("a bounding box", has_bbox),
                                          ("a circle", latitude is not None)) if given]
        if not areas:
            problems.append("an area search needs an area: a name, a bounding box, or latitude/longitude with a radius")
        elif len(areas) > 1:
            problems.append(f"give one area, not {' and '.join(areas)}")
        if latitude is not None and radius_m is None:
            problems.append("an area given as a circle needs a radius")
        if location_text:
            problems.append("an area search takes the area, not a location text (leave location empty)")
    elif area_text or has_bbox or budget_requests is not None or budget_usd is not None:
        problems.append("an area name, bounding box or budget needs cover_area (an area search)")
    if problems:
        raise CurationInputError("Invalid search: " + "; ".join(problems))
    params = {"query": query, "location_text": location_text, "latitude": latitude, "longitude": longitude,
              "radius_m": radius_m, "language": language, "region": region, "max_results": max_results,
              "cover_area": bool(cover_area), "area_text": area_text, "max_requests": budget_requests,
              "max_cost_usd": budget_usd}
    params.update(zip(("south", "west", "north", "east"), bbox))
    if min_tile is not None:
        params["min_tile_m"] = min_tile
    return params


def place_search_estimate(**params) -> dict:
    """What a search will cost before it runs (the admin's confirmation page, `search_places`).

    A plain search reads at most ceil(max_results / 20) pages. An area search
    costs one lookup for a named area, then 1–3 requests per tile; the first
    tiling is known, the splits depend on how dense the area is, so the
    estimate gives the first pass and the ceiling (the search's budget).
    """
    if not params.get("cover_area"):
        pages = pricing.pages_for(params.get("max_results") or MAX_SEARCH_RESULTS)
        cost = estimate_cost(search_requests=pages)
        return {**cost, "kind": "search", "min_requests": 1, "max_requests": pages,
                "summary": f"at most {pages} Text Search request(s) ≈ {cost['total']} ({cost['search_sku']})"}
    box = None
    if params.get("south") is not None:
        box = Box(params["south"], params["west"], params["north"], params["east"])
    elif params.get("latitude") is not None:
        box = circle_box(params["latitude"], params["longitude"], float(params.get("radius_m") or 1000))
    tiles, first = first_pass_requests(box)
    lookup = 0 if box is not None else 1
    first_cost = estimate_cost(search_requests=first + lookup)
    ceiling = params.get("max_requests")
    if params.get("max_cost_usd") is not None:
        each = first_cost["search_each_micros"] or 1
        by_money = int(pricing.usd_to_micros(params["max_cost_usd"]) // each)
        ceiling = min(ceiling, by_money) if ceiling else by_money
    ceiling_cost = estimate_cost(search_requests=ceiling) if ceiling else None
    where = "the area (+1 request to look it up)" if lookup else f"{tiles} tile(s)"
    summary = (f"first pass over {where}: ≈ {first_cost['total']} for {first + lookup} request(s) "
               f"({first_cost['search_sku']}); dense tiles split further")
    summary += (f", never more than {ceiling} requests ≈ {ceiling_cost['total']} (the search's budget)"
                if ceiling_cost else "; no budget set: only the daily budgets bound it")
    return {**first_cost, "kind": "area", "tiles": tiles, "min_requests": first + lookup,
            "max_requests": ceiling, "max_total": ceiling_cost["total"] if ceiling_cost else "",
            "summary": summary}


def place_search_create(*, user=None, **params) -> PlaceSearch:
    """Create a search and queue it (`place_search` has no curation gate). The one way searches are made.

    `params` are `place_search_clean`'s. Bad input raises `CurationInputError`
    (a 400 in the API, a form error in admin, a CommandError in
    `search_places`) and creates nothing.
    """
    params = place_search_clean(**params)
    workflow = registry.get("place_search")
    problem = workflow.readiness_problem()
    if problem:
        raise CurationInputError(f"{workflow.label} cannot run: {problem}")
    if user is not None and not getattr(user, "is_authenticated", False):
        user = None
    with transaction.atomic():
        search = PlaceSearch.objects.create(**params, created_by=user)
        processing_enqueue(workflow=workflow, ids=[search.pk])
    search.refresh_from_db()
    return search


def _website_domain(website: str) -> str:
    if not website:
        return ""
    try:
        return domain_key(normalize_website(website)) or ""
    except ValueError:
        return ""


def _place_rows(search: PlaceSearch, raw_places: list[dict], now) -> list[Place]:
    rows: list[Place] = []
    for raw in raw_places:
        facts = parse_place_summary(raw)
        if not facts.get("place_id"):
            continue
        values = {name: facts[name] for name in PLACE_FACTS}
        for name in ("name", "formatted_address"):
            values[name] = _clip(values[name] or "", 500 if name == "name" else 1000)
        values["website"] = _clip(values["website"] or "", 2000)
        values["phone"] = _clip(values["phone"] or "", 50)
        values["primary_type"] = _clip(values["primary_type"] or "", 100)
        values["business_status"] = _clip(values["business_status"] or "", 30)
        values["google_maps_uri"] = _clip(values["google_maps_uri"] or "", 500)
        rows.append(Place(
            place_id=facts["place_id"], **values, website_domain=_website_domain(values["website"]), raw=raw,
            first_seen_at=now, last_seen_at=now, first_search=search, last_search=search,
        ))
    return rows


def place_search_store(*, search: PlaceSearch, raw_places: list[dict], tile_key: str | None = None) -> int:
    """Upsert found places with provenance and refresh the search's counts (call inside a transaction).

    Places already known keep their curation and deep-scan status; only their
    facts, raw payload and last-seen time are refreshed (B-6). A place's rank
    in the search is its first rank; an area search also records every tile
    that returned it, with the rank there. Returns how many places are new to
    this search.
    """
    now = timezone.now()
    rows = _place_rows(search, raw_places, now)
    place_ids = list(dict.fromkeys(row.place_id for row in rows))
    if rows:
        Place.objects.bulk_create(
            rows, update_conflicts=True, unique_fields=["place_id"],
            update_fields=[*PLACE_FACTS, "website_domain", "raw", "last_seen_at", "last_search", "updated_at"],
        )
    pks = dict(Place.objects.filter(place_id__in=place_ids).values_list("place_id", "pk"))
    existing = {r.place_id: r for r in PlaceSearchResult.objects.filter(search=search, place_id__in=pks.values())}
    next_rank = (PlaceSearchResult.objects.filter(search=search).aggregate(m=Max("rank"))["m"] or 0) + 1
    results, new_here = [], 0
    for tile_rank, pid in enumerate(place_ids, 1):
        known = existing.get(pks[pid])
        tiles = list(known.tiles) if known is not None else []
        if tile_key is not None and [tile_key, tile_rank] not in tiles:
            tiles.append([tile_key, tile_rank])
        if known is None:
            rank = next_rank if tile_key is not None else tile_rank
            next_rank += 1
            new_here += 1
        else:
            rank = known.rank if tile_key is not None else tile_rank
        results.append(PlaceSearchResult(search=search, place_id=pks[pid], rank=rank, tiles=tiles))
    if results:
        PlaceSearchResult.objects.bulk_create(results, update_conflicts=True, unique_fields=["search", "place"],
                                              update_fields=["rank", "tiles"])
    found = PlaceSearchResult.objects.filter(search=search).count()
    new = Place.objects.filter(first_search=search).count()
    PlaceSearch.objects.filter(pk=search.pk).update(results_found=found, results_new=new,
                                                    results_known=found - new, updated_at=now)
    return new_here


def place_search_run(*, record: PlaceSearch, lease) -> None:
    """WF1 hook: Text Search (every page, up to max_results), then upsert Places with provenance.

    An area search runs the coverage planner (places/coverage.py) instead.
    When a page after the first fails, the places of the pages read are kept
    and the search completes with a "partial: page N failed (…)" note; a
    failed first page is raised (the engine retries the row). Requests and
    their list price are added to the search's counters either way.
    """
    with places_client() as client:
        try:
            if record.cover_area:
                last = lease.attempt >= lease.workflow.max_attempts
                note = area_search_run(record=record, client=client, lease=lease, last_attempt=last,
                                       store=place_search_store)
                with lease.complete():  # the tiles' results were written as each finished (lease.fenced())
                    PlaceSearch.objects.filter(pk=record.pk).update(note=note)
                return
            body = client.search_body(
                query=record.query, location_text=record.location_text, latitude=record.latitude,
                longitude=record.longitude, radius_m=float(record.radius_m) if record.radius_m is not None else None,
                language=record.language or None, region=record.region or None,
            )
            outcome = client.search_pages(body, max_results=record.max_results)
        finally:
            if not record.cover_area and client.requests_sent:
                PlaceSearch.objects.filter(pk=record.pk).update(
                    requests_used=F("requests_used") + client.requests_sent,
                    cost_micros=F("cost_micros") + client.cost_micros)
    with lease.complete():
        place_search_store(search=record, raw_places=outcome.places)
        PlaceSearch.objects.filter(pk=record.pk).update(note=outcome.partial_note)
    logger.info("place_search %s (%s): %d found%s", record.pk, record, len(outcome.places),
                f" ({outcome.partial_note})" if outcome.error else "")


# --- WF2: deep scan --------------------------------------------------------------------

def place_deep_scan(*, record: Place, lease) -> None:
    """WF2 hook: Place Details, then upsert the LocalBusiness on place_id.

    The upsert updates facts only: a re-scan never touches the business's
    domain_extraction curation or processing status (B-6); a new business
    arrives with curation New. A relocated place (Google's movedPlaceId) is
    linked to the Place it moved to, created New if unknown, for a curator to
    deep-scan. The request and its list price are added to the place.
    """
    with places_client() as client:
        try:
            raw = client.get_details(record.place_id)
        finally:
            if client.requests_sent:
                Place.objects.filter(pk=record.pk).update(
                    deep_scan_requests=F("deep_scan_requests") + client.requests_sent,
                    deep_scan_cost_micros=F("deep_scan_cost_micros") + client.cost_micros)
    facts = parse_place_details(raw, default_region=settings.GOOGLE_PLACES_REGION or None)
    now = timezone.now()
    categories = facts["categories"]
    values = {
        "name": _clip(facts["name"] or record.name, 500),
        "formatted_address": _clip(facts["formatted_address"], 1000),
        "street": _clip(facts["street"], 500),
        "city": _clip(facts["city"], 200),
        "region": _clip(facts["region"], 200),
        "postal_code": _clip(facts["postal_code"], 30),
        "country_code": _clip(facts["country_code"], 2),
        "phone_national": _clip(facts["phone_national"], 50),
        "phone_e164": _clip(facts["phone_e164"], 20),
        "website": _clip(facts["website"], 2000),
        "categories": categories,
        "primary_category": _clip(categories[0] if categories else "", 100),
        "rating": facts["rating"],
        "reviews_count": facts["reviews_count"],
        "price_level": facts["price_level"],
        "price_text": facts["price_text"],
        "opening_hours": facts["opening_hours"],
        "latitude": facts["latitude"],
        "longitude": facts["longitude"],
        "utc_offset_minutes": facts["utc_offset_minutes"],
        "time_zone": _clip(facts["time_zone"], 64),
        "moved_place_id": _clip(facts["moved_place_id"], 255),
        "business_status": _clip(facts["business_status"], 30),
        "google_maps_uri": _clip(facts["google_maps_uri"], 500),
        "raw": raw,
        "last_scanned_at": now,
    }
    moved = facts["moved_place_id"]
    with lease.complete():
        LocalBusiness.objects.bulk_create(
            [LocalBusiness(place_id=record.place_id, source_place=record, **values)],
            update_conflicts=True, unique_fields=["place_id"], update_fields=[*BUSINESS_FACTS, "updated_at"],
        )
        place_values: dict = {"last_deep_scanned_at": now}
        if moved and moved != record.place_id:
            Place.objects.bulk_create(
                [Place(place_id=moved, name=_clip(values["name"], 500), first_seen_at=now, last_seen_at=now,
                       raw={"id": moved, "movedFrom": record.place_id})],
                ignore_conflicts=True)
            place_values["moved_to"] = Place.objects.get(place_id=moved)
        Place.objects.filter(pk=record.pk).update(**place_values)


def deep_scan_estimate(*, ids, reprocess: bool = True) -> dict:
    """What deep-scanning these places costs before it runs (one Place Details request each).

    Places that would be skipped are not counted: already queued or processing,
    and (without `reprocess`, as "mark Selected" does) already scanned.
    """
    skipped = ["Queued", "Processing"] + ([] if reprocess else ["Completed"])
    count = Place.objects.filter(pk_in(list(ids))).exclude(deep_scan_processing_status__in=skipped).count()
    cost = estimate_cost(details_requests=count)
    return {**cost, "places": count,
            "summary": f"this will cost ≈ {cost['total']} for {count} place(s) ({cost['details_sku']}, "
                       f"{pricing.format_usd(cost['details_each_micros'])} each)"}


def place_moved_follow(*, ids, actor=None, source: str = "admin"):
    """Queue a deep scan of the places these places moved to ("re-scanned on request")."""
    targets = list(Place.objects.filter(pk_in(list(ids)), moved_to__isnull=False)
                   .exclude(moved_to__deep_scan_curation_status="Rejected").values_list("moved_to", flat=True))
    if not targets:
        raise CurationInputError("None of these places has moved (no movedPlaceId from Google), "
                                 "or the places they moved to are Rejected")
    workflow = registry.get("deep_scan")
    return curation_status_set(workflow=workflow, ids=targets, status=workflow.trigger, actor=actor,
                               reprocess=True, source=source)


# --- Freshness: re-scanning businesses -----------------------------------------------------

def business_rescan(*, ids=None, older_than_days: int | None = None, actor=None, source: str = "admin") -> dict:
    """Queue deep scans again for businesses (by id, or all scanned more than `older_than_days` ago).

    Respects curation: a place or business a curator Rejected is never
    re-scanned. Respects the budget: no more scans are queued than today's
    remaining request and money budgets allow (the oldest first); the result
    says how many were left for another day.
    """
    businesses = LocalBusiness.objects.filter(source_place__isnull=False)
    if ids is not None:
        businesses = businesses.filter(pk_in(list(ids)))
    if older_than_days is not None:
        if older_than_days < 1:
            raise CurationInputError(f"older_than_days must be at least 1, got {older_than_days}")
        cutoff = timezone.now() - timedelta(days=older_than_days)
        businesses = businesses.filter(Q(last_scanned_at__lt=cutoff) | Q(last_scanned_at__isnull=True))
    eligible = (businesses.exclude(domain_extraction_curation_status="Rejected")
                .exclude(source_place__deep_scan_curation_status="Rejected")
                .exclude(source_place__deep_scan_processing_status__in=["Queued", "Processing"])
                .order_by(F("last_scanned_at").asc(nulls_first=True)))
    place_ids = list(eligible.values_list("source_place_id", flat=True)[: settings.CURATION_MAX_BATCH])
    skipped = businesses.count() - len(place_ids)
    spend = budget.spend_today()
    room = len(place_ids)
    if spend["request_limit"] is not None:
        room = min(room, max(0, spend["request_limit"] - spend["requests"]))
    if spend["remaining_micros"] is not None:
        each = estimate_cost(details_requests=1)["details_each_micros"] or 1
        room = min(room, spend["remaining_micros"] // each)
    queued_ids, left = place_ids[:room], len(place_ids) - room
    queued = 0
    if queued_ids:
        workflow = registry.get("deep_scan")
        queued = curation_status_set(workflow=workflow, ids=queued_ids, status=workflow.trigger, actor=actor,
                                     reprocess=True, source=source).queued_count
    return {"queued": queued, "over_budget": left, "skipped": skipped}


def business_rescan_stale(*, days: int | None = None) -> dict:
    """The opt-in schedule (PLACES_RESCAN_DAYS): re-scan businesses not scanned for that many days."""
    days = settings.PLACES_RESCAN_DAYS if days is None else days
    if not days or days < 1:
        return {"queued": 0, "over_budget": 0, "skipped": 0, "off": True}
    return business_rescan(older_than_days=days, source="schedule")


# --- WF3: domain extraction ----------------------------------------------------------------

# A website's registrable domain becomes the pages app's Domain row (one domain, many businesses). Pages
# builds on places, so it provides this from its AppConfig.ready(): `(key, site_builder, homepage_url) -> pk`.
domain_found = ExtensionPoint("places.domain_found")


def _homepage(url: str, kind: str) -> str:
    if kind == SITE_BUILDER:
        return url
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "", "", ""))


def business_domain_extract(*, record: LocalBusiness, lease) -> None:
    """WF3 hook: normalise the website, compute its registrable domain offline, classify it.

    Own sites (and site-builder subdomains) get or create a `pages.Domain`
    (one domain, many businesses); social profiles become the business's
    social links; directories and link shorteners are recorded, not crawled.
    No website (or not a website URL) → Completed with the reason recorded.
    """
    website = (record.website or "").strip()
    values: dict = {"domain_id": None, "website_normalized": ""}
    key = None
    info = None
    if not website:
        values.update(website_kind=WebsiteKind.NONE,
                      website_note="No website listed on Google: no domain to extract.")
    else:
        try:
            info = normalize_website(website)
        except ValueError as exc:
            values.update(website_kind=WebsiteKind.INVALID, website_note=f"Not a usable website: {exc}")
        else:
            key = domain_key(info)
            values.update(website_normalized=_clip(info.url, 2000), website_kind=info.kind, website_note=info.reason)
            if info.kind == SOCIAL_PROFILE and info.network:
                values["social_links"] = {**(record.social_links or {}), info.network: info.url}
            if info.kind == SITE_BUILDER and key is None:
                values["website_note"] = f"{info.reason}; the host identifies no single business, so no domain"
    with lease.complete():
        if key:
            values["domain_id"] = domain_found(key=key, site_builder=info.kind == SITE_BUILDER,
                                               homepage_url=_clip(_homepage(info.url, info.kind), 2000))
        LocalBusiness.objects.filter(pk=record.pk).update(**values, updated_at=timezone.now())


# --- Seed compatibility: the Staging Editor's status endpoint -------------------------------

def place_staging_status_set(*, place_ids, status: str, actor=None, source: str = "api"):
    """`PUT /api/v3/places/staging/status`: set the deep-scan curation status by Google place id.

    Translates place ids to our primary keys and calls
    `curation.services.curation_status_set` (the one status service); unknown
    place ids raise `CurationInputError` listing them and change nothing.
    """
    if isinstance(place_ids, (str, bytes)) or place_ids is None:
        raise CurationInputError("place_ids must be a list of Google place ids")
    wanted = list(dict.fromkeys(str(pid).strip() for pid in place_ids))
    if not wanted or any(not pid for pid in wanted):
        raise CurationInputError("place_ids must be a non-empty list of Google place ids")
    if len(wanted) > settings.CURATION_MAX_BATCH:
        raise CurationInputError(f"Too many ids: {len(wanted)}; the limit is {settings.CURATION_MAX_BATCH} per request")
    pks = dict(Place.objects.filter(place_id__in=wanted).values_list("place_id", "pk"))
    missing = [pid for pid in wanted if pid not in pks]
    if missing:
        raise CurationInputError(
            f"{len(missing)} place id(s) not found: {', '.join(missing[:10])}", not_found_ids=missing)
    return curation_status_set(workflow=registry.get("deep_scan"), ids=[pks[pid] for pid in wanted], status=status,
                               actor=actor, source=source)
