"""Contact extraction from one HTML page: emails, phones, faxes, social profiles, people, metadata.

Pure and deterministic: ``extract_page(html, url=…)`` parses the page once (a
browser-like HTML5 tree, see ``extract_html``) and returns an
:class:`ExtractionResult` with every contact (each value carries its provenance,
the extraction ``method``, and a confidence) and the page's metadata (title,
description, h1, canonical URL, language, word count, social links), so the
scrape path never parses a page twice. No network, no database, no Django
models. ``extract_contacts`` is the same call under its older name.

Sources, strongest first (one record per normalized email / E.164 number):

* emails — ``mailto:`` links (query strings, %-encoding, several recipients,
  doubled ``mailto:mailto:``), JSON-LD and microdata, Cloudflare
  ``data-cfemail``, TYPO3 ``linkTo_UnCryptMailto`` / ``data-mailto-token``,
  Joomla's cloak scripts, visible text, HTML entities, "[at]/(at)/[ad]/AT …
  [dot]/DOT" obfuscations; placeholders (vorname.nachname@, prenom.nom@ …) are
  not contacts;
* phones and faxes — ``tel:`` links (the visible number wins when the link's
  target disagrees with it; a link whose text, icon or label says fax is a fax),
  structured data (``telephone`` / ``faxNumber``, hCard ``type=fax``), numbers
  in visible text (labelled "Fax", "Telefax", "F:" → fax); national numbers are
  read with the region given, or inferred from the page (``extract_region``);
* socials — canonical profile URLs (LinkedIn, Facebook, Instagram, X, YouTube,
  TikTok, WhatsApp, Pinterest, Xing, Threads, Bluesky, Mastodon, Vimeo,
  GitHub) from links, ``onclick`` / ``data-href`` and JSON-LD ``sameAs``, each
  with where on the page it was found; posts are not profiles, and links in
  embeds, author bylines and comments are third parties';
* people — JSON-LD Person (0.95), hCard and microdata Person (0.9), team-page
  cards (0.6).
"""
from __future__ import annotations

import dataclasses
import os
import re
from dataclasses import dataclass, field
from urllib.parse import unquote, urljoin, urlsplit

import phonenumbers
from lxml import etree

from contacts.extract_data import is_free_provider_domain, is_role_local_part, registrable_domain
from contacts.extract_emails import (
    ENTITY_AT,
    clean_email,
    decode_cfemail,
    decode_typo3,
    iter_joomla_cloak,
    iter_obfuscated,
    iter_text_emails,
    iter_typo3,
    mailto_addresses,
)
from contacts.extract_html import decode, noscript_unclosed, parse, text_of, visible_text
from contacts.extract_meta import EMPTY_METADATA, base_url, page_metadata, word_count
from contacts.extract_phones import (
    fax_label,
    iter_text_phones,
    normalize_text,
    number_type_name,
    parse_structured,
    region_from_host,
)
from contacts.extract_region import infer_region, region_from_language
from contacts.extract_thirdparty import foreign_blocks
from contacts.extract_structured import (
    Structured,
    jsonld,
    looks_like_name,
    microdata,
    team_members,
    vcards,
)
from pages.social import canonical_social

__all__ = [
    "EMAIL_METHODS",
    "PHONE_METHODS",
    "ExtractionResult",
    "FoundEmail",
    "FoundPerson",
    "FoundPhone",
    "FoundSocial",
    "clean_email",
    "decode_cfemail",
    "extract_contacts",
    "extract_page",
    "looks_like_name",
]

# Strongest first: a duplicate keeps the method that ranks first here.
EMAIL_METHODS = ("mailto", "jsonld", "microdata", "cfemail", "encoded", "text", "entity", "obfuscated")
EMAIL_CONFIDENCE = {
    "mailto": 0.95, "jsonld": 0.95, "microdata": 0.9, "cfemail": 0.9, "encoded": 0.9,
    "text": 0.85, "entity": 0.8, "obfuscated": 0.7,
}
PHONE_METHODS = ("tel", "jsonld", "text")
PHONE_CONFIDENCE = {"tel": 0.95, "jsonld": 0.95, "text": 0.7}
PERSON_METHODS = ("jsonld", "vcard", "microdata", "team_pattern")
# where a social link was found; the first group marks the site's own profiles
SOCIAL_STRONG_PLACES = ("jsonld", "microdata", "header", "footer", "nav", "social", "contact", "aside")
_DEFAULT_MAX_TEXT_CHARS = 2_000_000


@dataclass(frozen=True)
class FoundEmail:
    value: str  # as written on the page
    normalized: str  # validated by email-validator, lower-cased
    method: str  # one of EMAIL_METHODS
    is_role: bool
    on_domain: bool  # same registrable domain as the site (subdomains count)
    is_free_provider: bool
    name: str | None = None
    title: str | None = None
    confidence: float = 0.0


@dataclass(frozen=True)
class FoundPhone:
    """A phone or fax number (``ExtractionResult.phones`` / ``.faxes``)."""

    raw: str  # as written (or the tel: target)
    e164: str
    number_type: str  # mobile | fixed_line | fixed_line_or_mobile | toll_free | voip | …
    method: str  # tel | jsonld | text  (microdata / vCard values count as jsonld: structured)
    certain: bool  # tel: links and structured data are certain; text matches are not
    region: str | None
    name: str | None = None
    title: str | None = None
    confidence: float = 0.0


@dataclass(frozen=True)
class FoundSocial:
    network: str  # one of extract_social.NETWORKS
    url: str  # canonical profile URL
    handle: str
    method: str  # link | jsonld | microdata
    location: str = "body"  # jsonld | microdata | header | footer | nav | social | contact | aside | article | main | body


@dataclass(frozen=True)
class FoundPerson:
    name: str
    title: str | None
    email: str | None  # normalized
    phone: str | None  # E.164
    method: str  # jsonld | vcard | microdata | team_pattern
    confidence: float


@dataclass(frozen=True)
class ExtractionResult:
    emails: tuple[FoundEmail, ...] = ()
    phones: tuple[FoundPhone, ...] = ()
    socials: tuple[FoundSocial, ...] = ()
    people: tuple[FoundPerson, ...] = ()
    faxes: tuple[FoundPhone, ...] = ()
    # title, meta_description, h1, canonical_url, language, word_count, social_links
    metadata: dict = field(default_factory=lambda: dict(EMPTY_METADATA, social_links=[]))
    region: str | None = None  # the region national numbers were read with
    region_source: str = ""  # known | cctld | structured_address | international_numbers | postal_address | language

    def __bool__(self) -> bool:
        return bool(self.emails or self.phones or self.faxes or self.socials or self.people)


# --- settings ----------------------------------------------------------------------

def _max_text_chars() -> int:
    try:
        from django.conf import settings

        if settings.configured:
            return int(getattr(settings, "CONTACTS_MAX_TEXT_CHARS", _DEFAULT_MAX_TEXT_CHARS))
    except Exception:  # pragma: no cover - Django missing or misconfigured
        pass
    return int(os.environ.get("CONTACTS_MAX_TEXT_CHARS") or _DEFAULT_MAX_TEXT_CHARS)


# --- accumulation ------------------------------------------------------------------

def _keep_best(store: dict, key: str, found, methods: tuple[str, ...]):
    old = store.get(key)
    if old is None:
        store[key] = found
        return
    best, other = (old, found) if methods.index(old.method) <= methods.index(found.method) else (found, old)
    if best.name is None and other.name:
        best = dataclasses.replace(best, name=other.name, title=best.title or other.title)
    store[key] = best


class _Acc:
    """Accumulates findings and keeps the strongest per key."""

    def __init__(self, site_reg: str | None, region: str | None):
        self.site_reg = site_reg
        self.region = region
        self.emails: dict[str, FoundEmail] = {}
        self.phones: dict[str, FoundPhone] = {}
        self.faxes: dict[str, FoundPhone] = {}
        self.socials: dict[str, FoundSocial] = {}
        self.labelled_phones: set[str] = set()  # e164 of numbers some text label calls a phone
        self.described: dict[tuple, tuple[str, str, str | None]] = {}

    def email(self, value: str, method: str, name=None, title=None, written: str | None = None) -> str | None:
        normalized = clean_email(value)
        if normalized is None:
            return None
        local, _, domain = normalized.rpartition("@")
        found = FoundEmail(
            value=(written or value).strip(), normalized=normalized, method=method,
            is_role=is_role_local_part(local),
            on_domain=self.site_reg is not None and registrable_domain(domain) == self.site_reg,
            is_free_provider=is_free_provider_domain(domain),
            name=name, title=title, confidence=EMAIL_CONFIDENCE[method],
        )
        _keep_best(self.emails, normalized, found, EMAIL_METHODS)
        return normalized

    def number(self, raw: str, method: str, number=None, name=None, title=None, fax: bool = False) -> str | None:
        if number is None:
            number = parse_structured(raw, self.region)
            if number is None:
                return None
        e164, number_type, number_region = self.describe(number)
        if raw.lower().startswith(("tel:", "callto:", "fax:")):
            raw = unquote(raw.split(":", 1)[1]).strip()
        found = FoundPhone(
            raw=raw, e164=e164, number_type=number_type, method=method,
            certain=method != "text", region=number_region,
            name=name, title=title, confidence=PHONE_CONFIDENCE[method],
        )
        _keep_best(self.faxes if fax else self.phones, e164, found, PHONE_METHODS)
        return e164

    def describe(self, number) -> tuple[str, str, str | None]:
        """(E.164, type, region) of a number, each worked out once per page (the same number is
        often a tel: link, structured data and text: the type and region lookups are costly)."""
        key = (number.country_code, number.national_number, number.italian_leading_zero,
               number.number_of_leading_zeros, number.extension)
        described = self.described.get(key)
        if described is None:
            described = self.described[key] = (
                phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164),
                number_type_name(number), phonenumbers.region_code_for_number(number),
            )
        return described

    def social(self, url: str, method: str, location: str, rel_me: bool = False, canon=None) -> str | None:
        if canon is None:  # the caller may have canonicalised the URL already
            canon = canonical_social(url, rel_me=rel_me)
        if canon is None:
            return None
        network, curl, handle = canon
        old = self.socials.get(curl)
        if old is None or (old.location not in SOCIAL_STRONG_PLACES and location in SOCIAL_STRONG_PLACES):
            self.socials[curl] = FoundSocial(network=network, url=curl, handle=handle, method=method, location=location)
        return curl

    def drop_foreign(self, blocks: list[str]) -> None:
        """Numbers and off-site addresses written in other organisations' contact cards are theirs
        (never all of a page's numbers: then the "card" was the business's own)."""
        numbers: set[str] = set()
        addresses: set[str] = set()
        for block in blocks:
            for _raw, number, _kind in iter_text_phones(normalize_text(block), self.region):
                numbers.add(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164))
            for value in iter_text_emails(block):
                normalized = clean_email(value)
                if normalized and not self.emails.get(normalized, FoundEmail("", "", "", False, True, False)).on_domain:
                    addresses.add(normalized)
        kept = [e for e in self.phones if e not in numbers]
        if kept:
            for store in (self.phones, self.faxes):
                for e164 in [e for e, found in store.items() if e in numbers and found.method != "jsonld"]:
                    del store[e164]
        for normalized in addresses:
            self.emails.pop(normalized, None)

    def settle(self) -> None:
        """A number that certain markup calls a fax and only running text calls a phone is a fax;
        so is one labelled Fax somewhere and written without any label elsewhere."""
        for e164, fax in self.faxes.items():
            phone = self.phones.get(e164)
            if phone is None or phone.method == "tel" or e164 in self.labelled_phones:
                continue
            # structured data or unlabelled text call it a phone, a label or markup calls it a fax
            if phone.method == "text" or fax.method == "text":
                del self.phones[e164]


# --- where on the page -------------------------------------------------------------

_THIRD_PARTY = re.compile(
    r"twitter-tweet|twitter-timeline|instagram-media|tiktok-embed|fb-post|fb-comments|embed|"
    r"author|byline|comment|advert|sponsor|\bads?\b|\bad-|-ad\b|\bshare\b|share-|-share|sharer|sharing|addthis|"
    r"sharethis|teilen",
    re.IGNORECASE,
)
_PLACE_WORDS = (
    ("footer", "footer"), ("header", "header"), ("masthead", "header"), ("topbar", "header"),
    ("social", "social"), ("follow", "social"), ("contact", "contact"), ("kontakt", "contact"),
    ("impressum", "contact"), ("sidebar", "aside"), ("navbar", "nav"), ("menu", "nav"),
)
_PLACE_TAGS = {"header": "header", "footer": "footer", "nav": "nav", "aside": "aside", "address": "contact",
               "article": "article", "main": "main"}
_PLACE_ROLES = {"banner": "header", "contentinfo": "footer", "navigation": "nav", "complementary": "aside"}


def _location(el) -> str | None:
    """Where a link sits (innermost landmark wins), or None inside a third party's block
    (an embedded post, an author byline, comments, an advertisement, share buttons)."""
    place = None
    for depth, anc in enumerate(el.iterancestors()):
        if depth > 40:
            break
        marks = f"{anc.get('class') or ''} {anc.get('id') or ''}"
        if marks.strip() and _THIRD_PARTY.search(marks):
            return None
        if place is None:
            place = _PLACE_TAGS.get(anc.tag) or _PLACE_ROLES.get((anc.get("role") or "").lower())
            if place is None and marks.strip():
                low = marks.lower()
                place = next((p for word, p in _PLACE_WORDS if word in low), None)
    return place or "body"


def _text_before(el, limit: int = 40) -> str:
    """The text just before an element in document order (its label), at most ``limit`` characters."""
    parts: list[str] = []
    size = 0
    node = el
    while size < limit:
        prev = node.getprevious()
        if prev is not None:
            chunk = (text_of(prev) if isinstance(prev.tag, str) else "") + (prev.tail or "")
            node = prev
        else:
            parent = node.getparent()
            if parent is None:
                break
            chunk = parent.text or ""
            node = parent
        parts.append(chunk)
        size += len(chunk)
    label = "".join(reversed(parts))[-limit:]
    m = _LAST_DIGIT.search(label)
    return label[m.end():] if m else label


_LAST_DIGIT = re.compile(r"\d(?=\D*$)")
_FAX_MARK = re.compile(r"fax|t[ée]l[ée]copi", re.IGNORECASE)
_PHONE_WORD = re.compile(r"\b(?:tel|phone|fon|mobil|handy)", re.IGNORECASE)


def _is_fax_link(a, href: str) -> bool:
    if href[:4].lower() == "fax:":
        return True
    attrs = " ".join(filter(None, (a.get("class"), a.get("title"), a.get("aria-label"), a.get("id"))))
    if _FAX_MARK.search(attrs):
        return True
    inner = text_of(a)
    if _FAX_MARK.search(inner) and not _PHONE_WORD.search(inner):
        return True
    for child in a.iter():  # an icon: <i class="fa fa-fax">
        if child is not a and _FAX_MARK.search(child.get("class") or ""):
            return True
    prev = a.getprevious()
    if prev is not None and isinstance(prev.tag, str) and _FAX_MARK.search(prev.get("class") or ""):
        return True
    return fax_label(_text_before(a))


_FAX_ICON_XPATH = etree.XPath(
    "//img[contains(@src, 'fax') or contains(@src, 'Fax') or contains(@alt, 'fax') or contains(@alt, 'Fax') "
    "or contains(@title, 'Fax')] | //i[contains(@class, 'fax')] | //span[contains(@class, 'fax')] "
    "| //li[contains(@class, 'fax')] | //div[contains(@class, 'fax')] | //p[contains(@class, 'fax')]"
)


def _fax_icons(root) -> list:
    """What ``_FAX_ICON_XPATH`` selects, in document order, from one C-level walk over six tags
    (the XPath union walks the tree six times and sorts: ~4x slower)."""
    found = []
    for el in root.iter("img", "i", "span", "li", "div", "p"):
        if el.tag == "img":
            src, alt = el.get("src") or "", el.get("alt") or ""
            if "fax" in src or "Fax" in src or "fax" in alt or "Fax" in alt or "Fax" in (el.get("title") or ""):
                found.append(el)
        elif "fax" in (el.get("class") or ""):
            found.append(el)
    return found


def _label_fax_icons(root) -> None:
    """A fax icon (``<img src="fax.gif">``, ``<i class="fa-fax">``) says "Fax:" in words for the text pass;
    a container classed ``fax`` gets the word before its text."""
    for el in _fax_icons(root):
        if len(el) == 0 and not (el.text or "").strip():
            el.tail = " Fax: " + (el.tail or "")
        elif not _FAX_MARK.search(text_of(el)):
            el.text = " Fax: " + (el.text or "")


# a cheap test before URL parsing: most links on a page are the site's own
_SOCIAL_HINT = re.compile(
    r"facebook|fb\.|instagr|twitter|x\.com|linkedin|youtube|tiktok|wa\.me|whatsapp|pinterest|pin\.it|xing|"
    r"threads\.|bsky|vimeo|github|/@",
    re.IGNORECASE,
)
_SOCIAL_WORDS = ("facebook", "twitter", "instagr", "linkedin", "youtube", "pinterest", "xing", "tiktok", "vimeo",
                 "threads", "bsky")
_SOCIAL_WORDS_RE = re.compile("|".join(_SOCIAL_WORDS))


def _attr_social(low: str) -> bool:
    """Does an onclick / data-href / data-url / data-link attribute name a social network?
    (str.find over the lower-cased source: a case-insensitive regex scan cost ~8 ms on large pages)"""
    for attr in ("onclick", "data-href", "data-url", "data-link"):
        i = low.find(attr)
        while i != -1:
            if _SOCIAL_WORDS_RE.search(low, i, i + 300):  # one C call, not a slice and eleven scans
                return True
            i = low.find(attr, i + len(attr))
    return False


_FAX_ICON_ATTR = re.compile(r"""(?:class|src|alt|title)\s*=\s*["'][^"'<>]{0,80}$""")


def _maybe_social(href: str, hosts: dict | None = None) -> bool:
    """Cheap test on the host (and "/@" for Mastodon) before parsing the URL. ``hosts``: the answers
    per host so far on this page (most links go to a handful of hosts, mostly the site's own)."""
    if "/@" in href or href.startswith("whatsapp:"):
        return True
    parts = href.split("/", 3)
    if len(parts) <= 2:
        return False
    if hosts is None:
        return bool(_SOCIAL_HINT.search(parts[2]))
    hint = hosts.get(parts[2])
    if hint is None:
        hint = hosts[parts[2]] = bool(_SOCIAL_HINT.search(parts[2]))
    return hint


_FAX_ICON_ATTR_ANY = re.compile(r"""(?:class|src|alt|title)\s*=\s*["']?[^"'<>]{0,80}$""")
_TAG_NAME = re.compile(r"<([a-z][a-z0-9]*)")
_ICON_TAGS = frozenset(("img", "i", "span", "li", "div", "p"))  # the tags _label_fax_icons looks at


def _has_fax_icon(low: str) -> bool:
    """Does a quoted class/src/alt/title attribute mention fax, and does one of the tags
    ``_label_fax_icons`` labels carry such an attribute? (str.find over the few "fax"s, not a regex scan;
    half the pages say "fax" in some attribute, few on an icon: the tree walk is skipped on the others.)"""
    quoted = tagged = False
    i = low.find("fax")
    while i != -1:
        lo = max(0, i - 90)
        if not quoted and _FAX_ICON_ATTR.search(low, lo, i):
            quoted = True
        if not tagged and _FAX_ICON_ATTR_ANY.search(low, lo, i):
            tag = _TAG_NAME.match(low, low.rfind("<", 0, i))
            tagged = tag is None or tag.group(1) in _ICON_TAGS
        if quoted and tagged:
            return True
        i = low.find("fax", i + 3)
    return False


_URL_IN_ATTR = re.compile(r"""(?:https?:)?//[^\s'"<>()]+""")
_SOCIAL_ATTR_XPATH = "//*[@onclick or @data-href or @data-url or @data-link]"


# --- main --------------------------------------------------------------------------

def extract_page(
    html: str | bytes,
    *,
    url: str,
    site_domain: str | None = None,
    region: str | None = None,
    max_text_chars: int | None = None,
) -> ExtractionResult:
    """Every email, phone, fax, social profile and person on one page, and its metadata.

    ``url`` is the page's final URL (relative links resolve against it);
    ``site_domain`` decides ``on_domain`` (defaults to the page's host);
    ``region`` (ISO 3166 alpha-2, e.g. the business's country) reads national
    numbers. Without it the region is inferred from the page: ccTLD, structured
    address, the country codes of its international numbers, a postal address,
    ``lang`` (``result.region_source`` says which).
    """
    text_src = decode(html) if isinstance(html, (bytes, bytearray)) else html
    max_chars = max_text_chars if max_text_chars is not None else _max_text_chars()
    root = parse(text_src)
    if root is None:
        return ExtractionResult()

    host = (urlsplit(url).hostname or "") if url else ""
    site_host = (site_domain or host or "").lower()
    if "://" in site_host:
        site_host = urlsplit(site_host).hostname or ""
    site_reg = registrable_domain(site_host)
    low_src = _ascii_lower(text_src)
    tagged = _tagged(root)
    base = base_url(root, url, tagged.get("base", [])) if url and "<base" in low_src else url
    metadata = page_metadata(root, url, base, tagged)

    # 1. structured data (names and titles come from here); each only where its markup is present
    structured = Structured()
    unparsed: list[str] = []
    if "ld+json" in text_src:
        jsonld(root, structured, unparsed, tagged.get("script", []))
    if "itemprop" in text_src:
        microdata(root, structured)
    if "vcard" in text_src or "h-card" in text_src:
        vcards(root, structured)
    team_members(root, structured, low_src, tagged.get("headings", []))

    # 2. the region national numbers are read with (needs the text: taken before step 4 strips the tree)
    lang = root.get("lang")
    region_text = "" if region or region_from_host(site_host) else normalize_text(_bounded(text_of(root)))
    inferred, region_source = infer_region(
        known=region, hosts=(site_host, host), structured_countries=structured.countries,
        text=region_text, lang=lang,
    )
    acc = _Acc(site_reg, inferred)

    person_email: dict[str, str] = {}
    person_phone: dict[str, str] = {}
    for value, method, name, title in structured.emails:
        is_link = value.lower().startswith("mailto:")
        if is_link:
            value = value[7:].split("?", 1)[0]
        # JSON-LD / microdata keep their method; hCard and team cards are links or text
        email_method = method if method in ("jsonld", "microdata") else "mailto" if is_link else "text"
        normalized = acc.email(unquote(value), email_method, name, title)
        if normalized and name:
            person_email.setdefault(name, normalized)
    for raw, method, name, title in structured.phones:
        e164 = acc.number(raw, "tel" if raw.lower().startswith("tel:") else "jsonld", name=name, title=title)
        if e164 and name:
            person_phone.setdefault(name, e164)
    for raw, method in structured.faxes:
        acc.number(raw, "tel" if raw.lower().startswith("tel:") else "jsonld", fax=True)
    for link, method in structured.socials:
        acc.social(link, "jsonld" if method == "jsonld" else "microdata", "jsonld" if method == "jsonld" else "microdata")
    for blob in unparsed:  # JSON-LD that does not parse: still read its addresses
        for value in iter_text_emails(blob):
            acc.email(value, "jsonld")

    # 3. links and encoded addresses
    social_links: list[str] = []
    link_hosts: dict[str, bool] = {}
    for a in tagged.get("links", ()):
        href = a.get("href")
        if not href or (href[0] in "#?" or href[0] == "/" and href[1:2] != "/") and not (
                "/@" in href or "email-protection" in href):
            continue  # fragment, site-relative: never a contact (the common case: decided without work)
        href = href.strip()
        low = href[:12].lower()
        if low.startswith("mailto"):
            for value in mailto_addresses(href):
                acc.email(value, "mailto")
        elif low.startswith(("tel:", "callto:", "fax:")):
            _tel_link(acc, a, href)
        elif "/cdn-cgi/l/email-protection" in href:
            decoded = decode_cfemail(href.rsplit("#", 1)[-1]) if "#" in href else None
            if decoded:
                acc.email(decoded, "cfemail")
        elif low.startswith(("http", "//", "whatsapp:")) and _maybe_social(href, link_hosts):
            absolute = "https:" + href if href.startswith("//") else href
            rel_me = "me" in (a.get("rel") or "").lower().split()
            canon = canonical_social(absolute, rel_me=rel_me)
            if canon is None:
                continue
            place = _location(a)  # only for profile links: the ancestor walk is the costly part
            if place is None:
                continue
            curl = acc.social(absolute, "link", place, rel_me=rel_me, canon=canon)
            if curl and a.tag == "a" and curl not in social_links and len(social_links) < 50:
                social_links.append(curl)
    if "data-cfemail" in text_src:
        for el in root.xpath("//*[@data-cfemail]"):
            decoded = decode_cfemail(el.get("data-cfemail") or "")
            if decoded:
                acc.email(decoded, "cfemail")
    if "UnCryptMailto" in text_src:
        for value in iter_typo3(text_src):
            acc.email(value, "encoded")
    if "data-mailto-token" in text_src:
        for el in root.xpath("//*[@data-mailto-token]"):
            vector = el.get("data-mailto-vector") or ""
            decoded = decode_typo3(el.get("data-mailto-token") or "",
                                   int(vector) if vector.lstrip("-").isdigit() else None)
            for value in mailto_addresses(decoded) if decoded else ():
                acc.email(value, "encoded")
    if "addy" in text_src:
        for script in tagged.get("script", ()):
            if script.text and "addy" in script.text:
                for value in iter_joomla_cloak(script.text):
                    acc.email(value, "encoded")
    if _attr_social(low_src):
        for el in root.xpath(_SOCIAL_ATTR_XPATH):
            urls = [m.group(0) for attr in ("onclick", "data-href", "data-url", "data-link")
                    for m in _URL_IN_ATTR.finditer(el.get(attr) or "") if _maybe_social(m.group(0))]
            place = _location(el) if urls else None
            for found_url in urls if place is not None else ():
                acc.social("https:" + found_url if found_url.startswith("//") else found_url, "link", place)

    # other organisations' contact cards (read before the text pass strips the tree)
    # off-site addresses mark someone else's card only where the business writes from its own domain
    own_email = any(e.on_domain for e in acc.emails.values()) or (
        site_reg is not None and ("@" + site_reg) in (low_src if site_reg.isascii() else text_src.lower()))
    foreign = foreign_blocks(root, site_reg=site_reg, own_email=own_email, source=text_src)

    # 4. visible text (strips the tree: nothing reads it after this)
    if _has_fax_icon(low_src):
        _label_fax_icons(root)
    text = visible_text(root, max_chars, keep_noscript="noscript" in text_src and noscript_unclosed(text_src))
    metadata["word_count"] = word_count(text)
    metadata["social_links"] = social_links
    if "@" in text:
        for value in iter_text_emails(text):
            if clean_email(value) is None:
                continue
            method = "text" if value in text_src else "entity"
            if method == "entity" and not ENTITY_AT.search(text_src):
                method = "text"  # split across tags, not entity-encoded
            acc.email(value, method)
    for value, written in iter_obfuscated(text, site_reg):
        acc.email(value, "obfuscated", written=written)
    for raw, number, kind in iter_text_phones(normalize_text(text), inferred):
        e164 = acc.number(raw, "text", number=number, fax=kind == "fax")
        if kind == "phone" and e164:
            acc.labelled_phones.add(e164)
    acc.settle()
    if foreign:
        acc.drop_foreign(foreign)

    return ExtractionResult(
        emails=tuple(acc.emails.values()),
        phones=tuple(acc.phones.values()),
        faxes=tuple(acc.faxes.values()),
        socials=_own_socials(acc.socials.values()),
        people=_people(structured, person_email, person_phone),
        metadata=metadata,
        region=inferred,
        region_source=region_source,
    )


# the elements the passes look at by tag, collected in one C-level walk (each pass walking the tree
# for its own tags cost ~0.1 ms a walk on a 50 KB page); groups keep document order
_TAG_GROUPS = {
    "meta": "meta", "title": "title", "h1": "h1", "base": "base", "script": "script",
    "a": "links", "area": "links", "link": "links",
    **{tag: "headings" for tag in ("h2", "h3", "h4", "h5", "h6", "strong", "b", "dt")},
}


def _tagged(root) -> dict[str, list]:
    """The page's elements of ``_TAG_GROUPS`` by group, each group in document order; "link" also
    has the <link> elements alone (page metadata reads the canonical one)."""
    groups: dict[str, list] = {}
    for el in root.iter(*_TAG_GROUPS):
        tag = el.tag
        group = _TAG_GROUPS[tag]
        found = groups.get(group)
        if found is None:
            found = groups[group] = []
        found.append(el)
        if tag == "link":
            groups.setdefault("link", []).append(el)
    return groups


def _ascii_lower(text: str) -> str:
    """The source lower-cased for the ASCII markers searched in it (attribute names, "fax", "@domain"),
    one character for one: every non-ASCII character is "?" (str.lower on a non-ASCII string costs
    ~4x more than this)."""
    if text.isascii():
        return text.lower()
    return text.encode("ascii", "replace").lower().decode("ascii")


_DIGIT_RUN = re.compile(r"\d")
_REGION_TEXT_CHARS = 60_000


def _bounded(text: str) -> str:
    """Head and tail of the text (addresses sit in headers and footers): region clues, bounded cost."""
    if len(text) <= 2 * _REGION_TEXT_CHARS:
        return text
    return text[:_REGION_TEXT_CHARS] + "\n" + text[-_REGION_TEXT_CHARS:]


def _tel_link(acc: _Acc, a, href: str) -> None:
    """One number per tel: link: the visible number when it is valid and differs from the target
    (an extra digit, another extension), else the target; a fax when the link says so."""
    fax = _is_fax_link(a, href)
    visible = normalize_text(text_of(a)).strip()
    if len(_DIGIT_RUN.findall(visible)) >= 6:
        shown = parse_structured(visible, acc.region)
        target = parse_structured(href, acc.region)
        if shown is not None and (target is None or shown.national_number != target.national_number):
            acc.number(visible, "tel", number=shown, fax=fax)
            return
    acc.number(href, "tel", fax=fax)


def _own_socials(found) -> tuple[FoundSocial, ...]:
    """The business's profiles: where the page has profiles in its header, footer, contact block
    or structured data, links in the article body are someone else's (an article's subject)."""
    found = list(found)
    strong = {s.network for s in found if s.location in SOCIAL_STRONG_PLACES}
    if not strong:
        return tuple(found)
    return tuple(s for s in found if s.location in SOCIAL_STRONG_PLACES or s.location == "body" or
                 (s.location != "article" and s.network not in strong))


def _people(structured: Structured, person_email: dict, person_phone: dict) -> tuple[FoundPerson, ...]:
    people: dict[str, FoundPerson] = {}
    for name, title, email, phone, method, conf in structured.people:
        email_n = person_email.get(name) if email else None
        phone_n = person_phone.get(name) if phone else None
        key = name.lower()
        person = FoundPerson(name=name, title=title, email=email_n, phone=phone_n, method=method, confidence=conf)
        old = people.get(key)
        if old is None or old.confidence < conf:
            if old is not None:
                person = dataclasses.replace(
                    person, title=person.title or old.title, email=person.email or old.email,
                    phone=person.phone or old.phone,
                )
            people[key] = person
        else:
            people[key] = dataclasses.replace(
                old, title=old.title or title, email=old.email or email_n, phone=old.phone or phone_n
            )
    return tuple(people.values())


def extract_contacts(
    html: str | bytes,
    *,
    page_url: str,
    site_domain: str | None = None,
    default_region: str | None = None,
    max_text_chars: int | None = None,
) -> ExtractionResult:
    """``extract_page`` under its older name and argument names."""
    return extract_page(html, url=page_url, site_domain=site_domain, region=default_region,
                        max_text_chars=max_text_chars)
