"""Google Places API (New) client: Text Search (WF1) and Place Details (WF2).

Pure code, no models: the workflow hooks call `get_client()`, then store what
`parse_place_summary` / `parse_place_details` return.

Errors are raised as the curation engine's exceptions with specific messages
("Google Places: INVALID_ARGUMENT (API key not valid. Please pass a valid API
key.)") and an error class curators can filter and retry by:

=================================================  ===================  ===========
what happened                                      raised               class
=================================================  ===================  ===========
invalid key, PERMISSION_DENIED, UNAUTHENTICATED,   PermanentError       config
REQUEST_DENIED (billing off, API not enabled)
429 per-minute rate limit (retry_after from        RetryableError       rate_limited
the Retry-After header)
429 daily quota used up (not retried here;         RetryableError       quota
retry_after = until midnight Pacific time)
5xx                                                RetryableError       http_5xx
connection errors                                  RetryableError       network
timeouts                                           RetryableError       timeout
404 NOT_FOUND (place id no longer valid)           PermanentError       not_found
other 4xx (bad request, bad page token…)           PermanentError       http_4xx
a 2xx body that is not a JSON object               RetryableError       parse
=================================================  ===================  ===========

Nothing is retried here: the curation engine is the one retry layer (its
attempts and backoff), so a row never spends more than one billed request per
attempt.
"""
from __future__ import annotations

import datetime as dt
import email.utils
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import phonenumbers

from curation.exceptions import ErrorClass, PermanentError, RetryableError, WorkflowError
from places.pricing import format_usd, price_micros, sku_name, sku_tier

logger = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://places.googleapis.com"
MAX_SEARCH_RESULTS = 60  # Text Search never returns more than 60 places over all pages
MAX_PAGE_SIZE = 20
MAX_BIAS_RADIUS_M = 50_000.0

# --- Field masks: they decide the billing SKU of every call ----------------------
# Google bills a request at the SKU of the most expensive field it asks for
# (Places API (New), SKU split of March 2025: Essentials < Pro < Enterprise <
# Enterprise + Atmosphere). We ask only for what we store, and never for
# photos or reviews (the original paid for both and dropped them, B-22).
#
# Text Search: id/name/nextPageToken alone are "Text Search Essentials (IDs
# Only)"; displayName, formattedAddress, location, types, primaryType,
# businessStatus and googleMapsUri are Pro fields; rating, userRatingCount,
# priceLevel, websiteUri and the phone numbers are ENTERPRISE fields. We
# deliberately pay Text Search Enterprise: the curators' list needs the
# rating and the "has a website / is a social profile / chain" flags to select
# quickly (leadgen-anchors §3.1), and it saves a Details call for every place
# that would be rejected anyway. Dropping the last five fields brings the
# search down to Text Search Pro.
SEARCH_FIELD_MASK = ",".join([
    "places.id",                     # Essentials (IDs only)
    "places.displayName",            # Pro
    "places.formattedAddress",       # Pro
    "places.location",               # Pro
    "places.types",                  # Pro
    "places.primaryType",            # Pro
    "places.businessStatus",         # Pro
    "places.googleMapsUri",          # Pro
    "places.rating",                 # Enterprise
    "places.userRatingCount",        # Enterprise
    "places.priceLevel",             # Enterprise
    "places.websiteUri",             # Enterprise
    "places.internationalPhoneNumber",  # Enterprise
    "nextPageToken",                 # Essentials (IDs only); needed to page
])

# Area lookup for the coverage planner: the first result's viewport. viewport,
# location, displayName, formattedAddress and types are Text Search Pro.
GEOCODE_FIELD_MASK = ",".join([
    "places.id", "places.displayName", "places.formattedAddress", "places.location", "places.viewport",
    "places.types",
])

# Place Details: addressComponents, postalAddress, shortFormattedAddress,
# formattedAddress, location and types are Essentials; movedPlaceId is
# Essentials (IDs Only); displayName, primaryType, businessStatus,
# googleMapsUri, timeZone and utcOffsetMinutes are Pro (timeZone costs nothing
# more than the offset we already asked for); websiteUri, both phone numbers, rating,
# userRatingCount, priceLevel and regularOpeningHours are ENTERPRISE. A deep
# scan exists to get the website and the phone, so it is honestly billed as
# Place Details Enterprise; no Atmosphere field (reviews, serves*, …) and no
# photos are requested.
DETAILS_FIELD_MASK = ",".join([
    "id",                        # Essentials (IDs only)
    "movedPlaceId",              # Essentials (IDs only): where a relocated place went
    "formattedAddress",          # Essentials
    "shortFormattedAddress",     # Essentials: fallback when formattedAddress is missing
    "addressComponents",         # Essentials
    "postalAddress",             # Essentials: fallback when addressComponents are missing
    "location",                  # Essentials
    "types",                     # Essentials
    "displayName",               # Pro
    "primaryType",               # Pro
    "businessStatus",            # Pro
    "googleMapsUri",             # Pro
    "utcOffsetMinutes",          # Pro
    "timeZone",                  # Pro: the IANA zone ({"id": "America/Chicago"}), right all year
    "websiteUri",                # Enterprise
    "nationalPhoneNumber",       # Enterprise
    "internationalPhoneNumber",  # Enterprise
    "rating",                    # Enterprise
    "userRatingCount",           # Enterprise
    "priceLevel",                # Enterprise
    "regularOpeningHours",       # Enterprise
])

_CONFIG_STATUSES = {"PERMISSION_DENIED", "UNAUTHENTICATED", "REQUEST_DENIED"}
_QUOTA_RESET_TZ = "America/Los_Angeles"  # Google resets daily quotas at midnight Pacific time


@dataclass
class SearchOutcome:
    """What a paged Text Search read: the places (Google's rank order) and how the paging ended.

    `error` is set when a page after the first failed: the places of the pages
    before it are kept (`pages` of them) and the caller decides what to do
    with the missing rest. A failure of the first page is raised instead.
    """

    places: list[dict] = field(default_factory=list)
    pages: int = 0
    saturated: bool = False  # Google's 60-result ceiling was reached: there may be more
    failed_page: int | None = None
    error: WorkflowError | None = None

    @property
    def partial_note(self) -> str:
        if self.error is None:
            return ""
        return f"partial: page {self.failed_page} failed ({self.error.message}); kept {len(self.places)} place(s) of {self.pages} page(s)"


class PlacesClient:
    """A small synchronous client for Places API (New). It never retries.

    One retry layer: a failed request is raised at once as the curation
    engine's exception (with `retry_after` from a Retry-After header or the
    daily quota reset) and the engine re-queues the row with backoff. So a row
    spends at most one billed request per attempt and failure, and its
    message says what the one request got.

    `before_request(kind, field_mask)` is called before every HTTP request,
    with kind "search" or "details": the caller counts its daily budgets there
    and raises `WorkflowPaused` to stop before anything is sent. The client
    counts what it sent (`requests_sent`) and its list price
    (`cost_micros`, places.pricing) for the caller to record.
    """

    def __init__(
        self,
        *,
        base_url: str,
        api_key: str,
        timeout: float = 10.0,
        language: str | None = None,
        region: str | None = None,
        before_request: Callable[[str, str], Any] | None = None,
        transport: httpx.BaseTransport | None = None,
    ):
        if not api_key:
            raise PermanentError("Google Places: no API key configured (set GOOGLE_MAPS_API_KEY)",
                                 error_class=ErrorClass.CONFIG)
        self.base_url = base_url.rstrip("/")
        self.language = language or None
        self.region = region or None
        self.before_request = before_request
        self.requests_sent = 0
        self.cost_micros = 0
        self._http = httpx.Client(
            base_url=self.base_url,
            timeout=httpx.Timeout(timeout),
            headers={"X-Goog-Api-Key": api_key, "User-Agent": "ScraperSky/3 (+places)"},
            transport=transport,
        )

    # --- lifecycle -------------------------------------------------------------
    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> PlacesClient:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    # --- endpoints ---------------------------------------------------------------
    def search_body(
        self,
        *,
        query: str,
        location_text: str = "",
        latitude: float | None = None,
        longitude: float | None = None,
        radius_m: float | None = None,
        rectangle: tuple[float, float, float, float] | None = None,
        language: str | None = None,
        region: str | None = None,
    ) -> dict:
        """The Text Search request body (without paging).

        `location_text` is appended as "<query> in <location_text>";
        latitude/longitude (and an optional radius, 0 < r <= 50 000 m) become
        `locationBias.circle`; `rectangle` (south, west, north, east) becomes
        `locationRestriction.rectangle` (results outside are never returned).
        """
        query = (query or "").strip()
        location_text = (location_text or "").strip()
        if not query and not location_text:
            raise PermanentError("Google Places: empty search (no query and no location)", error_class=ErrorClass.HTTP_4XX)
        text = f"{query} in {location_text}" if query and location_text else (query or location_text)
        body: dict[str, Any] = {"textQuery": text}
        language = language or self.language
        region = region or self.region
        if language:
            body["languageCode"] = language
        if region:
            body["regionCode"] = region
        if (latitude is None) != (longitude is None):
            raise ValueError("latitude and longitude go together")
        if latitude is not None and rectangle is not None:
            raise ValueError("a circle bias and a rectangle restriction cannot be combined (Google refuses both)")
        if latitude is not None:
            if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
                raise ValueError(f"invalid coordinates {latitude}, {longitude}")
            radius = float(radius_m or 0.0)
            if not 0 <= radius <= MAX_BIAS_RADIUS_M:
                raise ValueError(f"radius_m must be between 0 and {MAX_BIAS_RADIUS_M:.0f}, got {radius_m}")
            body["locationBias"] = {"circle": {"center": {"latitude": latitude, "longitude": longitude}, "radius": radius}}
        elif radius_m is not None:
            raise ValueError("radius_m needs latitude and longitude")
        if rectangle is not None:
            south, west, north, east = rectangle
            body["locationRestriction"] = {"rectangle": {"low": {"latitude": south, "longitude": west},
                                                         "high": {"latitude": north, "longitude": east}}}
        return body

    def search_pages(self, body: dict, *, max_results: int = MAX_SEARCH_RESULTS) -> SearchOutcome:
        """Every page of one Text Search, up to `max_results` (at most 60) raw places.

        Places repeated across pages are kept once, at their first rank. A
        failure of page 1 is raised; a failure of a later page ends the paging
        with the places read so far and the error in the outcome.
        """
        if max_results < 1:
            raise ValueError("max_results must be at least 1")
        max_results = min(max_results, MAX_SEARCH_RESULTS)
        outcome = SearchOutcome()
        seen: set[str] = set()
        token: str | None = None
        while len(outcome.places) < max_results:
            page_body = {**body, "pageSize": min(MAX_PAGE_SIZE, max_results - len(outcome.places))}
            if token:
                page_body["pageToken"] = token
            try:
                data = self._request("search", "POST", "/v1/places:searchText", json=page_body,
                                     field_mask=SEARCH_FIELD_MASK)
                page = data.get("places") or []
                if not isinstance(page, list):
                    raise RetryableError("Google Places: unexpected Text Search response ('places' is not a list)",
                                         error_class=ErrorClass.PARSE)
            except WorkflowError as exc:
                if outcome.pages == 0:
                    raise
                outcome.failed_page, outcome.error = outcome.pages + 1, exc
                return outcome
            outcome.pages += 1
            for place in page:
                place_id = place.get("id") if isinstance(place, dict) else None
                if not place_id or place_id in seen:
                    continue
                seen.add(place_id)
                outcome.places.append(place)
                if len(outcome.places) >= max_results:
                    break
            token = data.get("nextPageToken")
            if not token or not page:
                break
        outcome.saturated = len(outcome.places) >= MAX_SEARCH_RESULTS
        return outcome

    def search_text(self, *, max_results: int = MAX_SEARCH_RESULTS, **params: Any) -> list[dict]:
        """Text Search (New), every page: the raw places, Google's rank order (see `search_body`).

        A failed later page is raised like the first (use `search_pages` to keep partial results).
        """
        outcome = self.search_pages(self.search_body(**params), max_results=max_results)
        if outcome.error is not None:
            raise outcome.error
        return outcome.places

    def geocode(self, text: str, *, language: str | None = None, region: str | None = None) -> dict:
        """The area `text` names ("Austin, TX"), as Text Search's first result: id, name, location, viewport.

        One request (Text Search Pro). Raises `PermanentError` (not_found) when
        Google knows no such place or it has no viewport to tile.
        """
        text = (text or "").strip()
        if not text:
            raise PermanentError("Google Places: empty area name", error_class=ErrorClass.HTTP_4XX)
        body = {"textQuery": text, "pageSize": 1}
        if language or self.language:
            body["languageCode"] = language or self.language
        if region or self.region:
            body["regionCode"] = region or self.region
        data = self._request("search", "POST", "/v1/places:searchText", json=body, field_mask=GEOCODE_FIELD_MASK)
        places = [p for p in data.get("places") or [] if isinstance(p, dict)]
        if not places:
            raise PermanentError(f"Google Places: no place called {text!r} to search in", error_class=ErrorClass.NOT_FOUND)
        place = places[0]
        viewport = place.get("viewport") or {}
        try:
            low, high = viewport["low"], viewport["high"]
            bounds = (float(low["latitude"]), float(low["longitude"]), float(high["latitude"]), float(high["longitude"]))
        except (KeyError, TypeError, ValueError):
            raise PermanentError(f"Google Places: {text!r} has no viewport (not an area); give a bounding box instead",
                                 error_class=ErrorClass.NOT_FOUND) from None
        return {"place_id": place.get("id") or "", "name": _display_name(place),
                "formatted_address": place.get("formattedAddress") or "", "bounds": bounds}

    def get_details(self, place_id: str) -> dict:
        """Place Details (New) of one place, with DETAILS_FIELD_MASK."""
        place_id = (place_id or "").strip()
        if not place_id or "/" in place_id:
            raise PermanentError(f"Google Places: invalid place id {place_id!r}", error_class=ErrorClass.NOT_FOUND)
        params = {}
        if self.language:
            params["languageCode"] = self.language
        if self.region:
            params["regionCode"] = self.region
        return self._request("details", "GET", f"/v1/places/{place_id}", params=params or None,
                             field_mask=DETAILS_FIELD_MASK)

    # --- transport and errors -----------------------------------------------------
    def _request(self, kind: str, method: str, path: str, *, field_mask: str, json: Any = None,
                 params: dict | None = None) -> dict:
        url = f"{self.base_url}{path}"
        if self.before_request is not None:
            self.before_request(kind, field_mask)
        self.requests_sent += 1
        self.cost_micros += price_micros(kind, field_mask)
        try:
            response = self._http.request(method, path, json=json, params=params,
                                          headers={"X-Goog-FieldMask": field_mask})
        except httpx.TimeoutException as exc:
            raise RetryableError(
                f"Google Places: timeout after {self._http.timeout.read}s calling {url} ({type(exc).__name__})",
                error_class=ErrorClass.TIMEOUT) from None
        except httpx.TransportError as exc:
            raise RetryableError(f"Google Places: network error calling {url}: {exc or type(exc).__name__}",
                                 error_class=ErrorClass.NETWORK) from None
        if response.is_success:
            return _json_object(response, url)
        raise _error_from_response(response, url)


def _json_object(response: httpx.Response, url: str) -> dict:
    try:
        data = response.json()
    except ValueError:
        raise RetryableError(f"Google Places: invalid JSON in HTTP {response.status_code} from {url}",
                             error_class=ErrorClass.PARSE) from None
    if not isinstance(data, dict):
        raise RetryableError(f"Google Places: expected a JSON object from {url}, got {type(data).__name__}",
                             error_class=ErrorClass.PARSE)
    return data


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("Retry-After")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return max(0.0, (when - dt.datetime.now(dt.UTC)).total_seconds())


def seconds_until_quota_reset(now: dt.datetime | None = None) -> float:
    """Seconds until the next midnight Pacific time, when Google resets daily quotas."""
    tz = ZoneInfo(_QUOTA_RESET_TZ)
    now = (now or dt.datetime.now(dt.UTC)).astimezone(tz)
    midnight = dt.datetime.combine(now.date() + dt.timedelta(days=1), dt.time(0), tzinfo=tz)
    return max(1.0, (midnight - now).total_seconds())


def _error_from_response(response: httpx.Response, url: str) -> RetryableError | PermanentError:
    code = response.status_code
    status, message, reasons, limits = "", "", [], []
    try:
        error = response.json().get("error") or {}
    except (ValueError, AttributeError):
        error = {}
    if isinstance(error, dict):
        status = str(error.get("status") or "")
        message = str(error.get("message") or "")
        for detail in error.get("details") or []:
            if isinstance(detail, dict):
                reasons.append(str(detail.get("reason") or ""))
                limits.append(str((detail.get("metadata") or {}).get("quota_limit") or ""))
    if status or message:
        text = f"Google Places: {status or f'HTTP {code}'} ({message})" if message else f"Google Places: {status}"
    else:
        text = f"Google Places: HTTP {code} from {url}"

    if (code in (401, 403) or status in _CONFIG_STATUSES or "API_KEY_INVALID" in reasons
            or "API key" in message):
        return PermanentError(text, error_class=ErrorClass.CONFIG)
    if code == 429 or status == "RESOURCE_EXHAUSTED":
        daily = any("PerDay" in limit for limit in limits) or "per day" in message.lower()
        if daily:
            return RetryableError(f"{text}; daily quota used up", error_class=ErrorClass.QUOTA,
                                  retry_after=seconds_until_quota_reset())
        return RetryableError(text, error_class=ErrorClass.RATE_LIMITED, retry_after=_retry_after(response))
    if code >= 500:
        return RetryableError(text, error_class=ErrorClass.HTTP_5XX, retry_after=_retry_after(response))
    if code == 404 or status == "NOT_FOUND":
        return PermanentError(text, error_class=ErrorClass.NOT_FOUND)
    return PermanentError(text, error_class=ErrorClass.HTTP_4XX)


def get_client(**overrides: Any) -> PlacesClient:
    """A client configured from settings (scrapersky/components/places.py).

    With the sandbox enabled it talks to the local Places sandbox with its
    key, unless GOOGLE_PLACES_BASE_URL points somewhere else.
    """
    from django.conf import settings

    base_url = settings.GOOGLE_PLACES_BASE_URL or DEFAULT_BASE_URL
    api_key = settings.GOOGLE_MAPS_API_KEY
    if settings.SANDBOX_ENABLED:
        if base_url.rstrip("/") == DEFAULT_BASE_URL:
            base_url = f"http://127.0.0.1:{settings.SANDBOX_PLACES_PORT}"
            api_key = settings.SANDBOX_PLACES_API_KEY
        else:
            api_key = api_key or settings.SANDBOX_PLACES_API_KEY
    options: dict[str, Any] = {
        "base_url": base_url,
        "api_key": api_key,
        "timeout": float(settings.GOOGLE_PLACES_TIMEOUT),
        "language": settings.GOOGLE_PLACES_LANGUAGE or None,
        "region": settings.GOOGLE_PLACES_REGION or None,
    }
    options.update(overrides)
    return PlacesClient(**options)


# --- Parsing: raw Google place → the values our models store ---------------------
_PRICE_LEVELS = {
    "PRICE_LEVEL_FREE": 0,
    "PRICE_LEVEL_INEXPENSIVE": 1,
    "PRICE_LEVEL_MODERATE": 2,
    "PRICE_LEVEL_EXPENSIVE": 3,
    "PRICE_LEVEL_VERY_EXPENSIVE": 4,
}
_GENERIC_TYPES = {"point_of_interest", "establishment"}
# Countries where the house number follows the street name ("Hauptstraße 12"); with a comma for some.
_NUMBER_AFTER_ROUTE = {"DE", "AT", "CH", "NL", "BE", "DK", "NO", "SE", "FI", "PL", "CZ", "SK", "HU", "HR", "SI",
                       "IT", "ES", "PT", "BR", "AR", "MX", "CL", "CO", "TR", "GR", "IS", "EE", "LV", "LT"}
_COMMA_BEFORE_NUMBER = {"ES", "IT", "PT", "BR", "AR", "MX", "CL", "CO"}
# Where the short form of the first-level region is the usual one (TX, ON, NSW).
_SHORT_REGION = {"US", "CA", "AU", "BR", "MX", "IN", "MY"}
_DAYS = ["sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday"]


def _display_name(place: dict) -> str:
    name = place.get("displayName")
    if isinstance(name, dict):
        return str(name.get("text") or "")
    return str(name or "")


def _float(value: Any) -> float | None:
    try:
        return None if value is None else float(value)
    except (TypeError, ValueError):
        return None


def _int(value: Any) -> int | None:
    try:
        return None if value is None else int(value)
    except (TypeError, ValueError):
        return None


def parse_place_summary(place: dict) -> dict:
    """A Text Search result as the fields of `places.Place` (missing values are None)."""
    location = place.get("location") or {}
    return {
        "place_id": place.get("id") or str(place.get("name", "")).removeprefix("places/") or None,
        "name": _display_name(place),
        "formatted_address": place.get("formattedAddress") or "",
        "types": list(place.get("types") or []),
        "primary_type": place.get("primaryType") or "",
        "latitude": _float(location.get("latitude")),
        "longitude": _float(location.get("longitude")),
        "rating": _float(place.get("rating")),
        "user_rating_count": _int(place.get("userRatingCount")),
        "price_level": _PRICE_LEVELS.get(place.get("priceLevel") or ""),
        "business_status": place.get("businessStatus") or "",
        "website": place.get("websiteUri") or "",
        "phone": place.get("internationalPhoneNumber") or place.get("nationalPhoneNumber") or "",
        "google_maps_uri": place.get("googleMapsUri") or "",
    }


def _components(place: dict) -> dict[str, dict]:
    """First address component of each type."""
    by_type: dict[str, dict] = {}
    for component in place.get("addressComponents") or []:
        if not isinstance(component, dict):
            continue
        for kind in component.get("types") or []:
            by_type.setdefault(kind, component)
    return by_type


def _text(component: dict | None, short: bool = False) -> str:
    if not component:
        return ""
    if short:
        return str(component.get("shortText") or component.get("longText") or "")
    return str(component.get("longText") or component.get("shortText") or "")


# Where the unit (subpremise) goes before the civic number: "5/123 George St" (AU, NZ), "200-123 Main St" (CA).
_UNIT_SLASH = {"AU", "NZ"}
_UNIT_DASH = {"CA"}


def _street(parts: dict[str, dict], country: str) -> str:
    """Street line from the components: number, route and the unit (subpremise) in the country's order."""
    number, route = _text(parts.get("street_number")), _text(parts.get("route"))
    unit = _text(parts.get("subpremise"))
    if not route:
        line = _text(parts.get("premise")) or number
        return f"{unit}/{line}" if unit and line and country in _UNIT_SLASH else (f"{line} {unit}".strip() if unit else line)
    if not number:
        return f"{route}, {unit}" if unit else route
    if country in _NUMBER_AFTER_ROUTE:
        street = f"{route}, {number}" if country in _COMMA_BEFORE_NUMBER else f"{route} {number}"
        return f"{street}, {unit}" if unit else street
    if not unit:
        return f"{number} {route}"
    if country in _UNIT_SLASH:
        return f"{unit}/{number} {route}"
    if country in _UNIT_DASH:
        return f"{unit}-{number} {route}"
    if country == "US":
        return f"{number} {route} #{unit}" if " " not in unit else f"{number} {route} {unit}"
    return f"{unit}, {number} {route}"


def _phones(place: dict, country: str) -> tuple[str, str]:
    national = str(place.get("nationalPhoneNumber") or "")
    international = str(place.get("internationalPhoneNumber") or "")
    for raw, region in ((international, None), (national, country or None)):
        if not raw:
            continue
        try:
            number = phonenumbers.parse(raw, region)
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_valid_number(number):
            if not national:
                national = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
            return national, phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    return national or international, ""


def _opening_hours(hours: Any) -> dict | None:
    if not isinstance(hours, dict):
        return None
    periods = [p for p in hours.get("periods") or [] if isinstance(p, dict)]
    by_day: dict[str, list[str]] = {day: [] for day in _DAYS[1:] + _DAYS[:1]}
    # Google's documented always-open shape: one period opening Sunday 00:00, no close.
    if len(periods) == 1 and periods[0].get("close") is None:
        opening = periods[0].get("open") or {}
        if (_int(opening.get("day")) or 0) == 0 and not _int(opening.get("hour")) and not _int(opening.get("minute")):
            return {
                "weekday_descriptions": list(hours.get("weekdayDescriptions") or []),
                "periods": periods,
                "by_day": {day: ["00:00-24:00"] for day in by_day},
                "always_open": True,
            }
    for period in periods:
        opening, closing = period.get("open") or {}, period.get("close")
        day = _int(opening.get("day"))
        if day is None or not 0 <= day <= 6:
            continue
        start = f"{_int(opening.get('hour')) or 0:02d}:{_int(opening.get('minute')) or 0:02d}"
        if closing is None:
            by_day[_DAYS[day]].append(f"{start}-24:00")
            continue
        end = f"{_int(closing.get('hour')) or 0:02d}:{_int(closing.get('minute')) or 0:02d}"
        by_day[_DAYS[day]].append(f"{start}-{end}")
    return {
        "weekday_descriptions": list(hours.get("weekdayDescriptions") or []),
        "periods": periods,
        "by_day": by_day,
    }


def _postal_address(place: dict) -> dict:
    """`postalAddress` (google.type.PostalAddress) as our address fields; empty strings when missing."""
    postal = place.get("postalAddress")
    if not isinstance(postal, dict):
        return {}
    lines = [str(line) for line in postal.get("addressLines") or [] if line]
    return {
        "street": lines[0] if lines else "",
        "city": str(postal.get("locality") or postal.get("sublocality") or ""),
        "region": str(postal.get("administrativeArea") or ""),
        "postal_code": str(postal.get("postalCode") or ""),
        "country_code": str(postal.get("regionCode") or "").upper(),
    }


def _time_zone(place: dict) -> str:
    zone = place.get("timeZone")
    if isinstance(zone, dict):
        return str(zone.get("id") or "")
    return ""


def parse_place_details(place: dict, default_region: str | None = None) -> dict:
    """A Place Details response as the fields of `places.LocalBusiness`.

    The address is split from `addressComponents` (street with its unit),
    falling back to `postalAddress` field by field, and the address line to
    `shortFormattedAddress`. The country is only what Google sent (never
    invented from `default_region`, which is just the hint for reading a
    national phone number). The phone is kept as listed (national) and as
    E.164, kept only when valid. The time zone is Google's IANA `timeZone`;
    the UTC offset is kept beside it. `moved_place_id` is where a relocated
    (CLOSED_PERMANENTLY) place went.
    """
    parts = _components(place)
    postal = _postal_address(place)
    country = _text(parts.get("country"), short=True).upper() or postal.get("country_code", "")
    city = next((_text(parts.get(kind)) for kind in ("locality", "postal_town", "sublocality_level_1",
                                                      "sublocality", "administrative_area_level_3",
                                                      "administrative_area_level_2") if parts.get(kind)), "")
    region = _text(parts.get("administrative_area_level_1"), short=country in _SHORT_REGION)
    phone_national, phone_e164 = _phones(place, country or (default_region or "").upper())
    types = [t for t in place.get("types") or [] if isinstance(t, str)]
    primary = place.get("primaryType") or ""
    categories = [t for t in dict.fromkeys(([primary] if primary else []) + types) if t not in _GENERIC_TYPES]
    location = place.get("location") or {}
    price = place.get("priceLevel") or ""
    moved = str(place.get("movedPlaceId") or str(place.get("movedPlace") or "").removeprefix("places/") or "")
    return {
        "place_id": place.get("id") or str(place.get("name", "")).removeprefix("places/") or None,
        "name": _display_name(place),
        "formatted_address": place.get("formattedAddress") or place.get("shortFormattedAddress") or "",
        "street": _street(parts, country) or postal.get("street", ""),
        "city": city or postal.get("city", ""),
        "region": region or postal.get("region", ""),
        "postal_code": _text(parts.get("postal_code")) or postal.get("postal_code", ""),
        "country_code": country,
        "phone_national": phone_national,
        "phone_e164": phone_e164,
        "website": place.get("websiteUri") or "",
        "categories": categories,
        "rating": _float(place.get("rating")),
        "reviews_count": _int(place.get("userRatingCount")),
        "price_level": _PRICE_LEVELS.get(price),
        "price_text": "$" * _PRICE_LEVELS[price] if _PRICE_LEVELS.get(price) else ("Free" if price == "PRICE_LEVEL_FREE" else ""),
        "opening_hours": _opening_hours(place.get("regularOpeningHours")),
        "latitude": _float(location.get("latitude")),
        "longitude": _float(location.get("longitude")),
        "utc_offset_minutes": _int(place.get("utcOffsetMinutes")),
        "time_zone": _time_zone(place),
        "moved_place_id": moved,
        "business_status": place.get("businessStatus") or "",
        "google_maps_uri": place.get("googleMapsUri") or "",
    }


def estimate_cost(*, search_requests: int = 0, details_requests: int = 0) -> dict:
    """Cost of that many requests with our field masks, for the "before you run" pages (prices: places.pricing)."""
    search_each = price_micros("search", SEARCH_FIELD_MASK)
    details_each = price_micros("details", DETAILS_FIELD_MASK)
    total = search_requests * search_each + details_requests * details_each
    return {
        "search_requests": search_requests,
        "details_requests": details_requests,
        "search_sku": sku_name("search", sku_tier("search", SEARCH_FIELD_MASK)),
        "details_sku": sku_name("details", sku_tier("details", DETAILS_FIELD_MASK)),
        "search_each_micros": search_each,
        "details_each_micros": details_each,
        "total_micros": total,
        "total": format_usd(total),
    }
