"""Services of the places app: starting a search and the hooks of WF1–WF3.

Hooks (`def hook(*, record) -> None`) are idempotent: they upsert on natural
keys (Google's place id, the registrable domain) and can run twice for the
same row. They never hold a transaction open during HTTP: Google is called
first, then everything is written in one `transaction.atomic()`.
"""
from __future__ import annotations

import logging
import re
from urllib.parse import urlsplit, urlunsplit

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from curation import registry
from curation.services import CurationInputError, processing_enqueue
from places import budget
from places.domains import SITE_BUILDER, SOCIAL_PROFILE, domain_key, normalize_website
from places.google import MAX_BIAS_RADIUS_M, MAX_SEARCH_RESULTS, PlacesClient, get_client, parse_place_details, parse_place_summary
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
                  "utc_offset_minutes", "time_zone", "business_status", "google_maps_uri", "raw", "fetched_at",
                  "source_place")


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
) -> dict:
    """Validate and normalise a search's parameters; `CurationInputError` lists every problem."""
    query = (query or "").strip()
    location_text = (location_text or "").strip()
    language = (language or "").strip()
    region = (region or "").strip().lower()
    if max_results is None:
        max_results = MAX_SEARCH_RESULTS
    problems = []
    if not query:
        problems.append("query (the business type) is required")
    elif len(query) > 200:
        problems.append("query is longer than 200 characters")
    if len(location_text) > 255:
        problems.append("location is longer than 255 characters")
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
    if problems:
        raise CurationInputError("Invalid search: " + "; ".join(problems))
    return {"query": query, "location_text": location_text, "latitude": latitude, "longitude": longitude,
            "radius_m": radius_m, "language": language, "region": region, "max_results": max_results}


def place_search_create(
    *,
    query: str,
    location_text: str = "",
    latitude: float | None = None,
    longitude: float | None = None,
    radius_m: float | int | None = None,
    language: str = "",
    region: str = "",
    max_results: int | None = MAX_SEARCH_RESULTS,
    user=None,
) -> PlaceSearch:
    """Create a search and queue it (`place_search` has no curation gate).

    Bad input raises `CurationInputError` (a 400 in the API, a form error in
    admin, a CommandError in `search_places`) and creates nothing.
    """
    params = place_search_clean(query=query, location_text=location_text, latitude=latitude, longitude=longitude,
                                radius_m=radius_m, language=language, region=region, max_results=max_results)
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


def place_search_run(*, record: PlaceSearch) -> None:
    """WF1 hook: Text Search (every page, up to max_results), then upsert Places with provenance.

    Places already known keep their curation and deep-scan status; only their
    facts, raw payload and last-seen time are refreshed (B-6). Counts found /
    new / already known are recorded on the search; they are the same when the
    hook runs twice (a place is "new" for the search that inserted it).
    """
    with places_client() as client:
        raw_places = client.search_text(
            query=record.query,
            location_text=record.location_text,
            latitude=record.latitude,
            longitude=record.longitude,
            radius_m=float(record.radius_m) if record.radius_m is not None else None,
            language=record.language or None,
            region=record.region or None,
            max_results=record.max_results,
        )
    now = timezone.now()
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
            first_seen_at=now, last_seen_at=now, first_search=record, last_search=record,
        ))
    place_ids = [row.place_id for row in rows]
    with transaction.atomic():
        if rows:
            Place.objects.bulk_create(
                rows, update_conflicts=True, unique_fields=["place_id"],
                update_fields=[*PLACE_FACTS, "website_domain", "raw", "last_seen_at", "last_search", "updated_at"],
            )
        pks = dict(Place.objects.filter(place_id__in=place_ids).values_list("place_id", "pk"))
        PlaceSearchResult.objects.bulk_create(
            [PlaceSearchResult(search=record, place_id=pks[pid], rank=rank) for rank, pid in enumerate(place_ids, 1)],
            update_conflicts=True, unique_fields=["search", "place"], update_fields=["rank"],
        )
        new = Place.objects.filter(place_id__in=place_ids, first_search=record).count()
        PlaceSearch.objects.filter(pk=record.pk).update(
            results_found=len(place_ids), results_new=new, results_known=len(place_ids) - new, updated_at=now,
        )
    logger.info("place_search %s (%s): %d found, %d new", record.pk, record, len(place_ids), new)


# --- WF2: deep scan --------------------------------------------------------------------

def _time_zone(offset: int | None) -> str:
    if offset is None:
        return ""
    sign = "+" if offset >= 0 else "-"
    hours, minutes = divmod(abs(int(offset)), 60)
    return f"UTC{sign}{hours:02d}:{minutes:02d}"


def place_deep_scan(*, record: Place) -> None:
    """WF2 hook: Place Details, then upsert the LocalBusiness on place_id.

    The upsert updates facts only: a re-scan never touches the business's
    domain_extraction curation or processing status (B-6); a new business
    arrives with curation New.
    """
    with places_client() as client:
        raw = client.get_details(record.place_id)
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
        "time_zone": _time_zone(facts["utc_offset_minutes"]),
        "business_status": _clip(facts["business_status"], 30),
        "google_maps_uri": _clip(facts["google_maps_uri"], 500),
        "raw": raw,
        "fetched_at": now,
    }
    with transaction.atomic():
        LocalBusiness.objects.bulk_create(
            [LocalBusiness(place_id=record.place_id, source_place=record, **values)],
            update_conflicts=True, unique_fields=["place_id"], update_fields=[*BUSINESS_FACTS, "updated_at"],
        )
        Place.objects.filter(pk=record.pk).update(last_deep_scanned_at=now)


# --- WF3: domain extraction ----------------------------------------------------------------

def _homepage(url: str, kind: str) -> str:
    if kind == SITE_BUILDER:
        return url
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "", "", ""))


def business_domain_extract(*, record: LocalBusiness) -> None:
    """WF3 hook: normalise the website, compute its registrable domain offline, classify it.

    Own sites (and site-builder subdomains) get or create a `pages.Domain`
    (one domain, many businesses); social profiles become the business's
    social links; directories and link shorteners are recorded, not crawled.
    No website (or not a website URL) → Completed with the reason recorded.
    """
    from pages.models import Domain, DomainKind, DomainSource

    website = (record.website or "").strip()
    values: dict = {"domain": None, "website_normalized": ""}
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
    with transaction.atomic():
        if key:
            kind = DomainKind.OWN_SITE if info.kind != SITE_BUILDER else DomainKind.SITE_BUILDER
            Domain.objects.bulk_create(
                [Domain(domain=key, kind=kind, source=DomainSource.DOMAIN_EXTRACTION,
                        homepage_url=_clip(_homepage(info.url, info.kind), 2000))],
                ignore_conflicts=True,
            )
            values["domain"] = Domain.objects.get(domain=key)
        LocalBusiness.objects.filter(pk=record.pk).update(**values, updated_at=timezone.now())


# --- Seed compatibility: the Staging Editor's status endpoint -------------------------------

def place_staging_status_set(*, place_ids, status: str, actor=None, source: str = "api"):
    """`PUT /api/v3/places/staging/status`: set the deep-scan curation status by Google place id.

    Translates place ids to our primary keys and calls
    `curation.services.curation_status_set` (the one status service); unknown
    place ids raise `CurationInputError` listing them and change nothing.
    """
    from curation.services import curation_status_set

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
