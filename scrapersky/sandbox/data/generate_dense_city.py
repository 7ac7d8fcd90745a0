"""Generate dense_city.json: one dense fictional city for the coverage planner, and the localities.

Deterministic (fixed seed). Run from the project root:

    .venv/bin/python scrapersky/sandbox/data/generate_dense_city.py

- `places`: 1,200 fictional dentists in "Quillhaven, Oregon" (a made-up city
  placed in empty high desert), far more than Text Search's 60: half packed
  downtown, a third in three suburban clusters, the rest spread over the city,
  so the planner has to split tiles unevenly. Names, hosts and phones are as
  invented as in generate_places.py (US 555-01xx numbers).
- `localities`: one locality per sandbox city (the seven of places.json and
  Quillhaven), with Google's `viewport`, so a search can name its area ("all
  dentists in Quillhaven, OR") and the planner geocodes it through Text Search.
"""
from __future__ import annotations

import json
import math
import random
from pathlib import Path

from generate_places import CITIES, PREFIXES, SUFFIXES, make_place, own_site, place_id, slugify, social_site

SEED = 20261127
OUT = Path(__file__).with_name("dense_city.json")
DENSE_COUNT = 1200
RADIUS_KM = 12.0
DENSE_CITY = {
    "key": "quillhaven", "tz": "America/Los_Angeles", "city": "Quillhaven", "region": "Oregon", "region_short": "OR", "county": "Quillhaven County",
    "country": "United States", "cc": "US", "lat": 43.9012, "lng": -120.4987, "utc": -480,
    "streets": [("Main Street", "Main St"), ("Juniper Avenue", "Juniper Ave"), ("Rimrock Road", "Rimrock Rd"),
                ("Sagebrush Boulevard", "Sagebrush Blvd"), ("Canyon Drive", "Canyon Dr"), ("Alder Lane", "Alder Ln")],
    "postal": lambda r: f"977{r.randint(1, 99):02d}", "area": ["541", "458"], "tld": ".com",
}
VARIANTS = ["Dental", "Dental Care", "Family Dentistry", "Dental Studio", "Smiles Dental", "Dental Group",
            "Dental Arts", "Dental Clinic", "Dentistry"]
# (share of places, centre offset in km north/east, spread in km)
CLUSTERS = [(0.50, (0.0, 0.0), 1.6), (0.12, (5.5, -4.0), 1.0), (0.11, (-6.0, 3.5), 1.2), (0.10, (2.0, 7.0), 0.9)]


def _point(r: random.Random, city: dict) -> tuple[float, float]:
    roll, acc = r.random(), 0.0
    for share, (north_km, east_km), spread in CLUSTERS:
        acc += share
        if roll < acc:
            dn, de = north_km + r.gauss(0, spread), east_km + r.gauss(0, spread)
            break
    else:  # spread evenly over the city disc
        dist, bearing = RADIUS_KM * math.sqrt(r.random()), r.random() * 2 * math.pi
        dn, de = dist * math.cos(bearing), dist * math.sin(bearing)
    scale = math.hypot(dn, de) / (RADIUS_KM - 0.5)
    if scale > 1:  # keep every place inside the city
        dn, de = dn / scale, de / scale
    lat = city["lat"] + dn / 111.32
    lng = city["lng"] + de / (111.32 * math.cos(math.radians(city["lat"])))
    return round(lat, 7), round(lng, 7)


def locality(r: random.Random, city: dict, radius_km: float) -> dict:
    dlat = radius_km / 111.32
    dlng = radius_km / (111.32 * math.cos(math.radians(city["lat"])))
    pid = place_id(r)
    country_short = {"US": "USA", "GB": "UK"}.get(city["cc"], city["country"])
    region = f", {city['region_short']}" if city["cc"] in ("US", "CA", "AU") else ""
    return {
        "name": f"places/{pid}", "id": pid, "types": ["locality", "political"],
        "displayName": {"text": city["city"], "languageCode": "en"},
        "formattedAddress": f"{city['city']}{region}, {country_short}",
        "addressComponents": [
            {"longText": city["city"], "shortText": city["city"], "types": ["locality", "political"], "languageCode": "en"},
            {"longText": city["region"], "shortText": city["region_short"],
             "types": ["administrative_area_level_1", "political"], "languageCode": "en"},
            {"longText": city["country"], "shortText": city["cc"], "types": ["country", "political"], "languageCode": "en"},
        ],
        "location": {"latitude": city["lat"], "longitude": city["lng"]},
        "viewport": {"low": {"latitude": round(city["lat"] - dlat, 7), "longitude": round(city["lng"] - dlng, 7)},
                     "high": {"latitude": round(city["lat"] + dlat, 7), "longitude": round(city["lng"] + dlng, 7)}},
        "utcOffsetMinutes": city["utc"],
    }


def generate() -> dict:
    r = random.Random(SEED)
    used_ids: set[str] = set()
    names: set[str] = set()
    places = []
    while len(places) < DENSE_COUNT:
        name = f"{r.choice(PREFIXES)}{r.choice(SUFFIXES)} {r.choice(VARIANTS)}"
        if name in names:
            continue
        names.add(name)
        slug = slugify(name)
        roll = r.random()
        website = None if roll < 0.2 else social_site(r, slug) if roll < 0.3 else own_site(r, slug, DENSE_CITY, name)
        place = make_place(r, name=name, category="dentist", city=DENSE_CITY, website=website, used_ids=used_ids)
        lat, lng = _point(r, DENSE_CITY)
        place["location"] = {"latitude": lat, "longitude": lng}
        places.append(place)
    localities = [locality(r, city, 10.0) for city in CITIES] + [locality(r, DENSE_CITY, RADIUS_KM)]
    return {"localities": localities, "places": places}


def main() -> None:
    data = generate()
    OUT.write_text(json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":")) + "\n", encoding="utf-8")
    print(f"wrote {len(data['places'])} places and {len(data['localities'])} localities to {OUT}")


if __name__ == "__main__":
    main()
