"""Contact extraction from one HTML page: emails, phones, social profiles, people.

Pure and deterministic: ``extract_contacts(html, page_url=…)`` parses the page
once with lxml and returns an :class:`ExtractionResult` whose every value
carries its provenance (the extraction ``method``) and a confidence. No
network, no database, no Django models; the page_scrape workflow stores the
result as ``contacts.Contact`` rows.

Sources, strongest first (one record per normalized email / E.164 number):

* emails — ``mailto:`` links (query strings, %-encoding, several recipients),
  JSON-LD and microdata (Organization, LocalBusiness…, Person, ContactPoint,
  ``@graph``), Cloudflare ``data-cfemail`` / ``/cdn-cgi/l/email-protection``,
  visible text, HTML entities (``&#64;``), "[at]/(at)/AT … [dot]/DOT"
  obfuscations;
* phones — ``tel:`` links and structured data (certain), numbers in visible
  text via ``phonenumbers.PhoneNumberMatcher`` at VALID leniency (uncertain),
  with dates, times, prices, IBANs, order/VAT/fax numbers filtered out;
* socials — canonical profile URLs of LinkedIn, Facebook, Instagram, X,
  YouTube, TikTok and WhatsApp; share/intent/plugin links are dropped;
* people — JSON-LD Person (0.95), hCard and microdata Person (0.9), team-page
  cards (0.6).
"""
from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

import phonenumbers

from contacts.extract_data import is_free_provider_domain, is_role_local_part, registrable_domain
from contacts.extract_emails import (
    ENTITY_AT,
    clean_email,
    decode_cfemail,
    iter_obfuscated,
    iter_text_emails,
    mailto_addresses,
)
from contacts.extract_html import decode, parse
from contacts.extract_phones import (
    iter_text_phones,
    number_type_name,
    parse_structured,
    region_from_host,
    region_from_lang,
)
from contacts.extract_social import canonical_social
from contacts.extract_structured import (
    Structured,
    collect_text,
    jsonld,
    looks_like_name,
    microdata,
    team_members,
    vcards,
)

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
    "looks_like_name",
]

# Strongest first: a duplicate keeps the method that ranks first here.
EMAIL_METHODS = ("mailto", "jsonld", "microdata", "cfemail", "text", "entity", "obfuscated")
EMAIL_CONFIDENCE = {
    "mailto": 0.95, "jsonld": 0.95, "microdata": 0.9, "cfemail": 0.9,
    "text": 0.85, "entity": 0.8, "obfuscated": 0.7,
}
PHONE_METHODS = ("tel", "jsonld", "text")
PHONE_CONFIDENCE = {"tel": 0.95, "jsonld": 0.95, "text": 0.7}
PERSON_METHODS = ("jsonld", "vcard", "microdata", "team_pattern")
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
    network: str  # linkedin | facebook | instagram | x | youtube | tiktok | whatsapp
    url: str  # canonical profile URL
    handle: str
    method: str  # link | jsonld | microdata


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

    def __bool__(self) -> bool:
        return bool(self.emails or self.phones or self.socials or self.people)


# --- settings ----------------------------------------------------------------------

def _max_text_chars() -> int:
    try:
        from django.conf import settings

        if settings.configured:
            return int(getattr(settings, "CONTACTS_MAX_TEXT_CHARS", _DEFAULT_MAX_TEXT_CHARS))
    except Exception:  # pragma: no cover - Django missing or misconfigured
        pass
    return int(os.environ.get("CONTACTS_MAX_TEXT_CHARS") or _DEFAULT_MAX_TEXT_CHARS)


# --- main --------------------------------------------------------------------------

class _Acc:
    """Accumulates findings and keeps the strongest per key."""

    def __init__(self, site_reg: str | None, tel_region: str | None, text_region: str | None):
        self.site_reg = site_reg
        self.tel_region = tel_region
        self.text_region = text_region
        self.emails: dict[str, FoundEmail] = {}
        self.phones: dict[str, FoundPhone] = {}
        self.socials: dict[str, FoundSocial] = {}

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
        old = self.emails.get(normalized)
        if old is None:
            self.emails[normalized] = found
        else:
            best, other = (
                (old, found) if EMAIL_METHODS.index(old.method) <= EMAIL_METHODS.index(method) else (found, old)
            )
            if best.name is None and other.name:
                best = dataclasses.replace(best, name=other.name, title=best.title or other.title)
            self.emails[normalized] = best
        return normalized

    def phone(self, raw: str, method: str, number=None, name=None, title=None) -> str | None:
        if number is None:
            number = parse_structured(raw, self.tel_region)
            if number is None:
                return None
        e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
        if raw.lower().startswith(("tel:", "callto:")):
            raw = unquote(raw.split(":", 1)[1]).strip()
        found = FoundPhone(
            raw=raw, e164=e164, number_type=number_type_name(number), method=method,
            certain=method != "text", region=phonenumbers.region_code_for_number(number),
            name=name, title=title, confidence=PHONE_CONFIDENCE[method],
        )
        old = self.phones.get(e164)
        if old is None:
            self.phones[e164] = found
        else:
            best, other = (
                (old, found) if PHONE_METHODS.index(old.method) <= PHONE_METHODS.index(method) else (found, old)
            )
            if best.name is None and other.name:
                best = dataclasses.replace(best, name=other.name, title=best.title or other.title)
            self.phones[e164] = best
        return e164

    def social(self, url: str, method: str) -> None:
        canon = canonical_social(url)
        if canon is None:
            return
        network, curl, handle = canon
        self.socials.setdefault(curl, FoundSocial(network=network, url=curl, handle=handle, method=method))


def extract_contacts(
    html: str | bytes,
    *,
    page_url: str,
    site_domain: str | None = None,
    default_region: str | None = None,
    max_text_chars: int | None = None,
) -> ExtractionResult:
    """Every email, phone number, social profile and person marked up on one page.

    ``site_domain`` decides ``on_domain`` (defaults to the page's host);
    ``default_region`` (ISO 3166 alpha-2) is used to read national phone
    numbers. Without it the region comes from the site's ccTLD (``.de`` → DE);
    with neither, only international (+…) numbers in text count, and
    ``tel:`` / structured numbers may also use the region of ``<html lang="de-DE">``.
    """
    text_src = decode(html) if isinstance(html, (bytes, bytearray)) else html
    max_chars = max_text_chars if max_text_chars is not None else _max_text_chars()
    root = parse(text_src)
    if root is None:
        return ExtractionResult()

    host = (urlsplit(page_url).hostname or "") if page_url else ""
    site_host = (site_domain or host or "").lower()
    if "://" in site_host:
        site_host = urlsplit(site_host).hostname or ""
    site_reg = registrable_domain(site_host)
    region = (default_region or "").upper() or region_from_host(site_host) or region_from_host(host) or None
    tel_region = region or region_from_lang(root.get("lang"))
    acc = _Acc(site_reg, tel_region, region)

    # 1. structured data (names and titles come from here)
    structured = Structured()
    unparsed: list[str] = []
    jsonld(root, structured, unparsed)
    microdata(root, structured)
    vcards(root, structured)
    team_members(root, structured)

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
        e164 = acc.phone(raw, "tel" if raw.lower().startswith("tel:") else "jsonld", name=name, title=title)
        if e164 and name:
            person_phone.setdefault(name, e164)
    for url, method in structured.socials:
        acc.social(url, "jsonld" if method == "jsonld" else "microdata")
    for blob in unparsed:  # JSON-LD that does not parse: still read its addresses
        for value in iter_text_emails(blob):
            acc.email(value, "jsonld")

    # 2. links
    for a in root.iter("a", "area", "link"):
        href = (a.get("href") or "").strip()
        if not href:
            continue
        low = href[:12].lower()
        if low.startswith("mailto:"):
            for value in mailto_addresses(href):
                acc.email(value, "mailto")
        elif low.startswith(("tel:", "callto:")):
            acc.phone(href, "tel")
        elif "/cdn-cgi/l/email-protection" in href:
            decoded = decode_cfemail(href.rsplit("#", 1)[-1]) if "#" in href else None
            if decoded:
                acc.email(decoded, "cfemail")
        elif low.startswith(("http", "//", "whatsapp:")):
            acc.social(href, "link")
    for el in root.xpath("//*[@data-cfemail]"):
        decoded = decode_cfemail(el.get("data-cfemail") or "")
        if decoded:
            acc.email(decoded, "cfemail")

    # 3. visible text
    text = collect_text(root, max_chars)
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
    for ch in _SPACES:
        if ch in text:
            text = text.replace(ch, " ")
    for raw, number in iter_text_phones(text, region):
        acc.phone(raw, "text", number=number)

    # 4. people
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

    return ExtractionResult(
        emails=tuple(acc.emails.values()),
        phones=tuple(acc.phones.values()),
        socials=tuple(acc.socials.values()),
        people=tuple(people.values()),
    )


_SPACES = ("\xa0", "\u202f", "\u2007", "\u2009")
