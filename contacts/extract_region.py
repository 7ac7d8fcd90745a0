"""Where is the business? The region used to read national phone numbers, inferred from the page.

Strongest first: the region the caller knows (the business's country), the site's
ccTLD, a country in the page's structured address (JSON-LD ``addressCountry``),
the country codes of the page's international numbers, a postal address in the
text (country names, "D-80331", "CH-8001"), the ``lang`` region subtag, then a
language spoken in essentially one numbering plan (de → DE, fr → FR …).
"""
from __future__ import annotations

import re
from collections import Counter

import phonenumbers

from contacts.extract_phones import region_from_host, region_from_lang

_SUPPORTED = frozenset(phonenumbers.SUPPORTED_REGIONS)

# Languages whose speakers (on the web, for local businesses) are overwhelmingly in one plan.
_LANG_REGION = {
    "de": "DE", "fr": "FR", "es": "ES", "it": "IT", "nl": "NL", "pl": "PL", "cs": "CZ", "sk": "SK",
    "da": "DK", "sv": "SE", "nb": "NO", "nn": "NO", "no": "NO", "fi": "FI", "pt": "PT", "el": "GR",
    "hu": "HU", "ro": "RO", "bg": "BG", "hr": "HR", "sl": "SI", "lt": "LT", "lv": "LV", "et": "EE",
    "tr": "TR", "ja": "JP", "ko": "KR", "uk": "UA", "he": "IL", "is": "IS", "ca": "ES", "eu": "ES",
}

# Country names (several languages) and postal-code prefixes seen in addresses.
_COUNTRY_WORDS = {
    "deutschland": "DE", "germany": "DE", "allemagne": "DE", "alemania": "DE", "germania": "DE",
    "österreich": "AT", "austria": "AT", "autriche": "AT",
    "schweiz": "CH", "switzerland": "CH", "suisse": "CH", "svizzera": "CH", "suiza": "CH",
    "france": "FR", "frankreich": "FR", "francia": "FR",
    "españa": "ES", "spain": "ES", "spanien": "ES", "espagne": "ES",
    "italia": "IT", "italy": "IT", "italien": "IT", "italie": "IT",
    "nederland": "NL", "netherlands": "NL", "niederlande": "NL", "pays-bas": "NL",
    "belgique": "BE", "belgië": "BE", "belgium": "BE", "belgien": "BE",
    "luxembourg": "LU", "luxemburg": "LU",
    "united kingdom": "GB", "england": "GB", "scotland": "GB", "wales": "GB",
    "ireland": "IE", "éire": "IE",
    "polska": "PL", "poland": "PL", "polen": "PL",
    "danmark": "DK", "denmark": "DK", "dänemark": "DK",
    "sverige": "SE", "sweden": "SE", "schweden": "SE",
    "norge": "NO", "norway": "NO", "norwegen": "NO",
    "suomi": "FI", "finland": "FI",
    "portugal": "PT", "česká republika": "CZ", "czech republic": "CZ", "tschechien": "CZ",
    "australia": "AU", "new zealand": "NZ", "canada": "CA", "usa": "US", "united states": "US",
    "méxico": "MX", "mexico": "MX", "argentina": "AR", "chile": "CL", "colombia": "CO", "perú": "PE",
    "brasil": "BR", "brazil": "BR", "india": "IN", "south africa": "ZA", "japan": "JP",
}
_COUNTRY_RE = re.compile(
    r"(?<![\w-])(" + "|".join(sorted(map(re.escape, _COUNTRY_WORDS), key=len, reverse=True)) + r")(?![\w-])",
    re.IGNORECASE,
)


def _by_first_letter(codes: list[str], exclude_before: str = r"\w") -> str:
    r"""``\b(?:AL|AK|…)`` written to start with a character class (the regex engine then skips every
    other character in C instead of trying the alternation at each position): the first letter, a
    look-behind for the boundary, then each first letter's endings in their original order."""
    endings: dict[str, list[str]] = {}
    for code in codes:
        endings.setdefault(code[0], []).append(code[1:])
    branches = "|".join(f"(?<={first})(?:{'|'.join(rest)})" for first, rest in endings.items())
    return r"[%s](?<!%s[%s])(?:%s)" % ("".join(endings), exclude_before, "".join(endings), branches)


_POSTAL_PREFIX_CODES = ["D", "A", "CH", "F", "I", "NL", "B", "L", "DK", "S", "N", "FI", "PL", "CZ", "E", "P"]
# (?<![\w-])(D|A|CH|…)-\d{4,5}\b, starting with a character class (see _by_first_letter)
_POSTAL_PREFIX = re.compile(r"(%s)-\d{4,5}\b" % _by_first_letter(_POSTAL_PREFIX_CODES, r"[\w-]"))
_POSTAL_REGION = {"D": "DE", "A": "AT", "CH": "CH", "F": "FR", "I": "IT", "NL": "NL", "B": "BE", "L": "LU",
                  "DK": "DK", "S": "SE", "N": "NO", "FI": "FI", "PL": "PL", "CZ": "CZ", "E": "ES", "P": "PT"}
# Postal codes whose shape names the country (written after a state/province, or before a city).
_US_STATES = ("AL AK AZ AR CA CO CT DE DC FL GA HI ID IL IN IA KS KY LA ME MD MA MI MN MS MO MT NE NV NH NJ NM NY "
              "NC ND OH OK OR PA RI SC SD TN TX UT VT VA WA WV WI WY").split()
_CA_PROVINCES = "AB BC MB NB NL NS NT NU ON PE QC SK YT".split()

# \b(?:AL|AK|…)\.?,?\s+\d{5}(?:-\d{4})?\b and the like, each starting with a character class
_POSTAL_SHAPES = (
    (re.compile(r"%s\.?,?\s+\d{5}(?:-\d{4})?\b" % _by_first_letter(_US_STATES)), "US"),
    (re.compile(r"%s\.?,?\s+[A-Z]\d[A-Z]\s?\d[A-Z]\d\b" % _by_first_letter(_CA_PROVINCES)), "CA"),
    (re.compile(r"[A-Z](?<!\w[A-Z])[A-Z]?\d[A-Z\d]?\s\d[ABD-HJLNP-UW-Z]{2}\b"), "GB"),
    (re.compile(r"[1-9](?<!\w[1-9])\d{3}\s?[A-Z]{2}\s+[A-Z][a-z]{2,}"), "NL"),
)
# \d{4}|\d[A-Z]{2}\b|[A-Z]\d[A-Z], written to start with a character class: the regex engine then skips
# the other characters in C (2.3x faster over a page's text)
_POSTAL_TOKEN = re.compile(r"[\dA-Z](?:(?<=\d)\d{3}|(?<=\d)[A-Z]{2}\b|(?<=[A-Z])\d[A-Z])")
# North American numbers written the North American way: (413) 732-8702, 413.732.8702, 1-800-…
#   (?<![\d+])(?:1[-.\s])?\(?[2-9]\d{2}\)?[-.\s]\s?[2-9]\d{2}[-.]\d{4}(?!\d)
# written to start with a character class (the engine skips other characters in C; as written above it
# is tried at every position: ~3 ms on a large page); the three branches are the three first characters
_NANP_REST = r"\)?[-.\s]\s?[2-9]\d{2}[-.]\d{4}(?!\d)"
_NANP_SHAPE = re.compile(
    r"[(1-9](?<![\d+][(1-9])(?:(?<=1)[-.\s]\(?[2-9]\d{2}%s|(?<=\()[2-9]\d{2}%s|(?<=[2-9])\d{2}%s)"
    % (_NANP_REST, _NANP_REST, _NANP_REST)
)
_INTL = re.compile(r"\+(\d{1,3})[\s(./\-]*\d[\d\s()./\-]{4,}\d")


def _valid(region: str | None) -> str | None:
    region = (region or "").strip().upper()
    if region == "UK":
        region = "GB"
    return region if region in _SUPPORTED else None


def region_from_country(value) -> str | None:
    """JSON-LD addressCountry: "DE", "Germany", {"name": "Deutschland"}."""
    if isinstance(value, dict):
        value = value.get("name") or value.get("@id") or ""
    if not isinstance(value, str):
        return None
    value = value.strip()
    if len(value) == 2:
        return _valid(value)
    return _COUNTRY_WORDS.get(value.lower())


def region_from_numbers(text: str) -> str | None:
    """The country most of the page's international numbers belong to."""
    counts: Counter = Counter()
    for m in _INTL.finditer(text):
        digits = m.group(1)
        for size in (1, 2, 3):
            code = int(digits[:size]) if len(digits) >= size else None
            if code is None:
                break
            region = phonenumbers.region_code_for_country_code(code)
            if region != "ZZ":
                counts[region] += 1
                break
    return counts.most_common(1)[0][0] if counts else None


_POSTCODE_LINE = re.compile(r"\d(?<!\w\d)\d{3,4}(?!\w)")  # \b\d{4,5}\b, starting with a character class


def _lines_with(pattern: re.Pattern, text: str):
    """``(line, start, end)`` of each line holding a match of ``pattern`` (which never spans lines),
    in order, each once: the search jumps to the next line after a hit (C-level scans, no Python
    loop over the page's lines)."""
    pos, size = 0, len(text)
    search, find, rfind = pattern.search, text.find, text.rfind
    while pos <= size:
        m = search(text, pos)
        if m is None:
            return
        start = rfind("\n", 0, m.start()) + 1
        end = find("\n", m.end())
        end = size if end == -1 else end
        yield text[start:end], start, end
        pos = end + 1


def region_from_address(text: str) -> str | None:
    """A postal code with a country prefix ("D-80331") or of a country's own shape (US "MA 01105",
    UK "E14 9SR", Canada "ON M5V 2T6", NL "6247 BK Gronsveld"), else a country named on an
    address line (a line with a postal code, or the line after one): the most frequent wins."""
    # only lines with a postal-code-like token are searched (the shapes' alternations are slow)
    address_text = "\n".join(line for line, _start, _end in _lines_with(_POSTAL_TOKEN, text))
    counts: Counter = Counter()
    for m in _POSTAL_PREFIX.finditer(address_text):
        counts[_POSTAL_REGION[m.group(1)]] += 2
    for pattern, region in _POSTAL_SHAPES:
        counts[region] += len(pattern.findall(address_text))
    counts = +counts
    if counts:
        return counts.most_common(1)[0][0]
    for line, _start, end in _lines_with(_POSTCODE_LINE, text):
        after = text.find("\n", end + 1) if end < len(text) else -1
        window = line + "\n" + (text[end + 1:len(text) if after == -1 else after] if end < len(text) else "")
        counts.update(_COUNTRY_WORDS[m.group(1).lower()] for m in _COUNTRY_RE.finditer(window))
    return counts.most_common(1)[0][0] if counts else None


def region_from_number_shapes(text: str) -> str | None:
    """A number written in the North American format says US/Canada (one plan: +1); a last resort."""
    return "US" if _NANP_SHAPE.search(text) else None


def region_from_language(lang: str | None) -> str | None:
    """``de-AT`` → AT; ``de`` → DE (a language spoken in one numbering plan); ``en`` → None."""
    region = region_from_lang(lang)
    if region:
        return region
    primary = (lang or "").strip().lower().replace("_", "-").split("-", 1)[0]
    return _LANG_REGION.get(primary)


def infer_region(*, known: str | None, hosts: tuple[str, ...], structured_countries: list,
                 text: str, lang: str | None) -> tuple[str | None, str]:
    """``(region, how)``: the region to read national numbers with, and which clue gave it."""
    if _valid(known):
        return _valid(known), "known"
    for host in hosts:
        region = region_from_host(host)
        if region:
            return region, "cctld"
    for country in structured_countries:
        region = region_from_country(country)
        if region:
            return region, "structured_address"
    region = region_from_numbers(text)
    if region:
        return region, "international_numbers"
    region = region_from_address(text)
    if region:
        return region, "postal_address"
    region = region_from_language(lang)
    if region:
        return region, "language"
    region = region_from_number_shapes(text)
    if region:
        return region, "number_format"
    return None, ""
