"""Sandbox of fictional business websites, chosen by the Host header (any host name works).

`make_app(latency_s=0.0)` returns a WSGI app. Route every website host to it
with FETCH_HOST_MAP = {"*": "127.0.0.1:<port>"} (the default when the sandbox
is enabled). Everything is generated deterministically from the host name:
the business name, the language (by TLD: de/at/ch German, es/mx Spanish,
fr/be French, it Italian, nl Dutch, else English), the page paths in that
language (/kontakt, /ueber-uns, /team, /impressum…; /contacto, /quienes-somos,
/equipo, /aviso-legal…; /contact, /about, /team, /privacy…), and the contacts:
info@<registrable domain> (mailto with ?subject=, visible text, footer,
JSON-LD), sales@ obfuscated as "sales [at] acme [dot] de", office@ as a
Cloudflare data-cfemail, a named person's first.last@ on the team page, tel:
links and phone numbers valid for the TLD's country (national and
international formats), and facebook/instagram/linkedin links.
`expected_contacts(host)` returns exactly what the site shows.

Site shapes, chosen by reserved prefixes of the first host label (they
combine: "lat50-gzip-acme.de"):

  (none)        robots.txt with a Sitemap: line -> /sitemap.xml (urlset)
  nositemap-    robots.txt without Sitemap:, no sitemap files (fallback crawl)
  index-        robots -> /sitemap_index.xml -> /sitemap-pages.xml, /sitemap-posts.xml
  gzip-         robots -> /sitemap.xml.gz (application/gzip)
  text-         robots -> /sitemap.txt (one URL per line)
  wp-           WordPress: robots without Sitemap:, /wp-sitemap.xml index only
  homelink-     only a <link rel="sitemap" href="site-map-feed.xml"> (relative) on the homepage
  rss-          robots -> /feed.xml (RSS 2.0);  atom-  robots -> /atom.xml (Atom)
  blocked-      robots.txt "User-agent: ScraperSkyBot / Disallow: /"
  robots500-    robots.txt answers 500
  norobots-     robots.txt answers 404 (allow all; sitemap at /sitemap.xml)
  crawldelay-   robots.txt asks for "Crawl-delay: 0.3"
  ratelimit-    every page answers 429 with Retry-After: 7
  hostile:
  bomb-         /sitemap.xml.gz is a gzip bomb (~10 MB compressed -> 10 GB), streamed lazily
  entities-     /sitemap.xml is a billion-laughs document (DOCTYPE with nested ENTITYs)
  selfindex-    /sitemap_index.xml lists itself and /sitemap-child.xml, an index listing
                /sitemap_index.xml again and /sitemap-pages.xml
  redirectloop- /sitemap.xml 301 -> /sitemap-a.xml 301 -> /sitemap.xml
  slow-         every response waits 5 s before answering
  huge-         /sitemap.xml.gz: 50,000 URLs, gzipped (built once per host, cached)
  bigtext-      /sitemap.txt: 55,000,000 bytes of text streamed
  toolarge-     the homepage is a 20 MB HTML page, streamed without Content-Length
  notfound-     the contact page answers 404
  lat50-        50 ms latency on every response (plus make_app's latency_s)
  real-web shapes (issue #12):
  pathsite-     the site lives under /project/ (a GitHub Pages project site): "/" is 404, robots.txt 404,
                /project/ the homepage, /project/sitemap.xml its sitemap; the host's /sitemap.xml is
                another site's (it lists only /user-page); with nositemap- neither exists
  wk<N>-        the only sitemap is at CMS_PATHS[N] (sitemap.xml … sitemap_news.xml), nothing in
                robots.txt or on the homepage: .txt is a text sitemap, .gz gzipped, the index paths an
                index of <name>-pages.xml/<name>-posts.xml, the news paths a Google News urlset
                (combines with pathsite-: under /project/)
  relindex-     robots -> /sitemap_index.xml, a Yoast index of a static export: xml-stylesheet PI,
                root-relative children (/post-sitemap.xml, /page-sitemap.xml), a trailing comment
  badcomment-   every XML sitemap ends with a comment containing "--" (not well-formed; Hexo) after the root
  blankline-    every XML sitemap starts with a blank line before the XML declaration (a WordPress plugin)
  rawamp-       every XML urlset also lists RAWAMP_PATH, its query string's "&" not escaped
  shared-       a site on a shared host (name.github.io): robots -> /sitemap_index.xml listing its own
                /sitemap-pages.xml and /sitemap-posts.xml and https://bob.github.io/sitemap.xml (another
                site); /sitemap-pages.xml also lists two https://bob.github.io/ pages

Test hooks, on every host:
  /__echo                       JSON of the request (method, path, headers)
  /__redirect?to=URL&status=302 a redirect anywhere (SSRF tests)
  /__status/<code>?retry_after= an empty response with that status
  /__cfblock                    403 with a Cloudflare challenge signature
  /__concurrency?sleep=0.2      records simultaneous requests per host in app.stats
  /__slow?sleep=2               answers after a pause
  /__trickle?chunks=20&interval=0.2  streams small chunks slowly
  /__gzip                       a page sent with Content-Encoding: gzip
  /__encbomb                    a Content-Encoding: gzip bomb (~1 GB decoded)
"""
from __future__ import annotations

import functools
import gzip
import hashlib
import io
import json
import re
import threading
import time
import zlib
from urllib.parse import parse_qs

import phonenumbers

__all__ = ["make_app", "expected_contacts", "SHAPES", "site_for"]

SHAPES = (
    "nositemap", "index", "gzip", "text", "wp", "homelink", "rss", "atom", "blocked", "robots500", "norobots",
    "crawldelay",
    "ratelimit",
    "bomb", "entities", "selfindex", "redirectloop", "slow", "huge", "bigtext", "toolarge", "notfound", "lat50",
    "pathsite", "relindex", "badcomment", "blankline", "shared", "rawamp",
)
# What CMSs and generators publish (the wk<N>- shapes), independent of pages.sitemaps on purpose:
# the sandbox is the web, discovery has to find these.
CMS_PATHS = (
    "/sitemap.xml", "/sitemap_index.xml", "/sitemap-index.xml", "/wp-sitemap.xml", "/news-sitemap.xml",
    "/sitemap_news.xml", "/post-sitemap.xml", "/page-sitemap.xml", "/sitemap.txt", "/sitemap.xml.gz",
)
PATHSITE_PREFIX = "/project"
RAWAMP_PATH = "/services?lang=en&page=2"
SHARED_OTHER_SITE = "https://bob.github.io"
SLOW_SECONDS = 5.0
BIGTEXT_BYTES = 55_000_000
TOOLARGE_BYTES = 20 * 1024 * 1024
HUGE_URLS = 50_000
BOMB_SEGMENTS = 10_240  # x 1 MiB decoded

_LANG_BY_TLD = {"de": "de", "at": "de", "ch": "de", "es": "es", "mx": "es", "fr": "fr", "be": "fr", "it": "it", "nl": "nl"}
_REGION_BY_TLD = {"de": "DE", "at": "AT", "ch": "CH", "es": "ES", "mx": "MX", "fr": "FR", "be": "BE", "it": "IT",
                  "nl": "NL", "uk": "GB", "ie": "IE", "ca": "CA", "au": "AU"}
# (country prefix, national significant number prefix, digits to add) for landlines valid per libphonenumber.
_PHONE_PLAN = {
    "DE": ("49", "30", 8), "AT": ("43", "1", 7), "CH": ("41", "44", 7), "ES": ("34", "91", 7), "MX": ("52", "55", 8),
    "FR": ("33", "1", 8), "BE": ("32", "2", 7), "IT": ("39", "06", 8), "NL": ("31", "20", 7), "GB": ("44", "207", 7),
    "IE": ("353", "1", 7), "CA": ("1", "416", 7), "AU": ("61", "2", 8), "US": ("1", "212", 7),
}
_PATHS = {
    "en": {"contact": "/contact", "about": "/about", "team": "/team", "legal": "/privacy", "services": "/services",
           "blog": "/blog", "locations": "/locations"},
    "de": {"contact": "/kontakt", "about": "/ueber-uns", "team": "/team", "impressum": "/impressum",
           "legal": "/datenschutz", "services": "/leistungen", "blog": "/aktuelles"},
    "es": {"contact": "/contacto", "about": "/quienes-somos", "team": "/equipo", "impressum": "/aviso-legal",
           "legal": "/privacidad", "services": "/servicios", "blog": "/noticias"},
    "fr": {"contact": "/nous-contacter", "about": "/a-propos", "team": "/equipe", "impressum": "/mentions-legales",
           "legal": "/confidentialite", "services": "/services", "blog": "/actualites"},
    "it": {"contact": "/contatti", "about": "/chi-siamo", "team": "/team", "impressum": "/note-legali",
           "legal": "/privacy", "services": "/servizi", "blog": "/notizie"},
    "nl": {"contact": "/contact", "about": "/over-ons", "team": "/team", "impressum": "/colofon",
           "legal": "/privacy", "services": "/diensten", "blog": "/nieuws"},
}
_WORDS = {
    "en": {"contact": "Contact us", "about": "About us", "team": "Our team", "legal": "Privacy policy",
           "services": "Services", "blog": "News", "locations": "Locations", "impressum": "Legal notice",
           "subject": "Enquiry from the website", "email": "Email", "phone": "Phone", "sales": "Sales",
           "office": "Office", "mobile": "Mobile", "roles": ("Owner", "Office manager")},
    "de": {"contact": "Kontakt", "about": "Über uns", "team": "Unser Team", "legal": "Datenschutz",
           "services": "Leistungen", "blog": "Aktuelles", "impressum": "Impressum", "subject": "Anfrage über die Website",
           "email": "E-Mail", "phone": "Telefon", "sales": "Vertrieb", "office": "Büro", "mobile": "Mobil",
           "roles": ("Geschäftsführerin", "Büroleitung")},
    "es": {"contact": "Contacto", "about": "Quiénes somos", "team": "Equipo", "legal": "Privacidad",
           "services": "Servicios", "blog": "Noticias", "impressum": "Aviso legal", "subject": "Consulta desde la web",
           "email": "Correo", "phone": "Teléfono", "sales": "Ventas", "office": "Oficina", "mobile": "Móvil",
           "roles": ("Directora", "Administración")},
    "fr": {"contact": "Nous contacter", "about": "À propos", "team": "Équipe", "legal": "Confidentialité",
           "services": "Services", "blog": "Actualités", "impressum": "Mentions légales", "subject": "Demande via le site",
           "email": "E-mail", "phone": "Téléphone", "sales": "Ventes", "office": "Bureau", "mobile": "Portable",
           "roles": ("Gérante", "Secrétariat")},
    "it": {"contact": "Contatti", "about": "Chi siamo", "team": "Team", "legal": "Privacy", "services": "Servizi",
           "blog": "Notizie", "impressum": "Note legali", "subject": "Richiesta dal sito", "email": "Email",
           "phone": "Telefono", "sales": "Vendite", "office": "Ufficio", "mobile": "Cellulare",
           "roles": ("Titolare", "Segreteria")},
    "nl": {"contact": "Contact", "about": "Over ons", "team": "Team", "legal": "Privacy", "services": "Diensten",
           "blog": "Nieuws", "impressum": "Colofon", "subject": "Vraag via de website", "email": "E-mail",
           "phone": "Telefoon", "sales": "Verkoop", "office": "Kantoor", "mobile": "Mobiel",
           "roles": ("Eigenaar", "Office manager")},
}
_PEOPLE = {
    "en": [("Emma", "Clarke"), ("Oliver", "Hughes"), ("Grace", "Turner"), ("James", "Walsh")],
    "de": [("Anna", "Schmidt"), ("Lukas", "Weber"), ("Sophie", "Fischer"), ("Jonas", "Becker")],
    "es": [("Lucía", "García"), ("Pablo", "Martín"), ("Carmen", "López"), ("Diego", "Sánchez")],
    "fr": [("Camille", "Durand"), ("Louis", "Moreau"), ("Chloé", "Laurent"), ("Hugo", "Lefèvre")],
    "it": [("Giulia", "Rossi"), ("Marco", "Bianchi"), ("Chiara", "Romano"), ("Luca", "Ricci")],
    "nl": [("Sanne", "de Vries"), ("Daan", "Jansen"), ("Lotte", "Bakker"), ("Bram", "Visser")],
}


# ----------------------------------------------------------------------------- the site model


def _ascii(text: str) -> str:
    import unicodedata

    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


def _registrable(host: str) -> str:
    from pages.sitemaps import site_key

    return site_key(host)


def _parse_host(host: str) -> tuple[frozenset, str, str | None]:
    host = host.lower().split(":", 1)[0].rstrip(".")
    if host.startswith("www."):
        host = host[4:]
    first, _, rest = host.partition(".")
    shapes = set()
    only_path = None
    changed = True
    while changed:
        changed = False
        for shape in SHAPES:
            if first.startswith(shape + "-") and len(first) > len(shape) + 1:
                shapes.add(shape)
                first = first[len(shape) + 1:]
                changed = True
        match = re.match(r"wk(\d+)-(?=.)", first)
        if match and int(match.group(1)) < len(CMS_PATHS):
            shapes.add("wk")
            only_path = CMS_PATHS[int(match.group(1))]
            first = first[match.end():]
            changed = True
    return frozenset(shapes), first, only_path


@functools.lru_cache(maxsize=1024)
def site_for(host: str) -> dict:
    """The deterministic model of the site at `host` (shapes, language, pages, contacts)."""
    host = host.lower().split(":", 1)[0].rstrip(".")
    shapes, label, only_path = _parse_host(host)
    domain = _registrable(host)
    tld = host.rsplit(".", 1)[-1]
    lang = _LANG_BY_TLD.get(tld, "en")
    region = _REGION_BY_TLD.get(tld, "US")
    digest = hashlib.sha256(host.encode()).digest()
    name = " ".join(part.capitalize() for part in label.split("-") if part) or "Example"
    words = _WORDS[lang]
    prefix = PATHSITE_PREFIX if "pathsite" in shapes else ""
    paths = {key: prefix + path for key, path in _PATHS[lang].items()}
    country, area, ndigits = _PHONE_PLAN[region]

    def phone(offset: int) -> str:
        digits = "".join(str(digest[offset + i] % 10) for i in range(ndigits))
        digits = ("4" + digits[1:]) if region in ("US", "CA") else ("7" + digits[1:] if region == "GB" else digits)
        if digits[0] == "0":
            digits = "5" + digits[1:]
        return f"+{country}{area}{digits}"

    main_phone, second_phone = phone(0), phone(10)
    first, last = _PEOPLE[lang][digest[20] % len(_PEOPLE[lang])]
    person_email = f"{_ascii(first).lower()}.{_ascii(last).lower().replace(' ', '')}@{domain}"
    social_slug = domain.replace(".", "")
    socials = [
        f"https://www.facebook.com/{social_slug}",
        f"https://www.instagram.com/{social_slug}",
        f"https://www.linkedin.com/company/{social_slug}",
    ]
    blog_posts = [f"{paths['blog']}/{slug}" for slug in ("opening-hours", "new-team-member", "summer-offer")]
    pages = [prefix + "/", *paths.values(), *blog_posts]
    return {
        "host": host,
        "shapes": shapes,
        "prefix": prefix,
        "home": prefix + "/",
        "only_path": only_path and prefix + only_path,
        "domain": domain,
        "business_name": name,
        "language": lang,
        "region": region,
        "paths": paths,
        "pages": pages,
        "blog_posts": blog_posts,
        "info_email": f"info@{domain}",
        "sales_email": f"sales@{domain}",
        "office_email": f"office@{domain}",
        "person": {"name": f"{first} {last}", "role": words["roles"][0], "email": person_email},
        "main_phone": main_phone,
        "second_phone": second_phone,
        "socials": socials,
        "cf_key": 0x20 + digest[21] % 0xC0,
    }


def _national(e164: str) -> str:
    return phonenumbers.format_number(phonenumbers.parse(e164), phonenumbers.PhoneNumberFormat.NATIONAL)


def _international(e164: str) -> str:
    return phonenumbers.format_number(phonenumbers.parse(e164), phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def _obfuscate(email: str) -> str:
    local, _, domain = email.partition("@")
    return f"{local} [at] {' [dot] '.join(domain.split('.'))}"


def cfemail_encode(email: str, key: int) -> str:
    return f"{key:02x}" + "".join(f"{ord(ch) ^ key:02x}" for ch in email)


def expected_contacts(host: str) -> dict:
    """What the site at `host` shows, by form, for end-to-end assertions."""
    site = site_for(host)
    contact_ok = "notfound" not in site["shapes"]
    forms = {
        "mailto": [site["info_email"], site["person"]["email"]] if contact_ok else [site["person"]["email"]],
        "text": [site["info_email"]],
        "footer": [site["info_email"]],
        "json_ld": [site["info_email"]] if contact_ok else [],
        "obfuscated": [site["sales_email"]] if contact_ok else [],
        "cfemail": [site["office_email"]] if contact_ok else [],
    }
    emails = sorted({email for values in forms.values() for email in values})
    phones = [site["main_phone"], site["second_phone"]] if contact_ok else [site["main_phone"]]
    return {
        "host": site["host"],
        "domain": site["domain"],
        "business_name": site["business_name"],
        "language": site["language"],
        "region": site["region"],
        "shapes": sorted(site["shapes"]),
        "contact_path": site["paths"]["contact"],
        "pages": list(site["pages"]),
        "emails": emails,
        "emails_by_form": forms,
        "main_email": site["info_email"],
        "phones": phones,
        "socials": list(site["socials"]),
        "people": [dict(site["person"])],
        "robots_blocked": "blocked" in site["shapes"],
    }


# ----------------------------------------------------------------------------- HTML


def _layout(site: dict, title: str, body: str, head_extra: str = "") -> str:
    words = _WORDS[site["language"]]
    nav = "".join(
        f'<li><a href="{path}">{words.get(key, key.title())}</a></li>' for key, path in site["paths"].items()
    )
    socials = " ".join(f'<a href="{url}" rel="noopener">{url.split("/")[2].split(".")[1].title()}</a>'
                       for url in site["socials"])
    return f"""<!DOCTYPE html>
<html lang="{site['language']}"><head><meta charset="utf-8">
<title>{title} | {site['business_name']}</title>
<meta name="description" content="{site['business_name']} – {title}">
<link rel="canonical" href="https://{site['host']}{'' if title == 'Home' else ''}">
{head_extra}</head>
<body><header><a href="{site['home']}">{site['business_name']}</a><nav><ul>{nav}</ul></nav></header>
<main><h1>{title}</h1>
{body}
</main>
<footer><p>{site['business_name']} · <a href="mailto:{site['info_email']}">{site['info_email']}</a> ·
<a href="tel:{site['main_phone']}">{_national(site['main_phone'])}</a></p><p>{socials}</p></footer>
</body></html>"""


def _page(site: dict, path: str) -> tuple[int, str] | None:
    words = _WORDS[site["language"]]
    paths = site["paths"]
    key = next((k for k, p in paths.items() if p == path), None)
    if path == site["home"]:
        head = '<link rel="sitemap" type="application/xml" title="Sitemap" href="site-map-feed.xml">' \
            if "homelink" in site["shapes"] else ""
        links = "".join(f'<p><a href="{p}">{p}</a></p>' for p in site["blog_posts"])
        body = (f"<p>Welcome to {site['business_name']}.</p>{links}"
                f'<p><a href="https://www.example.org/partner">Partner</a> · <a href="{site["prefix"]}/files/brochure.pdf">'
                f'PDF</a> · <a href="#top">Top</a> · <a href="{site["prefix"]}/contact?utm_source=home#form">Contact</a></p>')
        return 200, _layout(site, "Home", body, head)
    if key == "contact":
        if "notfound" in site["shapes"]:
            return 404, _layout(site, "404", "<p>Not found</p>")
        from urllib.parse import quote

        json_ld = json.dumps({
            "@context": "https://schema.org", "@type": "LocalBusiness", "name": site["business_name"],
            "url": f"https://{site['host']}/", "email": site["info_email"], "telephone": site["main_phone"],
            "sameAs": site["socials"],
        })
        body = f"""
<p>{words['email']}: <a href="mailto:{site['info_email']}?subject={quote(words['subject'])}">{site['info_email']}</a></p>
<p>{words['email']}: {site['info_email']}</p>
<p>{words['sales']}: {_obfuscate(site['sales_email'])}</p>
<p>{words['office']}: <a href="/cdn-cgi/l/email-protection" class="__cf_email__"
 data-cfemail="{cfemail_encode(site['office_email'], site['cf_key'])}">[email&#160;protected]</a></p>
<p>{words['phone']}: <a href="tel:{site['main_phone']}">{_national(site['main_phone'])}</a></p>
<p>{words['mobile']}: {_international(site['second_phone'])}</p>
<form action="/contact-form" method="post"><input name="email"><textarea name="message"></textarea></form>
<script type="application/ld+json">{json_ld}</script>"""
        return 200, _layout(site, words["contact"], body)
    if key == "team":
        person = site["person"]
        body = (f'<div class="person"><h2>{person["name"]}</h2><p>{person["role"]}</p>'
                f'<p><a href="mailto:{person["email"]}">{person["email"]}</a></p></div>')
        return 200, _layout(site, words["team"], body)
    if key == "impressum":
        body = (f"<p>{site['business_name']} GmbH</p><p>{words['email']}: {site['info_email']}</p>"
                f"<p>{words['phone']}: {_national(site['main_phone'])}</p>")
        return 200, _layout(site, words["impressum"], body)
    if key is not None:
        return 200, _layout(site, words.get(key, key.title()), f"<p>{words.get(key, key)} – {site['business_name']}.</p>")
    if path in site["blog_posts"]:
        return 200, _layout(site, path.rsplit("/", 1)[-1].replace("-", " ").title(), "<p>Lorem ipsum dolor sit amet.</p>")
    return None


# ----------------------------------------------------------------------------- sitemaps

_NS = 'xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"'


def _urlset(site: dict, paths, *, locs=None) -> bytes:
    """A urlset of the site's `paths` (absolute URLs), or of the given `locs` as written."""
    locs = locs if locs is not None else [f"https://{site['host']}{p}" for p in paths]
    entries = "".join(
        f"<url><loc>{loc}</loc><lastmod>2025-0{1 + i % 9}-1{i % 10}</lastmod>"
        f"<changefreq>monthly</changefreq><priority>{'1.0' if loc.endswith(site['home']) else '0.5'}</priority></url>\n"
        for i, loc in enumerate(locs)
    )
    return f'<?xml version="1.0" encoding="UTF-8"?>\n<urlset {_NS}>\n{entries}</urlset>\n'.encode()


def _news_urlset(site: dict, paths) -> bytes:
    """A Google News sitemap (news: namespace) of the site's `paths`."""
    entries = "".join(
        f"<url><loc>https://{site['host']}{p}</loc><news:news><news:publication><news:name>{site['business_name']}"
        f"</news:name><news:language>{site['language']}</news:language></news:publication>"
        f"<news:publication_date>2025-01-0{1 + i % 9}</news:publication_date><news:title>{p.rsplit('/', 1)[-1]}"
        f"</news:title></news:news></url>\n"
        for i, p in enumerate(paths)
    )
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n<urlset {_NS} '
            f'xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">\n{entries}</urlset>\n').encode()


def _only_path_sitemap(site: dict, path: str):
    """The wk<N>- shapes: the one sitemap a CMS publishes at its usual path (and an index's children)."""
    only = site["only_path"]
    pages, posts = site["pages"], site["blog_posts"]
    xml = "application/xml; charset=utf-8"
    name = only.rsplit("/", 1)[-1]
    stem = only[: -len(".xml")] if only.endswith(".xml") else only
    if name in ("sitemap_index.xml", "sitemap-index.xml", "wp-sitemap.xml"):
        if path == only:
            return 200, xml, _index(site, [stem + "-pages.xml", stem + "-posts.xml"]), []
        if path == stem + "-pages.xml":
            return 200, xml, _urlset(site, [p for p in pages if p not in posts]), []
        if path == stem + "-posts.xml":
            return 200, xml, _urlset(site, posts), []
        return None
    if path != only:
        return None
    if name.endswith(".txt"):
        return 200, "text/plain; charset=utf-8", "".join(f"https://{site['host']}{p}\n" for p in pages).encode(), []
    if name.endswith(".gz"):
        return 200, "application/gzip", gzip.compress(_urlset(site, pages), mtime=0), []
    if "news" in name:
        return 200, xml, _news_urlset(site, posts), []
    return 200, xml, _urlset(site, pages), []


_YOAST_INDEX = """<?xml version="1.0" encoding="UTF-8"?><?xml-stylesheet type="text/xsl" href="/main-sitemap.xsl"?>
<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
	<sitemap>
		<loc>/post-sitemap.xml</loc>
		<lastmod>2024-05-30T22:36:11+00:00</lastmod>
	</sitemap>
	<sitemap>
		<loc>/page-sitemap.xml</loc>
	</sitemap>
</sitemapindex>
<!-- XML Sitemap generated by Yoast SEO -->"""


def _real_web_sitemap(site: dict, path: str):
    """pathsite-, relindex-, shared-: the sitemap shapes of issue #12, or None."""
    shapes, pages, posts = site["shapes"], site["pages"], site["blog_posts"]
    xml = "application/xml; charset=utf-8"
    if "pathsite" in shapes:
        if shapes & {"nositemap", "homelink"}:
            return None
        if path == PATHSITE_PREFIX + "/sitemap.xml":
            return 200, xml, _urlset(site, pages), []
        if path == "/sitemap.xml":  # the host's root: another site (the user's own), not this one
            return 200, xml, _urlset(site, ["/user-page"]), []
        return None
    if "relindex" in shapes:
        if path == "/sitemap_index.xml":
            return 200, xml, _YOAST_INDEX.encode(), []
        if path == "/post-sitemap.xml":
            return 200, xml, _urlset(site, posts), []
        if path == "/page-sitemap.xml":  # a static export rewrote the page URLs root-relative too
            return 200, xml, _urlset(site, (), locs=[p for p in pages if p not in posts]), []
        return None
    if "shared" in shapes:
        if path == "/sitemap_index.xml":
            index = _index(site, ["/sitemap-pages.xml", "/sitemap-posts.xml"])
            other = f"<sitemap><loc>{SHARED_OTHER_SITE}/sitemap.xml</loc></sitemap>\n</sitemapindex>".encode()
            return 200, xml, index.replace(b"</sitemapindex>", other), []
        if path == "/sitemap-pages.xml":
            own = [f"https://{site['host']}{p}" for p in pages if p not in posts]
            return 200, xml, _urlset(site, (), locs=[*own, f"{SHARED_OTHER_SITE}/", f"{SHARED_OTHER_SITE}/contact"]), []
        if path == "/sitemap-posts.xml":
            return 200, xml, _urlset(site, posts), []
        return None
    return None


def _index(site: dict, paths) -> bytes:
    entries = "".join(f"<sitemap><loc>https://{site['host']}{p}</loc></sitemap>\n" for p in paths)
    return f'<?xml version="1.0" encoding="UTF-8"?>\n<sitemapindex {_NS}>\n{entries}</sitemapindex>\n'.encode()


def _rss(site: dict) -> bytes:
    items = "".join(f"<item><title>{p}</title><link>https://{site['host']}{p}</link></item>" for p in site["pages"])
    return (f'<?xml version="1.0"?><rss version="2.0"><channel><title>{site["business_name"]}</title>'
            f"<link>https://{site['host']}/</link>{items}</channel></rss>").encode()


def _atom(site: dict) -> bytes:
    entries = "".join(
        f'<entry><title>{p}</title><link rel="alternate" href="https://{site["host"]}{p}"/>'
        f"<updated>2025-01-01T00:00:00Z</updated></entry>" for p in site["pages"]
    )
    return (f'<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
            f"<title>{site['business_name']}</title>{entries}</feed>").encode()


_BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><url><loc>https://x/&lol9;</loc></url></urlset>
"""


@functools.lru_cache(maxsize=1)
def _bomb_parts() -> tuple[bytes, bytes]:
    """(head, segment): head + segment * N is a valid gzip stream prefix decoding to N MiB of XML comments."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)
    block = b"<!-- padding -->" * (1024 * 1024 // 16)  # comments: no entries, no huge text node, just bytes
    prefix = f'<?xml version="1.0"?><urlset {_NS}>'.encode()
    head = compressor.compress(prefix) + compressor.flush(zlib.Z_FULL_FLUSH)
    segment = compressor.compress(block) + compressor.flush(zlib.Z_FULL_FLUSH)
    again = compressor.compress(block) + compressor.flush(zlib.Z_FULL_FLUSH)
    assert segment == again  # after a full flush the compressor state repeats
    return head, segment


def gzip_bomb(segments: int = BOMB_SEGMENTS):
    """Stream a gzip bomb lazily: ~1 KB per MiB decoded; never held in memory (no trailer: it is endless by design)."""
    head, segment = _bomb_parts()
    yield head
    for _ in range(segments):
        yield segment


@functools.lru_cache(maxsize=4)
def _huge_gz(host: str) -> bytes:
    buffer = io.BytesIO()
    with gzip.GzipFile(fileobj=buffer, mode="wb", compresslevel=6, mtime=0) as gz:
        gz.write(f'<?xml version="1.0" encoding="UTF-8"?>\n<urlset {_NS}>\n'.encode())
        for i in range(HUGE_URLS):
            gz.write(f"<url><loc>https://{host}/products/item-{i:05d}</loc><lastmod>2025-03-01</lastmod></url>\n".encode())
        gz.write(b"</urlset>\n")
    return buffer.getvalue()


def _bigtext(host: str, total: int = BIGTEXT_BYTES):
    line_count = 0
    sent = 0
    while sent < total:
        lines = []
        size = 0
        while size < 65536:
            line = f"https://{host}/archive/page-{line_count:08d}\n"
            lines.append(line)
            size += len(line)
            line_count += 1
        chunk = "".join(lines).encode()
        sent += len(chunk)
        yield chunk


def _toolarge(site: dict, total: int = TOOLARGE_BYTES):
    yield f"<!DOCTYPE html><html><head><title>{site['business_name']}</title></head><body>".encode()
    paragraph = ("<p>" + "Lorem ipsum dolor sit amet, consectetur adipiscing elit. " * 20 + "</p>\n").encode()
    block = paragraph * max(1, 65536 // len(paragraph))
    sent = 0
    while sent < total:
        yield block
        sent += len(block)
    yield b"</body></html>"


def _robots(site: dict) -> str:
    shapes = site["shapes"]
    host = site["host"]
    if "wk" in shapes:
        return "User-agent: *\nDisallow: /admin/\nAllow: /\n"
    if "blocked" in shapes:
        return f"User-agent: ScraperSkyBot\nDisallow: /\n\nUser-agent: *\nAllow: /\n\nSitemap: https://{host}/sitemap.xml\n"
    lines = ["User-agent: *", "Disallow: /admin/", "Allow: /"]
    if "crawldelay" in shapes:
        lines.append("Crawl-delay: 0.3")
    if "wp" in shapes:
        return "User-agent: *\nDisallow: /wp-admin/\nAllow: /wp-admin/admin-ajax.php\n"
    if shapes & {"nositemap", "homelink"}:
        return "\n".join(lines) + "\n"
    if shapes & {"index", "selfindex", "relindex", "shared"}:
        sitemap = "/sitemap_index.xml"
    elif shapes & {"gzip", "bomb", "huge"}:
        sitemap = "/sitemap.xml.gz"
    elif shapes & {"text", "bigtext"}:
        sitemap = "/sitemap.txt"
    elif "rss" in shapes:
        sitemap = "/feed.xml"
    elif "atom" in shapes:
        sitemap = "/atom.xml"
    else:
        sitemap = "/sitemap.xml"
    return "\n".join(lines) + f"\n\nSitemap: https://{host}{sitemap}\n"


def _sitemap(site: dict, path: str):
    """(status, content_type, body-or-iterable, extra headers) for a sitemap path, or None."""
    shapes = site["shapes"]
    pages = site["pages"]
    xml = "application/xml; charset=utf-8"
    if "wk" in shapes:
        return _only_path_sitemap(site, path)
    if "homelink" in shapes and path == site["prefix"] + "/site-map-feed.xml":
        return 200, xml, _urlset(site, pages), []
    if shapes & {"pathsite", "relindex", "shared"}:
        return _real_web_sitemap(site, path)
    if shapes & {"nositemap", "homelink", "wp"} and path in ("/sitemap.xml", "/sitemap_index.xml"):
        return None
    if "wp" in shapes:
        if path == "/wp-sitemap.xml":
            return 200, xml, _index(site, ["/wp-sitemap-posts-page-1.xml", "/wp-sitemap-posts-post-1.xml"]), []
        if path == "/wp-sitemap-posts-page-1.xml":
            return 200, xml, _urlset(site, [p for p in pages if p not in site["blog_posts"]]), []
        if path == "/wp-sitemap-posts-post-1.xml":
            return 200, xml, _urlset(site, site["blog_posts"]), []
        return None
    if "redirectloop" in shapes:
        if path == "/sitemap.xml":
            return 301, "text/html", b"", [("Location", "/sitemap-a.xml")]
        if path == "/sitemap-a.xml":
            return 301, "text/html", b"", [("Location", f"https://{site['host']}/sitemap.xml")]
    if "entities" in shapes and path == "/sitemap.xml":
        return 200, xml, _BILLION_LAUGHS, []
    if "bomb" in shapes and path == "/sitemap.xml.gz":
        return 200, "application/gzip", gzip_bomb(), []
    if "huge" in shapes and path == "/sitemap.xml.gz":
        return 200, "application/gzip", _huge_gz(site["host"]), []
    if "bigtext" in shapes and path == "/sitemap.txt":
        return 200, "text/plain; charset=utf-8", _bigtext(site["host"]), []
    if "selfindex" in shapes:
        if path == "/sitemap_index.xml":
            return 200, xml, _index(site, ["/sitemap_index.xml", "/sitemap-child.xml"]), []
        if path == "/sitemap-child.xml":
            return 200, xml, _index(site, ["/sitemap_index.xml", "/sitemap-pages.xml"]), []
        if path == "/sitemap-pages.xml":
            return 200, xml, _urlset(site, pages), []
        return None
    if "index" in shapes:
        if path == "/sitemap_index.xml":
            return 200, xml, _index(site, ["/sitemap-pages.xml", "/sitemap-posts.xml"]), []
        if path == "/sitemap-pages.xml":
            return 200, xml, _urlset(site, [p for p in pages if p not in site["blog_posts"]]), []
        if path == "/sitemap-posts.xml":
            return 200, xml, _urlset(site, site["blog_posts"]), []
        return None
    if "gzip" in shapes and path == "/sitemap.xml.gz":
        return 200, "application/gzip", gzip.compress(_urlset(site, pages), mtime=0), []
    if "text" in shapes and path == "/sitemap.txt":
        return 200, "text/plain; charset=utf-8", "".join(f"https://{site['host']}{p}\n" for p in pages).encode(), []
    if "rss" in shapes and path == "/feed.xml":
        return 200, "application/rss+xml", _rss(site), []
    if "atom" in shapes and path == "/atom.xml":
        return 200, "application/atom+xml", _atom(site), []
    if path == "/sitemap.xml" and not shapes & {"gzip", "text", "rss", "atom", "bomb", "huge", "bigtext"}:
        return 200, xml, _urlset(site, pages), []
    return None


# ----------------------------------------------------------------------------- WSGI


def _gzip_encoded_bomb(segments: int = 1024):
    # As a Content-Encoding: gzip body the XML prefix does not matter.
    yield from gzip_bomb(segments)


def make_app(*, latency_s: float = 0.0):
    """The WSGI app. `app.stats` holds {"max_concurrency": {host: n}, "requests": {host: n}}."""
    stats = {"max_concurrency": {}, "current": {}, "requests": {}}
    lock = threading.Lock()

    def respond(start_response, status: int, content_type: str, body, headers=()):
        reason = {200: "OK", 301: "Moved Permanently", 302: "Found", 403: "Forbidden", 404: "Not Found",
                  429: "Too Many Requests", 500: "Internal Server Error", 503: "Service Unavailable"}.get(status, "Status")
        header_list = [("Content-Type", content_type), *headers]
        if isinstance(body, (bytes, str)):
            data = body.encode() if isinstance(body, str) else body
            header_list.append(("Content-Length", str(len(data))))
            start_response(f"{status} {reason}", header_list)
            return [data]
        start_response(f"{status} {reason}", header_list)
        return body

    def app(environ, start_response):
        host = (environ.get("HTTP_HOST") or "localhost").lower().split(":", 1)[0].rstrip(".")
        if host.startswith("["):
            host = host.strip("[]")
        path = environ.get("PATH_INFO") or "/"
        query = parse_qs(environ.get("QUERY_STRING", ""))
        site = site_for(host)
        shapes = site["shapes"]
        with lock:
            stats["requests"][host] = stats["requests"].get(host, 0) + 1
        delay = latency_s + (0.05 if "lat50" in shapes else 0.0) + (SLOW_SECONDS if "slow" in shapes else 0.0)
        if delay:
            time.sleep(delay)

        # --- test hooks
        if path == "/__echo":
            headers = {k[5:].replace("_", "-").lower(): v for k, v in environ.items() if k.startswith("HTTP_")}
            return respond(start_response, 200, "application/json",
                           json.dumps({"method": environ["REQUEST_METHOD"], "path": path, "headers": headers}))
        if path == "/__redirect":
            status = int(query.get("status", ["302"])[0])
            return respond(start_response, status, "text/html", b"", [("Location", query.get("to", ["/"])[0])])
        if path.startswith("/__status/"):
            status = int(path.rsplit("/", 1)[-1])
            extra = [("Retry-After", query["retry_after"][0])] if "retry_after" in query else []
            return respond(start_response, status, "text/plain", f"status {status}", extra)
        if path == "/__cfblock":
            return respond(start_response, 403, "text/html",
                           "<html><title>Attention Required! | Cloudflare</title><body>cf-chl captcha</body></html>",
                           [("cf-mitigated", "challenge"), ("Server", "cloudflare")])
        if path == "/__concurrency":
            with lock:
                current = stats["current"][host] = stats["current"].get(host, 0) + 1
                stats["max_concurrency"][host] = max(stats["max_concurrency"].get(host, 0), current)
            try:
                time.sleep(float(query.get("sleep", ["0.2"])[0]))
            finally:
                with lock:
                    stats["current"][host] -= 1
            return respond(start_response, 200, "text/plain", f"ok {current}")
        if path == "/__slow":
            time.sleep(float(query.get("sleep", ["2"])[0]))
            return respond(start_response, 200, "text/plain", "slow")
        if path == "/__trickle":
            chunks = int(query.get("chunks", ["20"])[0])
            interval = float(query.get("interval", ["0.2"])[0])

            def trickle():
                for _ in range(chunks):
                    time.sleep(interval)
                    yield b"x" * 10

            return respond(start_response, 200, "text/plain", trickle())
        if path == "/__gzip":
            return respond(start_response, 200, "text/html; charset=utf-8",
                           gzip.compress("<html><body>Grüße aus dem Sandkasten</body></html>".encode()),
                           [("Content-Encoding", "gzip")])
        if path == "/__encbomb":
            return respond(start_response, 200, "text/html", _gzip_encoded_bomb(), [("Content-Encoding", "gzip")])

        # --- the site
        if path == "/robots.txt":
            if "robots500" in shapes:
                return respond(start_response, 500, "text/plain", "oops")
            if shapes & {"norobots", "pathsite"}:
                return respond(start_response, 404, "text/plain", "no robots.txt here")
            return respond(start_response, 200, "text/plain; charset=utf-8", _robots(site))
        if "ratelimit" in shapes:
            return respond(start_response, 429, "text/plain", "slow down", [("Retry-After", "7")])
        if "pathsite" in shapes and path == PATHSITE_PREFIX:
            return respond(start_response, 301, "text/html", b"", [("Location", PATHSITE_PREFIX + "/")])
        sitemap = _sitemap(site, path)
        if sitemap is not None:
            status, content_type, body, headers = sitemap
            if isinstance(body, bytes) and body.lstrip().startswith(b"<?xml"):
                if "badcomment" in shapes:
                    body += b"\n<!-- XML Sitemap generated by Hexo SEO Friendly Sitemap Generator -- v1.0 -->\n"
                if "blankline" in shapes:
                    body = b"\n\n" + body
                if "rawamp" in shapes and b"</urlset>" in body:
                    raw = f"<url><loc>https://{site['host']}{site['prefix']}{RAWAMP_PATH}</loc></url>\n</urlset>"
                    body = body.replace(b"</urlset>", raw.encode())
            return respond(start_response, status, content_type, body, headers)
        if path == "/" and "toolarge" in shapes:
            return respond(start_response, 200, "text/html; charset=utf-8", _toolarge(site))
        page = _page(site, path)
        if page is not None:
            status, html = page
            return respond(start_response, status, "text/html; charset=utf-8", html)
        return respond(start_response, 404, "text/html; charset=utf-8", _layout(site, "404", "<p>Not found</p>"))

    app.stats = stats
    return app


def main(argv=None) -> None:  # pragma: no cover - manual use: python -m scrapersky.sandbox.websites [port]
    import sys

    from scrapersky.sandbox.server import serve_in_thread

    port = int((argv or sys.argv[1:] or ["8102"])[0])
    server = serve_in_thread(make_app(), port=port)
    print(f"website sandbox on {server.base_url} (route hosts with FETCH_HOST_MAP='*=127.0.0.1:{port}')")
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        server.stop()


if __name__ == "__main__":  # pragma: no cover
    main()
