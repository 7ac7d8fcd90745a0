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
429 per-minute rate limit (retried here first,     RetryableError       rate_limited
honouring Retry-After)
429 daily quota used up (not retried here;         RetryableError       quota
retry_after = until midnight Pacific time)
5xx (retried here first)                           RetryableError       http_5xx
connection errors (retried here first)             RetryableError       network
timeouts (retried here first)                      RetryableError       timeout
404 NOT_FOUND (place id no longer valid)           PermanentError       not_found
other 4xx (bad request, bad page token…)           PermanentError       http_4xx
a 2xx body that is not a JSON object               RetryableError       parse
=================================================  ===================  ===========
"""
from __future__ import annotations

import datetime as dt
import email.utils
import logging
import random
import time
from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import phonenumbers

from curation.exceptions import ErrorClass, PermanentError, RetryableError

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

# Place Details: addressComponents, formattedAddress, location and types are
# Essentials; displayName, primaryType, businessStatus, googleMapsUri and
# utcOffsetMinutes are Pro; websiteUri, both phone numbers, rating,
# userRatingCount, priceLevel and regularOpeningHours are ENTERPRISE. A deep
# scan exists to get the website and the phone, so it is honestly billed as
# Place Details Enterprise; no Atmosphere field (reviews, serves*, …) and no
# photos are requested.
DETAILS_FIELD_MASK = ",".join([
    "id",                        # Essentials (IDs only)
    "formattedAddress",          # Essentials
    "addressComponents",         # Essentials
    "location",                  # Essentials
    "types",                     # Essentials
    "displayName",               # Pro
    "primaryType",               # Pro
    "businessStatus",            # Pro
    "googleMapsUri",             # Pro
    "utcOffsetMinutes",          # Pro
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


class PlacesClient:
    """A small synchronous client for Places API (New).

    `before_request(kind)` is called before every HTTP request, retries
    included, with kind "search" or "details": the caller counts its daily
    budget there and raises `WorkflowPaused` to stop before anything is sent.

    Retries (at most `max_retries` after the first try) cover 429 rate limits,
    5xx, connection errors and timeouts. A Retry-After header is honoured when
    it is at most `max_retry_after` seconds; a longer one is not slept through
    but raised at once as `RetryableError(retry_after=…)` so that the engine
    re-queues the row instead of blocking a worker. Without the header the
    wait is exponential with full jitter: up to `backoff * 2**n`, capped at
    `max_backoff`.
    """

    def __init__(
        self,
        *,
        base_url: str,
        api_key: str,
        timeout: float = 10.0,
        language: str | None = None,
        region: str | None = None,
        max_retries: int = 3,
        before_request: Callable[[str], None] | None = None,
        backoff: float = 0.5,
        max_backoff: float = 8.0,
        max_retry_after: float = 30.0,
        sleep: Callable[[float], None] = time.sleep,
        transport: httpx.BaseTransport | None = None,
    ):
        if not api_key:
            raise PermanentError("Google Places: no API key configured (set GOOGLE_MAPS_API_KEY)",
                                 error_class=ErrorClass.CONFIG)
        if max_retries < 0:
            raise ValueError("max_retries must be >= 0")
        self.base_url = base_url.rstrip("/")
        self.language = language or None
        self.region = region or None
        self.max_retries = max_retries
        self.before_request = before_request
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.max_retry_after = max_retry_after
        self._sleep = sleep
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
    def search_text(
        self,
        *,
        query: str,
        location_text: str = "",
        latitude: float | None = None,
        longitude: float | None = None,
        radius_m: float | None = None,
        language: str | None = None,
        region: str | None = None,
        max_results: int = MAX_SEARCH_RESULTS,
    ) -> list[dict]:
        """Text Search (New), every page, up to `max_results` (at most 60) raw places.

        The list order is Google's rank. Places repeated across pages are kept
        once, at their first rank. `location_text` is appended as
        "<query> in <location_text>"; latitude/longitude (and an optional
        radius, 0 < r <= 50 000 m) become `locationBias.circle`.
        """
        query = (query or "").strip()
        location_text = (location_text or "").strip()
        if not query and not location_text:
            raise PermanentError("Google Places: empty search (no query and no location)", error_class=ErrorClass.HTTP_4XX)
        if max_results < 1:
            raise ValueError("max_results must be at least 1")
        max_results = min(max_results, MAX_SEARCH_RESULTS)
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
        if latitude is not None:
            if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
                raise ValueError(f"invalid coordinates {latitude}, {longitude}")
            radius = float(radius_m or 0.0)
            if not 0 <= radius <= MAX_BIAS_RADIUS_M:
                raise ValueError(f"radius_m must be between 0 and {MAX_BIAS_RADIUS_M:.0f}, got {radius_m}")
            body["locationBias"] = {"circle": {"center": {"latitude": latitude, "longitude": longitude}, "radius": radius}}
        elif radius_m is not None:
            raise ValueError("radius_m needs latitude and longitude")

        places: list[dict] = []
        seen: set[str] = set()
        token: str | None = None
        while len(places) < max_results:
            page_body = {**body, "pageSize": min(MAX_PAGE_SIZE, max_results - len(places))}
            if token:
                page_body["pageToken"] = token
            data = self._request("search", "POST", "/v1/places:searchText", json=page_body,
                                 field_mask=SEARCH_FIELD_MASK)
            page = data.get("places") or []
            if not isinstance(page, list):
                raise RetryableError("Google Places: unexpected Text Search response ('places' is not a list)",
                                     error_class=ErrorClass.PARSE)
            for place in page:
                place_id = place.get("id") if isinstance(place, dict) else None
                if not place_id or place_id in seen:
                    continue
                seen.add(place_id)
                places.append(place)
                if len(places) >= max_results:
                    break
            token = data.get("nextPageToken")
            if not token or not page:
                break
        return places

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

    # --- transport, retries and errors --------------------------------------------
    def _request(self, kind: str, method: str, path: str, *, field_mask: str, json: Any = None,
                 params: dict | None = None) -> dict:
        url = f"{self.base_url}{path}"
        attempt = 0
        while True:
            if self.before_request is not None:
                self.before_request(kind)
            try:
                response = self._http.request(method, path, json=json, params=params,
                                              headers={"X-Goog-FieldMask": field_mask})
            except httpx.TimeoutException as exc:
                error: RetryableError | PermanentError = RetryableError(
                    f"Google Places: timeout after {self._http.timeout.read}s calling {url} ({type(exc).__name__})",
                    error_class=ErrorClass.TIMEOUT)
            except httpx.TransportError as exc:
                error = RetryableError(f"Google Places: network error calling {url}: {exc or type(exc).__name__}",
                                       error_class=ErrorClass.NETWORK)
            else:
                if response.is_success:
                    return _json_object(response, url)
                error = _error_from_response(response, url)

            if isinstance(error, PermanentError) or error.error_class == ErrorClass.QUOTA:
                raise error
            if attempt >= self.max_retries:
                if attempt:
                    error.message = f"{error.message}; gave up after {attempt + 1} attempts"
                    error.args = (error.message,)
                raise error
            if error.retry_after is not None and error.retry_after > self.max_retry_after:
                raise error  # too long to block a worker: the engine re-queues the row
            wait = error.retry_after if error.retry_after is not None else self._backoff(attempt)
            logger.info("Google Places %s: %s; retrying in %.2fs", kind, error.message, wait)
            self._sleep(wait)
            attempt += 1

    def _backoff(self, attempt: int) -> float:
        return random.uniform(0, min(self.max_backoff, self.backoff * 2**attempt))


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

    from scrapersky.sandbox.places_api import SANDBOX_API_KEY

    base_url = settings.GOOGLE_PLACES_BASE_URL or DEFAULT_BASE_URL
    api_key = settings.GOOGLE_MAPS_API_KEY
    if settings.SANDBOX_ENABLED:
        if base_url.rstrip("/") == DEFAULT_BASE_URL:
            base_url = f"http://127.0.0.1:{settings.SANDBOX_PLACES_PORT}"
            api_key = SANDBOX_API_KEY
        else:
            api_key = api_key or SANDBOX_API_KEY
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


def _street(parts: dict[str, dict], country: str) -> str:
    number, route = _text(parts.get("street_number")), _text(parts.get("route"))
    if not route:
        return _text(parts.get("premise")) or number
    if not number:
        return route
    if country in _NUMBER_AFTER_ROUTE:
        return f"{route}, {number}" if country in _COMMA_BEFORE_NUMBER else f"{route} {number}"
    return f"{number} {route}"


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
    for period in periods:
        opening, closing = period.get("open") or {}, period.get("close")
        day = _int(opening.get("day"))
        if day is None or not 0 <= day <= 6:
            continue
        start = f"{_int(opening.get('hour')) or 0:02d}:{_int(opening.get('minute')) or 0:02d}"
        if closing is None:  # open 24 hours (a single period with no close)
            by_day[_DAYS[day]].append("00:00-24:00")
            continue
        end = f"{_int(closing.get('hour')) or 0:02d}:{_int(closing.get('minute')) or 0:02d}"
        by_day[_DAYS[day]].append(f"{start}-{end}")
    return {
        "weekday_descriptions": list(hours.get("weekdayDescriptions") or []),
        "periods": periods,
        "by_day": by_day,
    }


def parse_place_details(place: dict, default_region: str | None = None) -> dict:
    """A Place Details response as the fields of `places.LocalBusiness`.

    The address is split from `addressComponents`; the phone is kept as
    listed (national) and as E.164, parsed with the place's country (or
    `default_region` when the place has none) and kept only when valid.
    """
    parts = _components(place)
    country = _text(parts.get("country"), short=True).upper() or (default_region or "").upper()
    city = next((_text(parts.get(kind)) for kind in ("locality", "postal_town", "sublocality_level_1",
                                                      "sublocality", "administrative_area_level_3",
                                                      "administrative_area_level_2") if parts.get(kind)), "")
    region = _text(parts.get("administrative_area_level_1"), short=country in _SHORT_REGION)
    phone_national, phone_e164 = _phones(place, country)
    types = [t for t in place.get("types") or [] if isinstance(t, str)]
    primary = place.get("primaryType") or ""
    categories = [t for t in dict.fromkeys(([primary] if primary else []) + types) if t not in _GENERIC_TYPES]
    location = place.get("location") or {}
    price = place.get("priceLevel") or ""
    return {
        "place_id": place.get("id") or str(place.get("name", "")).removeprefix("places/") or None,
        "name": _display_name(place),
        "formatted_address": place.get("formattedAddress") or "",
        "street": _street(parts, country),
        "city": city,
        "region": region,
        "postal_code": _text(parts.get("postal_code")),
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
        "business_status": place.get("businessStatus") or "",
        "google_maps_uri": place.get("googleMapsUri") or "",
    }
