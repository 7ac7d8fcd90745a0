"""Settings of the places app (read from the environment; documented in .env.example).

Star-imported at the end of scrapersky/settings.py: only UPPER_CASE names are
settings; helpers and imports stay private (leading underscore).
"""
from scrapersky.env import env as _env

# Google Maps Platform key with Places API (New) enabled; empty = run against the bundled sandbox.
GOOGLE_MAPS_API_KEY = _env.str("GOOGLE_MAPS_API_KEY")
# Places API (New) endpoint; set it to point the client at another server (e.g. a test sandbox).
# With the sandbox on and this left at Google's, places.google.get_client talks to the Places sandbox.
GOOGLE_PLACES_BASE_URL = _env.url("GOOGLE_PLACES_BASE_URL", "https://places.googleapis.com")
# Seconds before one Places HTTP request times out (connect, read, write and pool each).
GOOGLE_PLACES_TIMEOUT = _env.float("GOOGLE_PLACES_TIMEOUT", 10.0, minimum=0.1)
# languageCode sent with every search and details call (names, addresses, opening hours text).
GOOGLE_PLACES_LANGUAGE = _env.str("GOOGLE_PLACES_LANGUAGE", "en")
# regionCode (CLDR two letters, e.g. "us", "gb") biasing results and formatting; empty = none.
GOOGLE_PLACES_REGION = _env.str("GOOGLE_PLACES_REGION")
# Places HTTP requests (search pages + details) allowed per day before the workflows pause.
GOOGLE_PLACES_DAILY_LIMIT = _env.int("GOOGLE_PLACES_DAILY_LIMIT", 1000, minimum=0)
# US dollars of Places requests (list price, places/pricing.py) allowed per UTC day; 0 = no money cap.
GOOGLE_PLACES_DAILY_BUDGET_USD = _env.float("GOOGLE_PLACES_DAILY_BUDGET_USD", 50.0, minimum=0)
# Re-scan businesses whose last deep scan is older than this many days (a daily schedule); 0 = off.
PLACES_RESCAN_DAYS = _env.int("PLACES_RESCAN_DAYS", 0, minimum=0)
