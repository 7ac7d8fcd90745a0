"""Multilingual URL categoriser for sitemap imports (WF5) and the fallback crawl.

`categorize_url(url)` looks only at the path (no fetch). Each path segment is
lower-cased, percent-decoded, stripped of accents ("über" -> "uber") and of a
file extension (".php", ".html"…), a leading language segment ("/de/",
"/en-us/") is ignored, and the segments are matched against keyword lists:

- an exact match of the last segment is strongest ("/kontakt" 0.95), losing
  0.1 per extra level of depth ("/company/contact" 0.85);
- a container segment (blog, news, shop, products) earlier in the path wins
  over a partial match at the end ("/blog/how-to-contact-us" is blog);
- a keyword as hyphen-separated tokens inside the last segment is medium
  ("/contact-us-today" 0.75);
- an exact match of an earlier segment is weaker ("/about/history" 0.6);
- a substring match is weakest (0.4).

`suggested` marks likely contact-bearing pages (contact, impressum, about,
team, locations) with confidence >= 0.5; `priority` is 1 (contact,
impressum), 2 (other suggested pages) or 3.
"""
from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

__all__ = ["Category", "categorize_url", "CATEGORIES", "CONTACT_BEARING"]

CONTACT_BEARING = frozenset({"contact", "impressum", "about", "team", "locations"})

# Checked in this order when one segment matches several categories.
_KEYWORDS: dict[str, tuple[str, ...]] = {
    "impressum": (
        "impressum", "imprint", "legal-notice", "legal-notices", "legal-info", "legal-information", "mentions-legales",
        "mentions", "aviso-legal", "avisos-legales", "nota-legal", "informacion-legal", "note-legali", "colofon",
        "colophon", "site-notice", "anbieterkennzeichnung", "impressum-datenschutz", "informazioni-legali",
        "juridische-informatie", "kolofon", "impresszum", "impressum-und-datenschutz",
    ),
    "contact": (
        "contact", "contacts", "contact-us", "contactus", "contact-me", "get-in-touch", "reach-us", "write-to-us",
        "kontakt", "kontakte", "kontaktformular", "kontakt-aufnehmen", "kontaktieren", "contacto", "contactos",
        "contactenos", "contactanos", "contacte", "contatti", "contatto", "contattaci", "contattateci", "contato",
        "contatos", "fale-conosco", "entre-em-contato", "nous-contacter", "contactez-nous", "contacter",
        "contactez", "kontakta-oss", "kontakta", "kontakt-os", "kontakt-oss", "kontakt-oss", "yhteystiedot",
        "ota-yhteytta", "yhteys", "kapcsolat", "kontakty", "kontaktujte-nas", "iletisim", "contacteer",
        "contacteer-ons", "neem-contact-op", "contact-opnemen", "enquiries", "enquiry", "inquiry", "inquiries",
        "kontaktinformation", "contact-information", "contact-info",
    ),
    "team": (
        "team", "our-team", "the-team", "meet-the-team", "meet-our-team", "unser-team", "das-team", "team-members",
        "staff", "our-staff", "our-people", "people", "equipo", "nuestro-equipo", "el-equipo", "notre-equipe",
        "equipe", "l-equipe", "squadra", "il-team", "il-nostro-team", "ons-team", "medewerkers", "mitarbeiter",
        "ansprechpartner", "leadership", "management", "vorstand", "board", "geschaftsleitung", "geschaeftsleitung",
        "attorneys", "lawyers", "our-doctors", "doctors", "agents", "our-agents", "personal", "teamet", "tiimi",
        "nasz-zespol", "zespol", "mitarbeitende", "a-equipe", "nossa-equipe",
    ),
    "about": (
        "about", "about-us", "aboutus", "about-me", "who-we-are", "our-story", "company", "ueber-uns", "uber-uns",
        "uberuns", "ueberuns", "wir-uber-uns", "wir-ueber-uns", "unternehmen", "a-propos", "apropos",
        "qui-sommes-nous", "quienes-somos", "sobre-nosotros", "nosotros", "chi-siamo", "azienda", "sobre-nos",
        "quem-somos", "over-ons", "wie-zijn-wij", "om-oss", "om-os", "meista", "tietoa-meista", "o-nas",
        "hakkimizda", "our-history", "history", "geschichte", "philosophie", "firma", "la-empresa", "empresa",
        "l-entreprise", "entreprise", "societe", "over", "about-the-company", "bedrijf",
    ),
    "locations": (
        "locations", "location", "our-locations", "standorte", "standort", "find-us", "how-to-find-us",
        "ubicaciones", "ubicacion", "donde-estamos", "store-locator", "store-finder", "stores", "offices",
        "our-offices", "filialen", "filiale", "anfahrt", "directions", "wegbeschreibung", "sucursales", "nous-trouver",
        "plan-d-acces", "acces", "sedi", "dove-siamo", "vestigingen", "locaties", "branches", "branch-locator",
        "visit-us", "where-to-find-us", "lageplan", "route",
    ),
    "careers": (
        "careers", "career", "jobs", "job", "karriere", "stellenangebote", "stellen", "jobs-karriere", "empleo",
        "empleos", "trabaja-con-nosotros", "trabajar", "carrieres", "carriere", "emplois", "emploi", "recrutement",
        "lavora-con-noi", "lavoro", "vacatures", "werken-bij", "join-us", "join-our-team", "work-with-us",
        "vacancies", "hiring", "recruiting", "ausbildung", "stellenmarkt", "carreras", "trabalhe-conosco",
    ),
    "legal": (
        "privacy", "privacy-policy", "privacy-notice", "privacy-statement", "datenschutz", "datenschutzerklarung",
        "datenschutzerklaerung", "datenschutzhinweise", "privacidad", "politica-de-privacidad", "aviso-de-privacidad",
        "confidentialite", "politique-de-confidentialite", "terms", "terms-of-service", "terms-of-use",
        "terms-and-conditions", "tos", "agb", "cookies", "cookie-policy", "cookie-richtlinie", "politica-de-cookies",
        "legal", "disclaimer", "haftungsausschluss", "condiciones", "terminos", "terminos-y-condiciones", "cgv",
        "cgu", "conditions-generales", "informativa-privacy", "privacy-e-cookie", "rgpd", "gdpr", "dsgvo",
        "nutzungsbedingungen", "widerrufsbelehrung", "privacyverklaring", "algemene-voorwaarden",
    ),
    "services": (
        "services", "service", "our-services", "leistungen", "unsere-leistungen", "dienstleistungen", "servicios",
        "servizi", "diensten", "what-we-do", "solutions", "angebot", "treatments", "practice-areas", "prestations",
        "nos-services", "leistungsspektrum",
    ),
    "product": (
        "shop", "store", "products", "product", "produkte", "produkt", "productos", "producto", "produits",
        "produit", "prodotti", "collections", "collection", "cart", "checkout", "catalog", "catalogue", "katalog",
        "tienda", "boutique", "negozio", "winkel", "menu", "speisekarte", "carta", "pricing", "prices", "preise",
        "precios", "tarifs", "prix", "webshop", "onlineshop", "online-shop",
    ),
    "blog": (
        "blog", "blogs", "news", "articles", "article", "posts", "post", "aktuelles", "neuigkeiten", "noticias",
        "actualites", "actualidad", "notizie", "nieuws", "press", "presse", "pressroom", "magazine", "journal",
        "insights", "events", "stories", "category", "categories", "tag", "tags", "author", "archive",
    ),
    "home": ("home", "index", "startseite", "inicio", "accueil", "home-page", "homepage", "default", "start"),
}
CATEGORIES = (*_KEYWORDS.keys(), "other")
_CONTAINERS = frozenset({"blog", "product"})

_EXACT: dict[str, str] = {}
for _category, _words in _KEYWORDS.items():
    for _word in _words:
        _EXACT.setdefault(_word, _category)
# Multi-token keywords first (longest), for token matches inside a segment.
_TOKEN_KEYWORDS = sorted(((w, c) for c, ws in _KEYWORDS.items() for w in ws), key=lambda item: -len(item[0]))
_SUBSTRING_KEYWORDS = (
    ("impressum", "impressum"), ("kontakt", "contact"), ("contact", "contact"), ("contatt", "contact"),
    ("datenschutz", "legal"), ("privacy", "legal"), ("karriere", "careers"), ("career", "careers"),
    ("ueber-uns", "about"), ("aboutus", "about"), ("standort", "locations"),
)
_LANG = re.compile(r"^[a-z]{2}([-_][a-z]{2,4})?$")
_EXTENSION = re.compile(r"\.(php\d?|html?|aspx?|jsp|cfm|shtml|xhtml)$")
_ASSET = re.compile(r"\.(pdf|jpe?g|png|gif|webp|svg|mp[34]|avi|mov|zip|docx?|xlsx?|css|js|xml|txt)$")
_PRIORITY = {"contact": 1, "impressum": 1}


@dataclass(frozen=True)
class Category:
    category: str
    confidence: float
    suggested: bool
    matched: str = ""  # the segment or keyword that decided

    @property
    def priority(self) -> int:
        """1 = scrape first (contact, impressum), 2 = other suggested pages, 3 = the rest."""
        if not self.suggested:
            return 3
        return _PRIORITY.get(self.category, 2)

    @property
    def priority_score(self) -> float:
        """A sortable score: higher = more worth scraping."""
        return (4 - self.priority) + self.confidence


@functools.lru_cache(maxsize=8192)  # a sitemap's URLs share most of their segments ("products", "en"…)
def _fold(segment: str) -> str:
    segment = unquote(segment).lower().strip()
    decomposed = unicodedata.normalize("NFKD", segment)
    segment = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    segment = _EXTENSION.sub("", segment)
    segment = re.sub(r"[\s_+.']+", "-", segment)
    return segment.strip("-")


def _make(category: str, confidence: float, matched: str) -> Category:
    confidence = round(max(0.0, min(1.0, confidence)), 2)
    return Category(category, confidence, category in CONTACT_BEARING and confidence >= 0.5, matched)


def _token_match(segment: str) -> tuple[str, str] | None:
    padded = f"-{segment}-"
    for word, category in _TOKEN_KEYWORDS:
        if f"-{word}-" in padded:
            return category, word
    return None


def categorize_url(url: str) -> Category:
    """Categorise a page URL (or a bare path) by its path; see the module docstring."""
    path = urlsplit(url).path if "://" in url else url.split("?", 1)[0].split("#", 1)[0]
    raw_segments = [s for s in path.split("/") if s]
    if raw_segments and _ASSET.search(raw_segments[-1].lower()):
        return Category("other", 0.1, False, raw_segments[-1])
    segments = [_fold(s) for s in raw_segments]
    segments = [s for s in segments if s]
    while segments and _LANG.match(segments[0]) and segments[0] not in _EXACT:
        segments = segments[1:]
    if not segments:
        return _make("home", 0.9, "/")
    depth = len(segments)
    last = segments[-1]
    penalty = 0.1 * (depth - 1)

    if last in _EXACT:
        category = _EXACT[last]
        if category == "home" and depth == 1:
            return _make("home", 0.9, last)
        # "/blog/contact" stays contact; "/shop/team" too: an exact page name beats its container.
        return _make(category, 0.95 - penalty, last)

    for segment in segments[:-1]:
        if _EXACT.get(segment) in _CONTAINERS:
            return _make(_EXACT[segment], max(0.5, 0.75 - 0.05 * (depth - 2)), segment)

    token = _token_match(last)
    if token:
        return _make(token[0], 0.75 - penalty, token[1])

    for segment in reversed(segments[:-1]):
        if segment in _EXACT:
            category = _EXACT[segment]
            if category == "home":
                continue
            return _make(category, 0.6 - 0.05 * (depth - 2), segment)

    for segment in reversed(segments):
        for needle, category in _SUBSTRING_KEYWORDS:
            if needle in segment:
                return _make(category, 0.5 - 0.05 * (depth - 1), needle)

    return _make("other", 0.2, "")
