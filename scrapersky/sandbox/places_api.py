"""A local stand-in for Google Places API (New), speaking its real wire format.

`make_app()` returns a WSGI app serving the fictional businesses of
`data/places.json` (see `data/generate_places.py`), the dense city of
`data/dense_city.json` (1,200 dentists in "Quillhaven, OR", for the coverage
planner) and one locality (with Google's `viewport`) per city
(`data/generate_dense_city.py`):

- ``POST /v1/places:searchText`` — JSON body with ``textQuery`` (required),
  ``pageSize`` (default 20, values above 20 are coerced to 20; the deprecated
  ``maxResultCount`` is read the same way), ``pageToken``, ``languageCode``,
  ``regionCode``, ``includedType``, ``locationBias.circle`` ({center:
  {latitude, longitude}, radius}) and ``locationRestriction.rectangle``
  ({low: {latitude, longitude}, high: {…}}: only places inside, boundary
  included; both at once is Google's 400). Unknown body fields are rejected as
  Google does. Returns ``{"places": [...], "nextPageToken": "..."}``, at most 60
  places over all pages; no match returns ``{}``. When paging, every parameter
  except ``pageToken``/``pageSize`` must equal the first request's.
- ``GET /v1/places/{placeId}`` — Place Details; an unknown id is Google's
  404 ``NOT_FOUND`` error.

Matching (deterministic, a simplification of Google's): the query is split
into words, filler words ("in", "near", "the", …) are dropped, and every
remaining word must match the place's category (with synonyms in English,
German and Spanish: "dentist", "dental", "zahnarzt", "coffee"…), its city,
region, country, postal code or a word of its name. "dentist in Austin, TX"
has more than 60 matches. A query naming a locality ("Quillhaven, OR")
returns the locality first, as Google does. Results are ordered by prominence (rating weighted
by the number of ratings), then id. A ``locationBias`` circle with a radius
keeps only places within the radius; ``includedType`` keeps only places of
that type.

Headers (or the ``key`` / ``fields`` query parameters, as Google accepts):

- ``X-Goog-Api-Key`` — required; ``SANDBOX_API_KEY`` ("sandbox-key") works.
  Missing → 403 PERMISSION_DENIED; any other unknown key → 400
  INVALID_ARGUMENT / API_KEY_INVALID, byte-for-byte Google's error shape.
- ``X-Goog-FieldMask`` — required (400 INVALID_ARGUMENT without it) and
  honoured: only the masked fields are returned. Search masks use
  ``places.<field>`` paths (nested ``places.displayName.text`` works too) plus
  ``nextPageToken`` (as with Google, the token is only returned when masked);
  Details masks use bare field names. ``*`` means everything. An unknown field
  is a 400 INVALID_ARGUMENT, as with Google.

Test hooks — special API keys that force the failures a client must handle:

===============================  ===================================================
``sandbox-key-ratelimited``       429 RESOURCE_EXHAUSTED (per-minute quota message),
                                  ``Retry-After: 1``, on every request
``sandbox-key-ratelimited-once``  the same 429 on the first request of each distinct
                                  request (method, path, body), then success
``sandbox-key-quota``             429 RESOURCE_EXHAUSTED with a per-day quota message
                                  (no Retry-After), always
``sandbox-key-flaky``             503 UNAVAILABLE on the first request of each distinct
                                  request, then success
``sandbox-key-500``               500 INTERNAL, always
``sandbox-key-denied``            403 PERMISSION_DENIED (API not enabled), always
``sandbox-key-badjson``           200 with a body that is not JSON
``sandbox-key-slow``              sleeps ``slow_seconds`` (``make_app`` argument,
                                  default 2 s) and then answers normally
``sandbox-key-later-pages-fail``  503 UNAVAILABLE on every Text Search request with a
                                  ``pageToken`` (page 2 onwards); first pages succeed
===============================  ===================================================

The app records every request it receives in ``app.request_log`` (method,
path, api key, field mask, JSON body) so that tests can count HTTP calls.

Run it alone: ``python -m scrapersky.sandbox.places_api [port]`` (default 8101).
"""
from __future__ import annotations

import base64
import hashlib
import json
import math
import re
import sys
import threading
import time
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote

SANDBOX_API_KEY = "sandbox-key"
KEY_RATELIMITED = "sandbox-key-ratelimited"
KEY_RATELIMITED_ONCE = "sandbox-key-ratelimited-once"
KEY_QUOTA = "sandbox-key-quota"
KEY_FLAKY = "sandbox-key-flaky"
KEY_500 = "sandbox-key-500"
KEY_DENIED = "sandbox-key-denied"
KEY_BADJSON = "sandbox-key-badjson"
KEY_SLOW = "sandbox-key-slow"
KEY_LATER_PAGES_FAIL = "sandbox-key-later-pages-fail"
VALID_KEYS = frozenset({
    SANDBOX_API_KEY, KEY_RATELIMITED, KEY_RATELIMITED_ONCE, KEY_QUOTA, KEY_FLAKY, KEY_500,
    KEY_DENIED, KEY_BADJSON, KEY_SLOW, KEY_LATER_PAGES_FAIL,
})

DATASET_PATH = Path(__file__).parent / "data" / "places.json"
DENSE_CITY_PATH = Path(__file__).parent / "data" / "dense_city.json"
MAX_PAGE_SIZE = 20
MAX_RESULTS = 60  # Google's ceiling for Text Search, over all pages

# Every top-level field of a Place the sandbox knows (a subset of Google's; all the dataset holds).
PLACE_FIELDS = frozenset({
    "name", "id", "displayName", "types", "primaryType", "formattedAddress", "addressComponents",
    "location", "rating", "userRatingCount", "businessStatus", "priceLevel", "websiteUri",
    "nationalPhoneNumber", "internationalPhoneNumber", "regularOpeningHours", "utcOffsetMinutes",
    "googleMapsUri", "viewport", "timeZone", "postalAddress", "shortFormattedAddress", "movedPlaceId", "movedPlace",
    # Fields Google has and the dataset leaves empty: accepted in a mask, never returned.
    "shortFormattedAddress", "viewport", "plusCode", "photos", "reviews", "currentOpeningHours",
    "editorialSummary", "primaryTypeDisplayName", "iconMaskBaseUri", "iconBackgroundColor",
    "adrFormatAddress", "attributions", "postalAddress", "priceRange", "accessibilityOptions",
})
SEARCH_BODY_FIELDS = frozenset({
    "textQuery", "pageSize", "maxResultCount", "pageToken", "languageCode", "regionCode",
    "includedType", "locationBias", "locationRestriction", "openNow", "minRating", "priceLevels",
    "rankPreference", "strictTypeFiltering", "includePureServiceAreaBusinesses",
})

# Words of a query that say nothing about what or where.
STOPWORDS = frozenset({
    "in", "near", "nearby", "at", "the", "a", "an", "of", "and", "me", "around", "best", "top", "shop",
    "shops", "store", "stores", "service", "services", "company", "companies", "local", "de", "en", "la",
    "el", "los", "las", "del", "und", "im", "der", "die", "das", "in", "bei",
})
SYNONYMS = {
    "dentist": ["dentist", "dental", "dentistry", "zahnarzt", "zahnarztpraxis", "zahnarzte", "dentista", "clinica", "orthodontist"],
    "plumber": ["plumber", "plumbing", "drain", "klempner", "sanitar", "installateur", "fontanero", "fontaneria"],
    "cafe": ["cafe", "coffee", "espresso", "kaffee", "cafeteria", "coffeehouse"],
    "lawyer": ["lawyer", "attorney", "solicitor", "law", "legal", "anwalt", "rechtsanwalt", "rechtsanwalte", "abogado", "abogados"],
    "bakery": ["bakery", "baker", "bakehouse", "backerei", "baeckerei", "panaderia", "pastry"],
    "gym": ["gym", "fitness", "fitnessstudio", "gimnasio", "health club"],
    "florist": ["florist", "flower", "flowers", "blumen", "floristeria", "floreria"],
    "electrician": ["electrician", "electrical", "electric", "elektriker", "elektro", "electricista", "electricidad"],
}
KNOWN_TYPES = frozenset(SYNONYMS) | {"health", "food", "store", "restaurant", "point_of_interest", "establishment"}
COUNTRY_WORDS = {
    "US": ["usa", "us", "united", "states", "america"],
    "GB": ["uk", "gb", "united", "kingdom", "britain", "great", "england"],
    "DE": ["germany", "deutschland", "de"],
    "ES": ["spain", "espana", "es"],
    "CA": ["canada", "ca"],
    "AU": ["australia", "au"],
}


def _fold(text: str) -> str:
    """Lower-case and strip accents: "Bäckerei" → "backerei", "Café" → "cafe"."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", _fold(text))


def _singular(word: str) -> str:
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


def _place_words(place: dict) -> frozenset[str]:
    words: set[str] = set()
    for kind in place.get("types", []):
        words.update(_words(kind.replace("_", " ")))
        for synonym in SYNONYMS.get(kind, []):
            words.update(_words(synonym))
    words.update(_words(place.get("displayName", {}).get("text", "")))
    for component in place.get("addressComponents", []):
        if {"street_number", "route"} & set(component.get("types", [])):
            continue
        words.update(_words(component.get("longText", "")))
        words.update(_words(component.get("shortText", "")))
        if "country" in component.get("types", []):
            words.update(COUNTRY_WORDS.get(component.get("shortText", ""), []))
    return frozenset(words | {_singular(w) for w in words})


def _distance_m(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    """Great-circle distance in metres (haversine)."""
    r = 6_371_000.0
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lng2 - lng1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * r * math.asin(math.sqrt(a))


def _prominence(place: dict) -> float:
    return float(place.get("rating", 0.0)) * math.log10(1 + int(place.get("userRatingCount", 0)))


class ApiError(Exception):
    """A Google-shaped error response."""

    def __init__(self, code: int, status: str, message: str, *, details: list | None = None,
                 headers: list[tuple[str, str]] | None = None):
        super().__init__(message)
        self.code, self.status, self.message = code, status, message
        self.details = details
        self.headers = headers or []

    def body(self) -> dict:
        error: dict[str, Any] = {"code": self.code, "message": self.message, "status": self.status}
        if self.details is not None:
            error["details"] = self.details
        return {"error": error}


def _error_info(reason: str, **metadata: str) -> list[dict]:
    return [{
        "@type": "type.googleapis.com/google.rpc.ErrorInfo",
        "reason": reason,
        "domain": "googleapis.com",
        "metadata": {"service": "places.googleapis.com", **metadata},
    }]


def invalid_key_error() -> ApiError:
    return ApiError(400, "INVALID_ARGUMENT", "API key not valid. Please pass a valid API key.",
                    details=_error_info("API_KEY_INVALID"))


def _invalid(message: str) -> ApiError:
    return ApiError(400, "INVALID_ARGUMENT", message)


_MISSING_MASK = (
    "FieldMask is a required parameter. See https://cloud.google.com/apis/docs/system-parameters on how "
    "to provide it. As an example, you can set the header 'X-Goog-FieldMask' to value 'places.displayName', "
    "'places.id' to ask for the display name and the ID of a place. You can also set the value to '*' in "
    "manual testing to get all the available response fields."
)


def _parse_mask(raw: str) -> list[list[str]]:
    return [path.strip().split(".") for path in raw.split(",") if path.strip()]


def _project(value: Any, paths: list[list[str]]) -> Any:
    """Keep only the masked paths of a JSON object (`[]` as a path means everything)."""
    if any(not path or path == ["*"] for path in paths):
        return value
    if isinstance(value, list):
        return [_project(item, paths) for item in value]
    if not isinstance(value, dict):
        return value
    out: dict[str, Any] = {}
    heads: dict[str, list[list[str]]] = {}
    for path in paths:
        heads.setdefault(path[0], []).append(path[1:])
    for head, rests in heads.items():
        if head in value:
            out[head] = _project(value[head], rests)
    return out


def _check_place_paths(paths: list[list[str]], prefix: str) -> None:
    for path in paths:
        if path == ["*"]:
            continue
        if path[0] not in PLACE_FIELDS:
            dotted = ".".join(path)
            raise _invalid(f"Error expanding 'fields' parameter. Cannot find matching fields for path '{prefix}{dotted}'.")


@dataclass(frozen=True)
class RequestRecord:
    method: str
    path: str
    api_key: str | None
    field_mask: str | None
    body: Any


class PlacesSandbox:
    """The WSGI app (see the module docstring)."""

    def __init__(self, places: list[dict], *, localities: list[dict] | None = None, slow_seconds: float = 2.0):
        self.places = places
        self.localities = list(localities or [])
        self.by_id = {place["id"]: place for place in [*places, *self.localities]}
        self.words = {place["id"]: _place_words(place) for place in [*places, *self.localities]}
        self.slow_seconds = slow_seconds
        self.request_log: list[RequestRecord] = []
        self._seen: set[str] = set()
        self._lock = threading.Lock()

    # --- WSGI -------------------------------------------------------------------
    def __call__(self, environ, start_response):
        method = environ.get("REQUEST_METHOD", "GET").upper()
        path = unquote(environ.get("PATH_INFO", "") or "/")
        query = parse_qs(environ.get("QUERY_STRING", ""))
        raw_body = b""
        if method == "POST":
            length = int(environ.get("CONTENT_LENGTH") or 0)
            raw_body = environ["wsgi.input"].read(length) if length else b""
        api_key = environ.get("HTTP_X_GOOG_API_KEY") or (query.get("key") or [None])[0]
        mask = environ.get("HTTP_X_GOOG_FIELDMASK") or (query.get("fields") or query.get("$fields") or [None])[0]
        try:
            body_for_log: Any = json.loads(raw_body) if raw_body else None
        except ValueError:
            body_for_log = raw_body.decode("utf-8", "replace")
        with self._lock:
            self.request_log.append(RequestRecord(method, path, api_key, mask, body_for_log))
        try:
            status, payload, headers = self._dispatch(method, path, query, raw_body, api_key, mask)
        except ApiError as exc:
            status, payload, headers = exc.code, exc.body(), exc.headers
        if isinstance(payload, bytes):
            data = payload
        else:
            data = json.dumps(payload, ensure_ascii=False, indent=2).encode("utf-8")
        reason = {200: "OK", 400: "Bad Request", 403: "Forbidden", 404: "Not Found", 429: "Too Many Requests",
                  500: "Internal Server Error", 503: "Service Unavailable"}.get(status, "Error")
        start_response(f"{status} {reason}", [
            ("Content-Type", "application/json; charset=UTF-8"),
            ("Content-Length", str(len(data))),
            *headers,
        ])
        return [data]

    # --- routing and hooks ---------------------------------------------------------
    def _dispatch(self, method, path, query, raw_body, api_key, mask):
        if path == "/v1/places:searchText":
            if method != "POST":
                raise ApiError(404, "NOT_FOUND", f"Method not found: {method} {path}.")
            kind = "search"
        elif path.startswith("/v1/places/") and len(path) > len("/v1/places/"):
            if method != "GET":
                raise ApiError(404, "NOT_FOUND", f"Method not found: {method} {path}.")
            kind = "details"
        else:
            raise ApiError(404, "NOT_FOUND", f"The requested URL {path} was not found on this server.")

        self._check_key_and_hooks(api_key, method, path, query, raw_body, kind)
        if not mask:
            raise _invalid(_MISSING_MASK)
        if kind == "search":
            return 200, self._search(raw_body, _parse_mask(mask)), []
        return 200, self._details(path[len("/v1/places/"):], _parse_mask(mask)), []

    def _first_time(self, api_key, method, path, query, raw_body) -> bool:
        fingerprint = hashlib.sha256(repr((api_key, method, path, sorted(query.items()), raw_body)).encode()).hexdigest()
        with self._lock:
            if fingerprint in self._seen:
                return False
            self._seen.add(fingerprint)
            return True

    def _check_key_and_hooks(self, api_key, method, path, query, raw_body, kind) -> None:
        if not api_key:
            raise ApiError(403, "PERMISSION_DENIED",
                           "Method doesn't allow unregistered callers (callers without established identity). "
                           "Please use API Key or other form of API consumer identity to call this API.")
        if api_key not in VALID_KEYS:
            raise invalid_key_error()
        metric = "SearchTextRequest" if kind == "search" else "GetPlaceRequest"
        per_minute = ApiError(
            429, "RESOURCE_EXHAUSTED",
            f"Quota exceeded for quota metric '{metric}' and limit '{metric} per minute per project' of service "
            "'places.googleapis.com' for consumer 'project_number:000000000000'.",
            details=_error_info("RATE_LIMIT_EXCEEDED", quota_metric=f"places.googleapis.com/{metric}",
                                quota_limit=f"{metric}PerMinutePerProject"),
            headers=[("Retry-After", "1")],
        )
        if api_key == KEY_RATELIMITED:
            raise per_minute
        if api_key == KEY_RATELIMITED_ONCE and self._first_time(api_key, method, path, query, raw_body):
            raise per_minute
        if api_key == KEY_QUOTA:
            raise ApiError(
                429, "RESOURCE_EXHAUSTED",
                f"Quota exceeded for quota metric '{metric}' and limit '{metric} per day' of service "
                "'places.googleapis.com' for consumer 'project_number:000000000000'.",
                details=_error_info("RATE_LIMIT_EXCEEDED", quota_metric=f"places.googleapis.com/{metric}",
                                    quota_limit=f"{metric}PerDayPerProject"),
            )
        if api_key == KEY_FLAKY and self._first_time(api_key, method, path, query, raw_body):
            raise ApiError(503, "UNAVAILABLE", "The service is currently unavailable.")
        if api_key == KEY_500:
            raise ApiError(500, "INTERNAL", "Internal error encountered.")
        if api_key == KEY_DENIED:
            raise ApiError(
                403, "PERMISSION_DENIED",
                "Places API (New) has not been used in project 000000000000 before or it is disabled. Enable it "
                "by visiting https://console.developers.google.com/apis/api/places.googleapis.com/overview?"
                "project=000000000000 then retry.",
                details=_error_info("SERVICE_DISABLED"),
            )
        if api_key == KEY_BADJSON:
            raise _BadJson()
        if api_key == KEY_SLOW:
            time.sleep(self.slow_seconds)
        if api_key == KEY_LATER_PAGES_FAIL and kind == "search" and b"pageToken" in raw_body:
            raise ApiError(503, "UNAVAILABLE", "The service is currently unavailable.")

    # --- Text Search -------------------------------------------------------------
    def _search(self, raw_body: bytes, paths: list[list[str]]) -> dict:
        try:
            body = json.loads(raw_body or b"{}")
        except ValueError as exc:
            raise _invalid(f"Invalid JSON payload received. {exc}.") from None
        if not isinstance(body, dict):
            raise _invalid("Invalid JSON payload received. Expected an object.")
        for name in body:
            if name not in SEARCH_BODY_FIELDS:
                raise _invalid(f'Invalid JSON payload received. Unknown name "{name}": Cannot find field.')
        text = str(body.get("textQuery") or "").strip()
        if not text:
            raise _invalid("Empty text_query.")
        page_size = body.get("pageSize") or body.get("maxResultCount") or MAX_PAGE_SIZE
        if not isinstance(page_size, int) or page_size < 0:
            raise _invalid("page_size must be a non-negative integer.")
        page_size = min(page_size, MAX_PAGE_SIZE)

        place_paths: list[list[str]] = []
        want_token = False
        for path in paths:
            if path == ["*"]:
                place_paths.append([])
                want_token = True
            elif path[0] == "nextPageToken" and len(path) == 1:
                want_token = True
            elif path[0] == "places":
                rest = path[1:]
                if rest and rest != ["*"]:
                    _check_place_paths([rest], "places.")
                place_paths.append([] if rest == ["*"] else rest)
            else:
                raise _invalid(f"Error expanding 'fields' parameter. Cannot find matching fields for path '{'.'.join(path)}'.")

        included = body.get("includedType")
        if included and included not in KNOWN_TYPES:
            raise _invalid(f"Unsupported types: {included}.")
        rectangle = self._rectangle(body)
        circle = (body.get("locationBias") or {}).get("circle")
        if circle is not None:
            center = circle.get("center") or {}
            try:
                lat, lng = float(center["latitude"]), float(center["longitude"])
                radius = float(circle.get("radius", 0.0))
            except (KeyError, TypeError, ValueError):
                raise _invalid("Invalid location_bias.circle: center.latitude and center.longitude are required.") from None
            if not (-90 <= lat <= 90 and -180 <= lng <= 180) or not (0.0 <= radius <= 50_000.0):
                raise _invalid("Invalid location_bias.circle: radius must be between 0.0 and 50000.0, inclusive.")

        # Every request parameter but the page token and size must match between pages.
        fingerprint = hashlib.sha256(json.dumps(
            {k: v for k, v in body.items() if k not in ("pageToken", "pageSize", "maxResultCount")},
            sort_keys=True).encode()).hexdigest()[:16]
        offset = 0
        if body.get("pageToken"):
            offset = self._read_token(str(body["pageToken"]), fingerprint)

        matches = self._match(text, included, circle, rectangle)[:MAX_RESULTS]
        page = matches[offset:offset + page_size]
        result: dict[str, Any] = {}
        if page:
            result["places"] = [_project(place, place_paths) for place in page] if place_paths else [{} for _ in page]
        next_offset = offset + len(page)
        if want_token and page and next_offset < len(matches):
            result["nextPageToken"] = self._make_token(next_offset, fingerprint)
        return result

    @staticmethod
    def _rectangle(body: dict) -> tuple[float, float, float, float] | None:
        """(south, west, north, east) of ``locationRestriction.rectangle``, validated as Google does."""
        restriction = body.get("locationRestriction")
        if restriction is None:
            return None
        if body.get("locationBias") is not None:
            raise _invalid("Only one of location_bias and location_restriction may be set.")
        rect = restriction.get("rectangle") if isinstance(restriction, dict) else None
        if not isinstance(rect, dict):
            raise _invalid("Invalid location_restriction: a rectangle is required (circle is not supported).")
        try:
            low, high = rect["low"], rect["high"]
            south, west = float(low["latitude"]), float(low["longitude"])
            north, east = float(high["latitude"]), float(high["longitude"])
        except (KeyError, TypeError, ValueError):
            raise _invalid("Invalid location_restriction.rectangle: low and high, each with latitude and "
                           "longitude, are required.") from None
        if not all(-90 <= v <= 90 for v in (south, north)) or not all(-180 <= v <= 180 for v in (west, east)):
            raise _invalid("Invalid location_restriction.rectangle: latitudes must be within [-90, 90] and "
                           "longitudes within [-180, 180].")
        if south > north:
            raise _invalid("Invalid location_restriction.rectangle: the viewport is empty (low.latitude > high.latitude).")
        return south, west, north, east

    @staticmethod
    def _inside(place: dict, rectangle: tuple[float, float, float, float]) -> bool:
        south, west, north, east = rectangle
        loc = place.get("location") or {}
        lat, lng = loc.get("latitude"), loc.get("longitude")
        if lat is None or lng is None or not south <= lat <= north:
            return False
        if west <= east:
            return west <= lng <= east
        return lng >= west or lng <= east  # the rectangle crosses the antimeridian

    def _match(self, text: str, included: str | None, circle: dict | None,
               rectangle: tuple[float, float, float, float] | None = None) -> list[dict]:
        tokens = [w for w in _words(text) if w not in STOPWORDS]
        if not tokens:
            return []
        localities = [loc for loc in self.localities
                      if all(t in self.words[loc["id"]] or _singular(t) in self.words[loc["id"]] for t in tokens)
                      and not included and (rectangle is None or self._inside(loc, rectangle))]
        found = []
        for place in self.places:
            words = self.words[place["id"]]
            if not all(t in words or _singular(t) in words for t in tokens):
                continue
            if included and included not in place.get("types", []):
                continue
            if rectangle is not None and not self._inside(place, rectangle):
                continue
            if circle is not None and float(circle.get("radius", 0.0)) > 0:
                loc = place["location"]
                center = circle["center"]
                if _distance_m(float(center["latitude"]), float(center["longitude"]),
                               loc["latitude"], loc["longitude"]) > float(circle["radius"]):
                    continue
            found.append(place)
        found.sort(key=lambda p: (-_prominence(p), p["id"]))
        return localities + found

    @staticmethod
    def _make_token(offset: int, fingerprint: str) -> str:
        raw = json.dumps({"o": offset, "f": fingerprint}, separators=(",", ":")).encode()
        return "AUc" + base64.urlsafe_b64encode(raw).decode().rstrip("=")

    @staticmethod
    def _read_token(token: str, fingerprint: str) -> int:
        try:
            raw = token[3:] if token.startswith("AUc") else "!"
            data = json.loads(base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)))
            offset = int(data["o"])
            same_request = data["f"] == fingerprint
        except (ValueError, KeyError, TypeError):
            raise _invalid("Invalid page_token.") from None
        if not same_request or offset < 0:
            raise _invalid("The page_token does not match the request: every parameter other than "
                           "page_token and page_size must be the same as in the first request.")
        return offset

    # --- Place Details -------------------------------------------------------------
    def _details(self, place_id: str, paths: list[list[str]]) -> dict:
        if not re.fullmatch(r"[A-Za-z0-9_-]{10,}", place_id):
            raise _invalid(f"Not a valid Place ID: {place_id}")
        _check_place_paths(paths, "")
        place = self.by_id.get(place_id)
        if place is None:
            raise ApiError(404, "NOT_FOUND",
                           "The provided Place ID is no longer valid. Please refresh cached Place IDs as per "
                           "https://developers.google.com/maps/documentation/places/web-service/place-id#save-id.")
        return _project(place, [[] if p == ["*"] else p for p in paths])


class _BadJson(ApiError):
    """The `sandbox-key-badjson` hook: a 200 whose body is not JSON."""

    def __init__(self):
        super().__init__(200, "OK", "truncated")

    def body(self):  # type: ignore[override]
        return b'{"places": [{"id": "ChIJ-truncated'


def load_dataset(path: Path | str = DATASET_PATH) -> list[dict]:
    """The businesses of places.json (seven cities)."""
    return json.loads(Path(path).read_text(encoding="utf-8"))


def load_dense_city(path: Path | str = DENSE_CITY_PATH) -> dict:
    """{"places": the 1,200 dentists of Quillhaven, "localities": one per sandbox city}."""
    return json.loads(Path(path).read_text(encoding="utf-8"))


def make_app(dataset: list[dict] | str | Path | None = None, *, localities: list[dict] | None = None,
             slow_seconds: float = 2.0) -> PlacesSandbox:
    """The sandbox WSGI app over `dataset` (a list of places, a JSON file, or the bundled data).

    The bundled data (no `dataset`) is places.json plus the dense city and the
    localities; tests that pass their own places get no localities unless
    they pass them too.
    """
    if dataset is None:
        dense = load_dense_city()
        dataset = load_dataset() + dense["places"]
        localities = dense["localities"] if localities is None else localities
    elif isinstance(dataset, (str, Path)):
        dataset = load_dataset(dataset)
    return PlacesSandbox(list(dataset), localities=localities, slow_seconds=slow_seconds)


def main(argv: list[str] | None = None) -> None:  # pragma: no cover - manual use
    from scrapersky.sandbox.server import serve_in_thread

    argv = sys.argv[1:] if argv is None else argv
    port = int(argv[0]) if argv else 8101
    running = serve_in_thread(make_app(), port=port)
    print(f"Places sandbox on {running.base_url} (API key {SANDBOX_API_KEY!r}); Ctrl-C stops it")
    try:
        running.thread.join()
    except KeyboardInterrupt:
        running.stop()


if __name__ == "__main__":  # pragma: no cover
    main()
