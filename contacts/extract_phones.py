"""Phone number helpers for contacts.extract: tel: links, structured values, visible text."""
from __future__ import annotations

import re
from collections.abc import Iterator
from urllib.parse import unquote

import phonenumbers
from phonenumbers import Leniency, NumberParseException, PhoneNumberMatcher, PhoneNumberType

_TYPE_NAMES = {
    PhoneNumberType.FIXED_LINE: "fixed_line",
    PhoneNumberType.MOBILE: "mobile",
    PhoneNumberType.FIXED_LINE_OR_MOBILE: "fixed_line_or_mobile",
    PhoneNumberType.TOLL_FREE: "toll_free",
    PhoneNumberType.PREMIUM_RATE: "premium_rate",
    PhoneNumberType.SHARED_COST: "shared_cost",
    PhoneNumberType.VOIP: "voip",
    PhoneNumberType.PERSONAL_NUMBER: "personal",
    PhoneNumberType.PAGER: "pager",
    PhoneNumberType.UAN: "uan",
    PhoneNumberType.VOICEMAIL: "voicemail",
    PhoneNumberType.UNKNOWN: "unknown",
}

# ccTLDs whose ISO region differs from the label, and ccTLDs mostly used as generic
# (.io, .co, .ai, .tv, .me …) which say nothing about where the business is.
_TLD_REGION = {"uk": "GB", **{tld: None for tld in (
    "eu su ac io co ai tv me fm gg ly to ws cc sh la so vc gl ms nu tk cx im ag bz"
).split()}}
_SUPPORTED = frozenset(phonenumbers.SUPPORTED_REGIONS)


def number_type_name(number: phonenumbers.PhoneNumber) -> str:
    return _TYPE_NAMES.get(phonenumbers.number_type(number), "unknown")


def region_from_host(host: str | None) -> str | None:
    """``firma.de`` → ``DE``, ``shop.co.uk`` → ``GB``; None for generic TLDs (.com, .io …)."""
    if not host:
        return None
    tld = host.lower().rstrip(".").rsplit(".", 1)[-1]
    if len(tld) != 2:
        return None
    region = _TLD_REGION.get(tld, tld.upper())
    return region if region in _SUPPORTED else None


def region_from_lang(lang: str | None) -> str | None:
    """``de-DE`` / ``en_GB`` → ``DE`` / ``GB`` (only a region subtag counts)."""
    if not lang:
        return None
    m = re.match(r"^[a-zA-Z]{2,3}[-_]([a-zA-Z]{2})\b", lang.strip())
    if not m:
        return None
    region = m.group(1).upper()
    return "GB" if region == "UK" else (region if region in _SUPPORTED else None)


def parse_structured(raw: str, region: str | None) -> phonenumbers.PhoneNumber | None:
    """A number from a tel: link or a JSON-LD/microdata/vCard value (certain sources)."""
    value = unquote(raw).strip()
    if value.lower().startswith(("tel:", "callto:", "phone:")):
        value = value.split(":", 1)[1]
    value = value.split(";", 1)[0].split("?", 1)[0].strip()  # tel:+49…;ext=12 / ?call
    if not value:
        return None
    compact = re.sub(r"[\s().\-/]", "", value)
    if compact.startswith("00"):
        value = "+" + compact[2:]
    if not value.startswith("+") and region is None:
        return None
    try:
        number = phonenumbers.parse(value, None if value.startswith("+") else region)
    except NumberParseException:
        return None
    return number if phonenumbers.is_valid_number(number) else None


# Labels that make a digit group something other than a phone number.
_BAD_CONTEXT = re.compile(
    r"(?:\b(?:iban|bic|swift|ust|vat|fiscal|codice|c\.f\.|cod\.|mwst|steuer|tax|siret|siren|tva|cif|nif|p\.\s?iva|"
    r"partita|kvk|btw|rcs|hrb|hra|handelsregister|register|bestell|rechnung|invoice|factur|tracking|sendung|"
    r"artikel|sku|isbn|ean|gtin|konto|blz|plz|zip|postcode|postfach|cvr|fisc|size|gr[öo]ße|taglia|maat|"
    r"p\.?\s?o\.?\s?box|serial|aktenzeichen|capital|kapital|belegn)[\w.\-]*"
    r"|\b(?:order|customer|kunden|kd|account|article|item|case|ticket)[\s.\-]*(?:no|nr|number|nummer|id)\b\.?"
    r"|\b(?:nr|no|nº|ref|id|lot|charge|az|rea|pin|eur|usd|chf|gbp)\b\.?|[#€$£¥]|n[°º])\W*$",
    re.IGNORECASE,
)
_PHONE_LABEL = re.compile(
    r"(?:tel|phone|fon|handy|mobil|mobile|cell|ruf|appel|portable|t[ée]l[ée]phone|tel[ée]fono|"
    r"m[óo]vil|cellulare|telefoon|mob|call|hotline|whatsapp)[\w.\- /]{0,14}:?\W*$",
    re.IGNORECASE,
)
_FAX = re.compile(r"fax|facsimil|t[ée]l[ée]copi|telecopia|faks|факс|φαξ|(?:^|[\s|/,;·•(\]])F\s*[.:]?\s*$", re.IGNORECASE)
_FAX_F = re.compile(r"(?:^|[\s|/,;·•(\]])F\s*[.:]?\s*$")  # "T 030 … F 030 …": a capital F alone
_FAX_WORD = re.compile(r"fax|facsimil|t[ée]l[ée]copi|telecopia|faks|факс|φαξ", re.IGNORECASE)
# the kind written after the number: "202.299.1148 fax", "(fax)", "– Fax"
_FAX_AFTER = re.compile(
    r"^\s*(?:[(\[]\s*(?:fax|facsimile|telefax)\s*[)\]]"
    r"|[-–]?\s*(?:fax|facsimile|telefax)\b(?!\s*(?:number|no\.?|nr\.?)?\s*[.:]?\s*[+(\d]))",
    re.IGNORECASE,
)  # but "… Fax: 030 …" labels the NEXT number
_PHONE_AFTER = re.compile(
    r"^\s*(?:[(\[]\s*(?:voice|phone|tel)\s*[)\]]|[-–]?\s*(?:voice|phone)\b(?!\s*[.:]?\s*[+(\d]))",
    re.IGNORECASE,
)
_TELEFAX = re.compile(r"tele-?fax", re.IGNORECASE)
_AFTER_BAD = re.compile(
    r"^\s*(?:[€$£¥%]|eur\b|usd\b|chf\b|gbp\b|,-|,\d\d\b|kg\b|km\b|m²|qm\b|stk\b|g\b|gr\b|grams?\b|ml\b|cm\b|mm\b|"
    r"uur\b|uhr\b|h\b|hrs?\b)",
    re.IGNORECASE,
)
# opening hours written with dots: "09.00 - 18.00"
_HOURS = re.compile(r"^\(?[0-2]?\d[.:h][0-5]\d\s*(?:-|–|to|bis|tot|a)?\s*[0-2]?\d[.:h][0-5]\d\)?$")
_DATE = re.compile(
    r"\b(?:\d{4}[-./]\d{1,2}[-./]\d{1,2}|\d{1,2}[-./]\d{1,2}[-./](?:\d{4}|\d{2}))\b"
)
_TIME = re.compile(r"\d{1,2}[:h]\d{2}")
_HINT = re.compile(r"\d(?:[\s().\-/]{0,3}\d){5}")
_LAST_DIGIT = re.compile(r"\d(?=\D*$)")


_JOINER = re.compile(r"\s+[/\-–]\s+|\s*/\s*|\s{3,}")
_CANDIDATE = re.compile(r"\+?\(?\d[\d\s().\-/]{4,60}\d")


def _matches(line: str, region: str | None, cache: dict | None = None):
    """Run the matcher only on small windows around digit runs (prose is skipped:
    the matcher's per-candidate parsing is the expensive part). ``cache``: the matches per window
    text for this page and region (one number often sits under several labels and in repeated blocks)."""
    windows: list[list[int]] = []
    for cand in _CANDIDATE.finditer(line):
        digits = sum(c.isdigit() for c in cand.group(0))
        if digits > 17:  # several numbers in a row: "07535 657 161 / 07535 657 153", "0800 … - 0800 …"
            for part in _JOINER.split(cand.group(0)):
                if sum(c.isdigit() for c in part) >= 6:
                    ps = line.find(part, cand.start())
                    windows.append([max(0, ps - 1), min(len(line), ps + len(part) + 1)])
            continue
        if digits < 6:
            continue
        cs, ce = cand.start(), cand.end()
        if (cs and line[cs - 1] in ":,." and cs > 1 and line[cs - 2].isdigit()) or (line[ce:ce + 1] in (":", ",") and line[ce + 1:ce + 2].isdigit()):
            continue  # tail of a time (17:00 2024), price or decimal
        ws, we = max(0, cand.start() - 1), min(len(line), cand.end() + 1)
        if windows and ws <= windows[-1][1]:
            windows[-1][1] = we
        else:
            windows.append([ws, we])
    for ws, we in windows:
        window = line[ws:we]
        found = cache.get(window) if cache is not None else None
        if found is None:
            found = list(PhoneNumberMatcher(window, region, leniency=Leniency.VALID))
            if cache is not None:
                cache[window] = found
        for match in found:
            yield match, ws + match.start, ws + match.end


_VANITY = re.compile(
    r"(?<![\w+])(?:\+?1[-.\s]?)?\(?8(?:00|33|44|55|66|77|88)\)?[-.\s]?[A-Z0-9]{3}[-.\s]?[A-Z0-9]{4}(?!\w)"
)
_NANP = frozenset({"US", "CA"})


def _vanity(line: str, region: str | None):
    """North American toll-free vanity numbers (1-800-FLOWERS): the matcher skips letters."""
    for m in _VANITY.finditer(line):
        raw = m.group(0)
        if not any(c.isalpha() for c in raw) or (region not in _NANP and not raw.lstrip("(").startswith(("+1", "1"))):
            continue
        try:
            number = phonenumbers.parse(raw, "US")
        except NumberParseException:
            continue
        if phonenumbers.is_valid_number(number):
            yield raw.strip(), number


_INVISIBLE = "\u200b\u200c\u200d\u2060\ufeff\xad\u200e\u200f"
_ODD_SPACES = "\xa0\u202f\u2007\u2009\u2002\u2003\u2005\u2006\u2008\u200a\u3000\t"
_ODD_DASHES = "\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe63\uff0d"
# a number glued to the next label ("030 2345678Fax 030 …", "…679E-Mail"); glued to any other word it
# is part of something else (an ad text, a product code)
_GLUED = re.compile(r"(\d)(?=(?:fax|tel|e-?mail|mail|phone|mobil|handy|fon|www|web|internet|http|mob|cell|office)\b)",
                    re.IGNORECASE)


def normalize_text(text: str) -> str:
    """Invisible characters out (zero-width, soft hyphen), exotic spaces and dashes to plain ones
    (``in`` + ``replace`` per character: C-speed scans, most pages have few of them)."""
    for chars, repl in ((_INVISIBLE, ""), (_ODD_SPACES, " "), (_ODD_DASHES, "-")):
        for ch in chars:
            if ch in text:
                text = text.replace(ch, repl)
    return text


_LABEL_GLUED = re.compile(r"(?i)\b(tel|telefon|fon|phone|fax|telefax|mobil|handy)(\.?:?)(?=[+(\d])")


def unglue(line: str) -> str:
    """A number glued to the next word ("030 1234567Fax") or to its label ("Tel030 …") separated
    from it (the matcher refuses numbers touching letters)."""
    return _LABEL_GLUED.sub(r"\1\2 ", _GLUED.sub(r"\1 ", line))


def fax_label(label: str) -> bool:
    """True when the text just before a number says it is a fax (Fax, Telefax, "F:", Facsimile…)
    and does not also say it is a phone ("Tel./Fax" is both: see :func:`label_kinds`)."""
    if not _FAX_WORD.search(label) and not _FAX_F.search(label):
        return False
    return not _PHONE_LABEL.search(_TELEFAX.sub("fax", label))


def label_kinds(label: str, after: str = "") -> tuple[str, ...]:
    """What the label before a number (or the word after it) says it is: ``("phone",)``,
    ``("fax",)``, or both for "Tel./Fax" — one number given for both."""
    if _FAX_AFTER.match(after):
        return ("fax",)
    if _PHONE_AFTER.match(after):
        return ("phone",)
    if not _FAX_WORD.search(label) and not _FAX_F.search(label):
        return ("phone",)
    if _PHONE_LABEL.search(_TELEFAX.sub("fax", label)) and re.search(r"(?i)\b(?:tel|phone|fon)\w*\.?\s*/\s*(?:tele)?fax", label):
        return ("phone", "fax")
    return ("phone",) if _PHONE_LABEL.search(_TELEFAX.sub("fax", label)) else ("fax",)


# "0711 12345-20 oder -22": a second extension written as a suffix of the first number
_EXT_SUFFIX = re.compile(r"^\s*(?:,|/|or|oder|od\.|und|and|ou|et|o|y|e|of|en)?\s*-\s*(\d{1,4})(?!\d)", re.IGNORECASE)
_TRAILING_EXT = re.compile(r"-\s*(\d{1,4})\s*$")
# a phone label as a word of its own ("Tel.", "Telefon:") — not "tel" inside "Bestellnummer"
_LABEL_WORD = re.compile(
    r"(?<![^\W\d_])(?:tel|telefon|phone|fon|handy|mobil|mobile|cell|t[ée]l[ée]phone|tel[ée]fono|m[óo]vil|"
    r"cellulare|telefoon|hotline)\.?\s*:?\s*$",
    re.IGNORECASE,
)
_TRUNKLESS = re.compile(r"\(?\d[\d\s()./\-]{5,20}\d")


def _extension_siblings(raw: str, after: str, region: str | None):
    """Numbers written as "<number>-20 or -22": the one matched plus the one with the second extension."""
    m = _TRAILING_EXT.search(raw)
    if not m:
        return
    s = _EXT_SUFFIX.match(after)
    if not s:
        return
    other = raw[: m.start(1)] + s.group(1)
    try:
        number = phonenumbers.parse(other, region)
    except NumberParseException:
        return
    if phonenumbers.is_valid_number(number):
        yield other, number


def _trunkless(line: str, region: str | None, found_spans: list[tuple[int, int]]):
    """Labelled national numbers written without their trunk prefix ("Tel. 30 1234567" in DE):
    the matcher wants the prefix, a plain parse does not. Only right after a phone/fax label."""
    if region is None:
        return
    for m in _TRUNKLESS.finditer(line):
        if any(s < m.end() and m.start() < e for s, e in found_spans):
            continue
        before = line[max(0, m.start() - 20):m.start()]
        if not (_LABEL_WORD.search(before) or fax_label(before)) or _BAD_CONTEXT.search(before):
            continue
        raw = m.group(0).strip()
        if raw.startswith("0") or len(re.sub(r"\D", "", raw)) < 6:
            continue  # with a trunk prefix the matcher already decided
        try:
            number = phonenumbers.parse(raw, region)
        except NumberParseException:
            continue
        if phonenumbers.is_valid_number(number):
            yield raw, number, m.start(), m.end()


# whitespace but the line break: a line's digit run never reaches into the next line
_SPACE_NO_NL = "".join(c for c in map(chr, range(0x3001)) if c.isspace() and c != "\n")
_SPACE_CLASS = "".join(f"\\u{ord(c):04x}" for c in _SPACE_NO_NL)
# the lines worth a look: a _HINT run within the line, or a toll-free prefix (1-800-FLOWERS)
# (one leading character class: the engine skips non-digits in C)
_LINE_HINT = re.compile(r"\d(?:(?:[%s().\-/]{0,3}\d){5}|(?<=8)(?:00|33|44|55|66|77|88))" % _SPACE_CLASS)


def _candidate_lines(text: str):
    """``(line, above)`` for the lines that can hold a number, in order, each once: one C-level scan
    finds them instead of a Python loop over every line of the page (most lines hold no digits).
    ``above`` is the nearest non-empty line before it, stripped."""
    find_nl, rfind_nl = text.find, text.rfind
    next_start = 0  # lines before this offset were yielded already
    for m in _LINE_HINT.finditer(text):
        pos = m.start()
        if pos < next_start:
            continue
        start = rfind_nl("\n", 0, pos) + 1
        end = find_nl("\n", pos)
        if end == -1:
            end = len(text)
        next_start = end + 1
        # the nearest non-empty line above: from a bounded look-back (C-level rstrip), else line by line
        lo = max(0, start - 400)
        back = text[lo:start].rstrip()
        cut = back.rfind("\n")
        if back and (cut != -1 or lo == 0):
            yield text[start:end], back[cut + 1:].strip()
            continue
        above = ""
        stop = start - 1  # the "\n" that ends the line before
        while stop >= 0:
            begin = rfind_nl("\n", 0, stop) + 1
            above = text[begin:stop].strip()
            if above or begin == 0:
                break
            stop = begin - 1
        yield text[start:end], above


def iter_text_phones(text: str, region: str | None) -> Iterator[tuple[str, phonenumbers.PhoneNumber, str]]:
    """``(raw, number, kind)`` for valid phone numbers written in visible text; kind is
    ``phone`` or ``fax`` (labelled Fax, Telefax, "F:" …).

    Lines without six digits in a row (allowing separators) are skipped before
    the (comparatively slow) matcher runs. Matches that are dates, times,
    prices, parts of longer digit runs, or labelled as IBAN/VAT/order
    numbers are dropped. ``text`` should have gone through :func:`normalize_text`.
    """
    seen: set[str] = set()
    matched: dict[str, list] = {}
    # "above" is the last non-empty line: "Fax:" on its own line labels the number below it
    for line, above in _candidate_lines(text):
        # Repeated blocks (menus, footers, boilerplate) give the same numbers: match each line once
        # (a line alone holding a number is matched again under each label).
        key = line if _HINT.search(above) or len(above) > 40 else f"{above}\n{line}"
        if key in seen:
            continue
        seen.add(key)
        if "8" in line and (region in _NANP or "1" in line):
            for raw, number in _vanity(line, region):
                yield raw, number, "phone"
        if not _HINT.search(line):
            continue
        line = unglue(line)
        spans: list[tuple[int, int]] = []
        bad_end = -10
        for match, start, end in _matches(line, region, matched):
            spans.append((start, end))
            raw = match.raw_string
            if _DATE.search(raw) or _TIME.search(raw) or _HOURS.match(raw.strip()):
                continue
            before = line[max(0, start - 40):start]
            m = _LAST_DIGIT.search(before)
            label = before[m.end():] if m else before
            if not label.strip(" \t:|-–·•") and len(above) <= 40 and not _HINT.search(above):
                label = above + " " + label  # the label sits on the line above
            phone_label = _PHONE_LABEL.search(_TELEFAX.sub("fax", label))
            after = line[end:end + 12]
            kinds = label_kinds(label, after)
            if kinds == ("phone",) and not phone_label and (
                _BAD_CONTEXT.search(label) or (start - bad_end <= 3 and not line[bad_end:start].strip(" ;,/"))
            ):
                bad_end = end  # "PIN: 25.07.400.004; 25.18.200.002": the list goes on under the same label
                continue
            # glued to a longer digit/letter run (IBAN, tracking ids, "DE89 3704 …"); a label glued
            # to the number ("Telefon030 …") is fine
            if before[-1:].isdigit() or (before[-1:].isalpha() and not (phone_label or "fax" in kinds)):
                continue
            if len(before) >= 2 and before[-1] in " -./" and before[-2].isdigit():
                continue
            if after[:1].isalpha():
                continue
            if after[:1].isdigit() or (len(after) >= 2 and after[0] in " -./" and after[1].isdigit()):
                if not _EXT_SUFFIX.match(after):
                    continue
            if _AFTER_BAD.match(after):
                continue
            if kinds == ("phone",) and not phone_label:
                kinds = ("phone?",)  # no label: a phone unless the page calls the number a fax elsewhere
            for kind in kinds:
                yield raw.strip(), match.number, kind
                for other, number in _extension_siblings(raw.strip(), line[end:end + 20], region):
                    yield other, number, kind
        for raw, number, start, _end in _trunkless(line, region, spans):
            before = line[max(0, start - 40):start]
            for kind in label_kinds(before):
                yield raw, number, kind
