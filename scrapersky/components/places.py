"""Settings of the places app (read from the environment; documented in .env.example).

Star-imported at the end of scrapersky/settings.py: only UPPER_CASE names are
settings; helpers and imports stay private (leading underscore).
"""
import os as _os

from django.core.exceptions import ImproperlyConfigured as _ImproperlyConfigured


def _int(name: str, default: int) -> int:
    value = _os.environ.get(name, "")
    if value == "":
        return default
    try:
        return int(value)
    except ValueError as exc:
        raise _ImproperlyConfigured(f"{name} must be an integer, got {value!r}") from exc


def _float(name: str, default: float) -> float:
    value = _os.environ.get(name, "")
    if value == "":
        return default
    try:
        return float(value)
    except ValueError as exc:
        raise _ImproperlyConfigured(f"{name} must be a number, got {value!r}") from exc


def _bool(name: str, default: bool) -> bool:
    value = _os.environ.get(name, "").strip().lower()
    if value == "":
        return default
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise _ImproperlyConfigured(f"{name} must be a boolean (1/0, true/false), got {value!r}")


# Google Maps Platform key with Places API (New) enabled; empty = run against the bundled sandbox.
GOOGLE_MAPS_API_KEY = _os.environ.get("GOOGLE_MAPS_API_KEY", "")
# Places API (New) endpoint; set it to point the client at another server (e.g. a test sandbox).
GOOGLE_PLACES_BASE_URL = _os.environ.get("GOOGLE_PLACES_BASE_URL", "") or "https://places.googleapis.com"
# Seconds before one Places HTTP request times out (connect, read, write and pool each).
GOOGLE_PLACES_TIMEOUT = _float("GOOGLE_PLACES_TIMEOUT", 10.0)
# languageCode sent with every search and details call (names, addresses, opening hours text).
GOOGLE_PLACES_LANGUAGE = _os.environ.get("GOOGLE_PLACES_LANGUAGE", "en")
# regionCode (CLDR two letters, e.g. "us", "gb") biasing results and formatting; empty = none.
GOOGLE_PLACES_REGION = _os.environ.get("GOOGLE_PLACES_REGION", "")
# Places HTTP requests (search pages + details) allowed per day before the workflows pause.
GOOGLE_PLACES_DAILY_LIMIT = _int("GOOGLE_PLACES_DAILY_LIMIT", 1000)
# Use the local sandbox instead of Google: on when GOOGLE_MAPS_API_KEY is empty; SANDBOX=0/1 forces it.
SANDBOX_ENABLED = _bool("SANDBOX", GOOGLE_MAPS_API_KEY == "")
# Loopback port of the Places sandbox (scrapersky/sandbox/places_api.py) when the sandbox is enabled.
SANDBOX_PLACES_PORT = _int("SANDBOX_PLACES_PORT", 8101)
# US dollars of Places requests (list price, places/pricing.py) allowed per UTC day; 0 = no money cap.
GOOGLE_PLACES_DAILY_BUDGET_USD = _float("GOOGLE_PLACES_DAILY_BUDGET_USD", 50.0)
# Re-scan businesses whose last deep scan is older than this many days (a daily schedule); 0 = off.
PLACES_RESCAN_DAYS = _int("PLACES_RESCAN_DAYS", 0)
