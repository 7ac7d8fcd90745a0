"""Generate places.json, the sandbox's fictional Google Places (New) dataset.

Deterministic (stdlib `random` with a fixed seed): run it again and the file is
byte-for-byte the same. Run from the project root:

    .venv/bin/python scrapersky/sandbox/data/generate_places.py

Every business name and every own-site host name is invented (made-up words
such as "Quillwick" or "Brindlemere"), so nothing here points at a real
business. Phone numbers are built in each country's national format and
checked with `phonenumbers`; US/CA numbers use the 555-01xx range reserved for
fiction, UK numbers Ofcom's drama range 020 7946 0xxx, AU numbers ACMA's
(02) 5550 xxxx range.

The mix is meant to exercise WF1–WF3: "dentist in Austin, TX" has more than 60
matches (Google's cap), about 20% of places have no website, chains share one
website, about 10% list a social profile or link-in-bio page, some carry
tracking parameters or a Google redirect wrapper, some live on site-builder
subdomains, a few point at directories, and a few German/Spanish hosts are IDN.
"""
from __future__ import annotations

import json
import math
import random
import string
from pathlib import Path

import phonenumbers

SEED = 20250601
OUT = Path(__file__).with_name("places.json")

CITIES = [
    {
        "key": "austin", "tz": "America/Chicago", "city": "Austin", "region": "Texas", "region_short": "TX", "county": "Travis County",
        "country": "United States", "cc": "US", "lat": 30.2672, "lng": -97.7431, "utc": -360,
        "streets": [("Congress Avenue", "Congress Ave"), ("South Lamar Boulevard", "S Lamar Blvd"),
                    ("East 6th Street", "E 6th St"), ("Burnet Road", "Burnet Rd"), ("Guadalupe Street", "Guadalupe St")],
        "postal": lambda r: f"787{r.randint(1, 59):02d}", "area": ["512", "737"], "tld": ".com",
    },
    {
        "key": "chicago", "tz": "America/Chicago", "city": "Chicago", "region": "Illinois", "region_short": "IL", "county": "Cook County",
        "country": "United States", "cc": "US", "lat": 41.8781, "lng": -87.6298, "utc": -360,
        "streets": [("North Michigan Avenue", "N Michigan Ave"), ("West Madison Street", "W Madison St"),
                    ("North Clark Street", "N Clark St"), ("South State Street", "S State St")],
        "postal": lambda r: f"606{r.randint(1, 61):02d}", "area": ["312", "773"], "tld": ".com",
    },
    {
        "key": "london", "tz": "Europe/London", "city": "London", "region": "England", "region_short": "England", "county": "Greater London",
        "country": "United Kingdom", "cc": "GB", "lat": 51.5074, "lng": -0.1278, "utc": 0,
        "streets": [("High Street", "High St"), ("Church Road", "Church Rd"), ("Station Road", "Station Rd"),
                    ("Victoria Street", "Victoria St")],
        "postal": lambda r: f"{r.choice(['EC1A', 'N1', 'SE1', 'W1D', 'E2', 'SW9'])} {r.randint(1, 9)}{r.choice('ABDEFGHJLNPQRSTUWXYZ')}{r.choice('ABDEFGHJLNPQRSTUWXYZ')}",
        "tld": ".co.uk",
    },
    {
        "key": "berlin", "tz": "Europe/Berlin", "city": "Berlin", "region": "Berlin", "region_short": "BE", "county": None,
        "country": "Germany", "cc": "DE", "lat": 52.5200, "lng": 13.4050, "utc": 60,
        "streets": [("Hauptstraße", "Hauptstraße"), ("Friedrichstraße", "Friedrichstraße"),
                    ("Schönhauser Allee", "Schönhauser Allee"), ("Kastanienallee", "Kastanienallee")],
        "postal": lambda r: f"10{r.randint(115, 999)}", "tld": ".de",
    },
    {
        "key": "madrid", "tz": "Europe/Madrid", "city": "Madrid", "region": "Comunidad de Madrid", "region_short": "MD", "county": "Madrid",
        "country": "Spain", "cc": "ES", "lat": 40.4168, "lng": -3.7038, "utc": 60,
        "streets": [("Calle Mayor", "C. Mayor"), ("Calle de Alcalá", "C. de Alcalá"),
                    ("Calle de Fuencarral", "C. de Fuencarral"), ("Paseo de la Castellana", "P.º de la Castellana")],
        "postal": lambda r: f"280{r.randint(1, 55):02d}", "tld": ".es",
    },
    {
        "key": "toronto", "tz": "America/Toronto", "city": "Toronto", "region": "Ontario", "region_short": "ON", "county": "Toronto",
        "country": "Canada", "cc": "CA", "lat": 43.6532, "lng": -79.3832, "utc": -300,
        "streets": [("Queen Street West", "Queen St W"), ("King Street East", "King St E"),
                    ("Yonge Street", "Yonge St"), ("Dundas Street West", "Dundas St W")],
        "postal": lambda r: f"M{r.randint(1, 9)}{r.choice('ABCEGHJKLMNPRSTVWXY')} {r.randint(1, 9)}{r.choice('ABCEGHJKLMNPRSTVWXYZ')}{r.randint(0, 9)}",
        "area": ["416", "647"], "tld": ".ca",
    },
    {
        "key": "sydney", "tz": "Australia/Sydney", "city": "Sydney", "region": "New South Wales", "region_short": "NSW", "county": "Council of the City of Sydney",
        "country": "Australia", "cc": "AU", "lat": -33.8688, "lng": 151.2093, "utc": 600,
        "streets": [("George Street", "George St"), ("Pitt Street", "Pitt St"), ("Oxford Street", "Oxford St"),
                    ("Crown Street", "Crown St")],
        "postal": lambda r: f"20{r.randint(0, 50):02d}", "tld": ".com.au",
    },
]

# Google Places (New) types per category; the first is the primaryType.
CATEGORIES = {
    "dentist": (["dentist", "health", "point_of_interest", "establishment"], {"US": "Dental", "GB": "Dental Practice", "DE": "Zahnarztpraxis", "ES": "Clínica Dental", "CA": "Dental", "AU": "Dental"}),
    "plumber": (["plumber", "point_of_interest", "establishment"], {"US": "Plumbing", "GB": "Plumbers", "DE": "Sanitär", "ES": "Fontanería", "CA": "Plumbing", "AU": "Plumbing"}),
    "cafe": (["cafe", "food", "point_of_interest", "establishment"], {"US": "Coffee", "GB": "Café", "DE": "Café", "ES": "Cafetería", "CA": "Café", "AU": "Espresso"}),
    "lawyer": (["lawyer", "point_of_interest", "establishment"], {"US": "Law Group", "GB": "Solicitors", "DE": "Rechtsanwälte", "ES": "Abogados", "CA": "Law LLP", "AU": "Lawyers"}),
    "bakery": (["bakery", "food", "store", "point_of_interest", "establishment"], {"US": "Bakery", "GB": "Bakehouse", "DE": "Bäckerei", "ES": "Panadería", "CA": "Bakery", "AU": "Bakehouse"}),
    "gym": (["gym", "health", "point_of_interest", "establishment"], {"US": "Fitness", "GB": "Gym", "DE": "Fitnessstudio", "ES": "Gimnasio", "CA": "Fitness", "AU": "Gym"}),
    "florist": (["florist", "store", "point_of_interest", "establishment"], {"US": "Florist", "GB": "Flowers", "DE": "Blumen", "ES": "Floristería", "CA": "Florist", "AU": "Florist"}),
    "electrician": (["electrician", "point_of_interest", "establishment"], {"US": "Electric", "GB": "Electrical", "DE": "Elektro", "ES": "Electricidad", "CA": "Electric", "AU": "Electrical"}),
}

PREFIXES = ["Quill", "Brindle", "Marrow", "Tumble", "Pebble", "Thistle", "Bramble", "Juniper", "Lantern", "Fennel",
            "Sorrel", "Wren", "Puffin", "Nimbus", "Saffron", "Cobble", "Dapple", "Gorse", "Hollow", "Kestrel",
            "Moss", "Nettle", "Oriel", "Plover", "Rook", "Spindle", "Teasel", "Umber", "Vetch", "Yarrow"]
SUFFIXES = ["wick", "worth", "brook", "by", "stead", "mere", "gate", "holm", "ridge", "combe", "fold", "ley"]

# Chains: one website shared by several places (WF3 "one domain, many businesses").
CHAINS = [
    {"name": "Brindlewick Dental Group", "category": "dentist", "cities": ["austin"] * 6 + ["chicago"] * 3,
     "site": "https://www.brindlewickdental.com/", "per_location": "https://www.brindlewickdental.com/locations/{city}?utm_source=gmb&utm_medium=organic"},
    {"name": "Otter & Wren Coffee", "category": "cafe", "cities": ["london", "london", "toronto", "sydney", "austin", "austin"],
     "site": "https://otterwrencoffee.com/", "per_location": None},
    {"name": "Nimbusfit Gyms", "category": "gym", "cities": ["berlin", "madrid", "london", "chicago", "toronto"],
     "site": "https://www.nimbusfit-gyms.com/", "per_location": "https://www.nimbusfit-gyms.com/clubs/{city}/?ref=gmb"},
    {"name": "Quillby Drain Rescue", "category": "plumber", "cities": ["austin", "austin", "chicago", "chicago"],
     "site": "http://quillbydrain.com", "per_location": None},
]

# How many independent places per (city, category); "dentist in Austin" exceeds 60.
COUNTS = {("austin", "dentist"): 60, ("austin", "cafe"): 22}
DEFAULT_COUNT = 4

WEEKDAYS = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"]


def place_id(r: random.Random) -> str:
    alphabet = string.ascii_letters + string.digits + "-_"
    return "ChIJ" + "".join(r.choice(alphabet) for _ in range(23))


def slugify(text: str) -> str:
    out = []
    for ch in text.lower():
        if ch.isalnum():
            out.append(ch)
        elif out and out[-1] != "-":
            out.append("-")
    return "".join(out).strip("-")


def ascii_slug(text: str) -> str:
    table = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "á": "a", "é": "e", "í": "i", "ó": "o", "ú": "u", "ñ": "n", "&": "and"})
    return slugify(text.lower().translate(table))


def phone(r: random.Random, cc: str, city: dict) -> tuple[str, str]:
    """Return (national, international) formatted numbers that phonenumbers accepts as valid."""
    for _ in range(200):
        if cc in ("US", "CA"):
            raw = f"{r.choice(city['area'])}55501{r.randint(0, 99):02d}"
        elif cc == "GB":
            raw = f"02079460{r.randint(0, 999):03d}"
        elif cc == "DE":
            raw = f"030{r.randint(2, 9)}{r.randint(0, 9999999):07d}"
        elif cc == "ES":
            raw = f"91{r.randint(0, 9999999):07d}"
        elif cc == "AU":
            raw = f"025550{r.randint(0, 9999):04d}"
        else:  # pragma: no cover - every city above is handled
            raise ValueError(cc)
        number = phonenumbers.parse(raw, cc)
        if phonenumbers.is_valid_number(number):
            return (phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL),
                    phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL))
    raise RuntimeError(f"could not build a valid {cc} number")


def opening_hours(r: random.Random, category: str) -> dict:
    open_h, close_h = {"cafe": (7, 17), "bakery": (6, 14), "gym": (6, 22)}.get(category, (9, 17))
    open_h += r.choice([0, 0, 1])
    days = [1, 2, 3, 4, 5] + ([6] if category in ("cafe", "bakery", "gym", "florist") or r.random() < 0.3 else [])
    if category in ("cafe", "gym") and r.random() < 0.5:
        days.append(0)
    periods = [{"open": {"day": d, "hour": open_h, "minute": 0}, "close": {"day": d, "hour": close_h, "minute": 0}} for d in sorted(days)]

    def fmt(h: int) -> str:
        suffix = "AM" if h < 12 else "PM"
        return f"{(h - 1) % 12 + 1}:00\u202f{suffix}"

    descriptions = []
    for d in [1, 2, 3, 4, 5, 6, 0]:  # Google lists Monday first
        text = f"{fmt(open_h)}\u2009–\u2009{fmt(close_h)}" if d in days else "Closed"
        descriptions.append(f"{WEEKDAYS[d]}: {text}")
    return {"periods": periods, "weekdayDescriptions": descriptions}


def own_site(r: random.Random, name_slug: str, city: dict, name: str) -> str:
    """An invented own-site URL with a realistic shape for the country."""
    tld = city["tld"]
    roll = r.random()
    if city["cc"] in ("DE", "ES") and roll < 0.15 and any(ch in name.lower() for ch in "äöüßáéíóúñ"):
        host = slugify(name) + tld  # IDN host, e.g. bäckerei-quillwick.de
        return f"https://{host}/"
    if roll < 0.25:
        return f"https://www.{name_slug}{tld}/"
    if roll < 0.35:
        return f"http://{name_slug}{tld}"
    if roll < 0.42:
        return f"https://{city['key']}.{name_slug}{tld}/"  # a subdomain of the business's own domain
    if roll < 0.50:
        return f"https://www.{name_slug}{tld}/?utm_source=gmb&utm_medium=organic&utm_campaign=gbp"
    if roll < 0.55:
        return f"https://www.{name_slug}{tld}/index.html"
    if roll < 0.60:
        return f"https://www.google.com/url?q=https://www.{name_slug}{tld}/&sa=U&ved=2ahUKEwj{r.randint(10**6, 10**7)}&usg=AOvVaw{r.randint(10**5, 10**6)}"
    if roll < 0.64:
        return f"https://{name_slug}.wixsite.com/{r.choice(['site', 'mysite', 'home'])}"
    if roll < 0.67:
        return f"https://{name_slug}.business.site/"
    if roll < 0.70:
        return f"https://{name_slug}.square.site/"
    if roll < 0.72:
        return f"https://{name_slug}.godaddysites.com/"
    if roll < 0.74:
        return f"https://{name_slug}.wordpress.com/"
    if roll < 0.77:
        return f"https://{name_slug}{tld}/contact/?ref=gmb"
    return f"https://{name_slug}{tld}/"


def social_site(r: random.Random, name_slug: str) -> str:
    compact = name_slug.replace("-", "")
    return r.choice([
        f"https://www.facebook.com/{compact}",
        f"https://m.facebook.com/{compact}/?ref=page_internal",
        f"https://www.instagram.com/{compact}/?igshid=gmb{r.randint(100, 999)}",
        f"https://instagram.com/{compact}",
        f"https://linktr.ee/{compact}",
    ])


def directory_site(r: random.Random, name_slug: str, city: dict, category: str) -> str:
    if category == "dentist" and city["cc"] == "DE":
        return f"https://www.doctolib.de/zahnarzt/berlin/{name_slug}"
    if category in ("cafe", "bakery"):
        return f"https://www.yelp.{ {'GB': 'co.uk', 'AU': 'com.au', 'CA': 'ca', 'DE': 'de', 'ES': 'es'}.get(city['cc'], 'com') }/biz/{name_slug}-{city['key']}"
    return f"https://www.yellowpages.com/{city['key']}/mip/{name_slug}-{r.randint(100000, 999999)}"


def make_place(r: random.Random, *, name: str, category: str, city: dict, website: str | None, used_ids: set[str]) -> dict:
    pid = place_id(r)
    while pid in used_ids:
        pid = place_id(r)
    used_ids.add(pid)
    types, _ = CATEGORIES[category]
    cc = city["cc"]
    street_long, street_short = r.choice(city["streets"])
    number = str(r.randint(1, 240) if cc in ("DE", "ES", "GB") else r.randint(100, 9800))
    postal = city["postal"](r)
    lang = {"DE": "de", "ES": "es"}.get(cc, "en")
    # A point within ~8 km of the city centre.
    dist_km = 8 * math.sqrt(r.random())
    bearing = r.random() * 2 * math.pi
    lat = round(city["lat"] + (dist_km / 111.32) * math.cos(bearing), 7)
    lng = round(city["lng"] + (dist_km / (111.32 * math.cos(math.radians(city["lat"])))) * math.sin(bearing), 7)

    if cc in ("US", "CA"):
        formatted = f"{number} {street_short}, {city['city']}, {city['region_short']} {postal}, {'USA' if cc == 'US' else 'Canada'}"
    elif cc == "GB":
        formatted = f"{number} {street_long}, {city['city']} {postal}, UK"
    elif cc == "DE":
        formatted = f"{street_long} {number}, {postal} {city['city']}, Deutschland"
    elif cc == "ES":
        formatted = f"{street_short}, {number}, {postal} {city['city']}, España"
    else:
        formatted = f"{number} {street_short}, {city['city']} {city['region_short']} {postal}, Australia"

    def comp(long: str, short: str, kinds: list[str], code: str = lang) -> dict:
        return {"longText": long, "shortText": short, "types": kinds, "languageCode": code}

    components = [
        comp(number, number, ["street_number"]),
        comp(street_long, street_short, ["route"]),
    ]
    if cc == "GB":
        components.append(comp(city["city"], city["city"], ["postal_town"]))
    else:
        components.append(comp(city["city"], city["city"], ["locality", "political"]))
    if city["county"]:
        components.append(comp(city["county"], city["county"], ["administrative_area_level_2", "political"]))
    components.append(comp(city["region"], city["region_short"], ["administrative_area_level_1", "political"]))
    components.append(comp(city["country"], cc, ["country", "political"], "en"))
    components.append(comp(postal, postal, ["postal_code"]))

    place: dict = {
        "name": f"places/{pid}",
        "id": pid,
        "types": list(types),
        "formattedAddress": formatted,
        "addressComponents": components,
        "location": {"latitude": lat, "longitude": lng},
        "googleMapsUri": f"https://maps.google.com/?cid={r.randint(10**18, 10**19 - 1)}",
        "utcOffsetMinutes": city["utc"],
        "timeZone": {"id": city["tz"]},
        "businessStatus": r.choices(["OPERATIONAL", "CLOSED_TEMPORARILY", "CLOSED_PERMANENTLY"], [92, 4, 4])[0],
        "displayName": {"text": name, "languageCode": lang},
        "primaryType": types[0],
        "regularOpeningHours": opening_hours(r, category),
    }
    if r.random() < 0.92:
        national, international = phone(r, cc, city)
        place["nationalPhoneNumber"] = national
        place["internationalPhoneNumber"] = international
    count = int(r.choice([0, 3, 8, 15, 40, 90, 150, 400, 1200]) * (0.5 + r.random()))
    if count:
        place["rating"] = round(r.uniform(3.4, 5.0), 1)
        place["userRatingCount"] = count
    if category in ("cafe", "bakery", "gym", "florist"):
        place["priceLevel"] = r.choice(["PRICE_LEVEL_INEXPENSIVE", "PRICE_LEVEL_MODERATE", "PRICE_LEVEL_MODERATE", "PRICE_LEVEL_EXPENSIVE"])
    if website:
        place["websiteUri"] = website
    return place


def generate() -> list[dict]:
    r = random.Random(SEED)
    cities = {c["key"]: c for c in CITIES}
    used_ids: set[str] = set()
    used_names: set[str] = set()
    places: list[dict] = []

    def invent(category: str, city: dict) -> str:
        label = CATEGORIES[category][1][city["cc"]]
        while True:
            word = r.choice(PREFIXES) + r.choice(SUFFIXES)
            if city["cc"] in ("DE", "ES"):
                name = f"{label} {word}"
            else:
                name = f"{word} {label}"
            if name not in used_names:
                used_names.add(name)
                return name

    for city in CITIES:
        for category in CATEGORIES:
            for _ in range(COUNTS.get((city["key"], category), DEFAULT_COUNT)):
                name = invent(category, city)
                slug = slugify(name) if city["cc"] not in ("DE", "ES") else ascii_slug(name)
                roll = r.random()
                if roll < 0.20:
                    website = None
                elif roll < 0.30:
                    website = social_site(r, slug)
                elif roll < 0.325:
                    website = directory_site(r, slug, city, category)
                else:
                    website = own_site(r, slug, city, name)
                places.append(make_place(r, name=name, category=category, city=city, website=website, used_ids=used_ids))

    for chain in CHAINS:
        for city_key in chain["cities"]:
            city = cities[city_key]
            if chain["per_location"] and r.random() < 0.5:
                website = chain["per_location"].format(city=city_key)
            else:
                website = chain["site"]
            places.append(make_place(r, name=f"{chain['name']} – {city['city']}", category=chain["category"],
                                     city=city, website=website, used_ids=used_ids))
    return places


def main() -> None:
    places = generate()
    # One place per line: compact, yet a regenerated file diffs place by place.
    lines = ",\n".join(json.dumps(p, ensure_ascii=False, sort_keys=True) for p in places)
    OUT.write_text(f"[\n{lines}\n]\n", encoding="utf-8")
    with_site = sum(1 for p in places if p.get("websiteUri"))
    print(f"wrote {len(places)} places ({with_site} with a website) to {OUT}")


if __name__ == "__main__":
    main()
