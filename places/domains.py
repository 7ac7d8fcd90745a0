"""Website URL → normalised URL, registrable domain and kind (WF3).

One function for the whole project (the original had four, B-14):

    >>> info = normalize_website("HTTPS://WWW.Example.co.uk:443/?utm_source=gmb#top")
    >>> info.url, info.host, info.registrable_domain, info.kind
    ('https://www.example.co.uk', 'example.co.uk', 'example.co.uk', 'own_site')
    >>> domain_key(info)
    'example.co.uk'

Rules, in order:

1. Refuse what is not a website: empty input, other schemes (mailto:, tel:,
   javascript:, data:, ftp:…), IP addresses, localhost, hosts without a public
   suffix (``intranet``, ``printer.local``) → ``ValueError`` with the reason.
2. Unwrap redirect wrappers: Google's ``google.<tld>/url?q=…`` / ``?url=…``
   (also ``maps.google.<tld>/url``), Facebook's ``l.facebook.com/l.php?u=…``
   and Instagram's ``l.instagram.com/?u=…`` (nested wrappers too).
3. Add ``https://`` when the scheme is missing; lower-case scheme and host;
   IDN host → punycode (IDNA 2008 with UTS 46 mapping, so ``straße.de`` stays
   ``xn--strae-oqa.de``); drop credentials, trailing dots, default ports, the
   fragment, default documents (``/index.html``, ``/index.php``…) and
   tracking parameters (``utm_*``, gclid, fbclid, msclkid, mc_cid, mc_eid,
   _ga, yclid, igshid, srsltid… and ``ref``/``source``/``src`` when their value
   says "Google Business Profile" such as ``gmb``). Other query parameters and
   the path (case included) are kept.
4. ``host`` drops a leading ``www.``/``www2.``… (the cleaned ``url`` keeps it,
   because some sites only answer there); the registrable domain is computed
   OFFLINE from the public suffix list snapshot bundled with tldextract (no
   network call, no cache directory), so ``shop.example.co.uk`` →
   ``example.co.uk``: its ICANN section classifies the host (platform lists are
   keyed by ``github.io``, ``blogspot.com``…), the list with its private section
   gives ``site_domain`` (``acme.uk.com``, ``shop.azurewebsites.net``), the key
   of an own site.
5. Classify: ``social_profile`` (network set: facebook, instagram, …),
   ``link_shortener`` (bit.ly, linktr.ee, …), ``directory`` (yelp,
   tripadvisor, doctolib, Google Maps pages, …), ``site_builder`` (a
   business's subdomain on wixsite.com, business.site, squarespace.com, …) or
   ``own_site``.

`domain_key(info)` is the key of `pages.Domain`: the registrable domain of an
own site, the full host of a site-builder subdomain (the registrable domain is
shared by thousands of businesses there), and None for everything else
(social profiles become contact social links, not crawl targets).
"""
from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field
from functools import lru_cache
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit, urlunsplit

import idna
import tldextract

OWN_SITE = "own_site"
SOCIAL_PROFILE = "social_profile"
DIRECTORY = "directory"
LINK_SHORTENER = "link_shortener"
SITE_BUILDER = "site_builder"
KINDS = (OWN_SITE, SOCIAL_PROFILE, DIRECTORY, LINK_SHORTENER, SITE_BUILDER)


@dataclass(frozen=True)
class WebsiteInfo:
    original: str  # the input, as given
    url: str  # cleaned URL to fetch (keeps a leading www.)
    host: str  # ASCII (punycode) host without www., port or trailing dot
    registrable_domain: str  # eTLD+1 of host, from the public suffix list
    kind: str  # one of KINDS
    network: str | None  # social network name for social_profile, else None
    reason: str  # why this kind, for curators
    # the site's registrable domain under the public suffix list WITH its private section
    # (acme.uk.com, shop.azurewebsites.net, alice.github.io): what `domain_key` keys an own site by
    site_domain: str = field(default="", compare=False)


# --- Offline public suffix list ----------------------------------------------------
@lru_cache(maxsize=1)
def _extractor() -> tldextract.TLDExtract:
    # suffix_list_urls=() → never fetch the list; cache_dir=None → no disk cache;
    # the snapshot bundled with the installed tldextract is used.
    return tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None, fallback_to_snapshot=True,
                                 include_psl_private_domains=False)


@lru_cache(maxsize=1)
def _site_extractor() -> tldextract.TLDExtract:
    """The same bundled snapshot read with its private section (uk.com, azurewebsites.net, github.io…):
    the suffixes under which unrelated parties each own a site."""
    return tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None, fallback_to_snapshot=True,
                                 include_psl_private_domains=True)


def site_domain(host: str) -> str:
    """The registrable domain of ``host`` with the private section of the list counted
    (``acme.uk.com`` → ``acme.uk.com``, where the ICANN section alone says ``uk.com``); the ICANN
    registrable domain when the host is itself a private suffix (``uk.com``)."""
    ext = _site_extractor()(host)
    if ext.domain and ext.suffix:
        return f"{ext.domain}.{ext.suffix}"
    icann = _extractor()(host)
    return f"{icann.domain}.{icann.suffix}" if icann.domain and icann.suffix else host


# --- Platform tables ---------------------------------------------------------------
# registrable domain → network
SOCIAL_DOMAINS = {
    "facebook.com": "facebook", "fb.com": "facebook", "fb.me": "facebook", "messenger.com": "facebook",
    "instagram.com": "instagram", "instagr.am": "instagram",
    "linkedin.com": "linkedin",
    "twitter.com": "x", "x.com": "x",
    "youtube.com": "youtube", "youtu.be": "youtube",
    "tiktok.com": "tiktok",
    "pinterest.com": "pinterest", "pin.it": "pinterest",
    "threads.net": "threads", "threads.com": "threads",
    "wa.me": "whatsapp", "whatsapp.com": "whatsapp",
    "t.me": "telegram", "telegram.me": "telegram",
    "snapchat.com": "snapchat",
    "xing.com": "xing",
    "vk.com": "vk",
    "tumblr.com": "tumblr",
    "nextdoor.com": "nextdoor",
}
# Brands with one site per country (pinterest.co.uk, yelp.de…): matched on the label before the suffix.
SOCIAL_BRANDS = {"facebook": "facebook", "instagram": "instagram", "pinterest": "pinterest", "linkedin": "linkedin"}

SHORTENER_DOMAINS = {
    "bit.ly", "bitly.com", "t.co", "goo.gl", "tinyurl.com", "ow.ly", "buff.ly", "is.gd", "rebrand.ly", "cutt.ly",
    "lnkd.in", "t.ly", "shorturl.at", "rb.gy", "tiny.cc", "s.id", "bl.ink", "soo.gd", "short.io", "g.co",
    "g.page", "app.link", "page.link",
    # link-in-bio pages
    "linktr.ee", "linkin.bio", "beacons.ai", "bio.link", "lnk.bio", "taplink.cc", "campsite.bio", "msha.ke",
    "tap.bio", "solo.to", "linkbio.co", "allmylinks.com", "hoo.be", "koji.to",
}

DIRECTORY_DOMAINS = {
    "booking.com", "yellowpages.com", "yellowpages.ca", "yellowpages.com.au", "yell.com", "foursquare.com",
    "zocdoc.com", "bbb.org", "angi.com", "angieslist.com", "homeadvisor.com", "thumbtack.com", "houzz.com",
    "healthgrades.com", "avvo.com", "justia.com", "findlaw.com", "lawyers.com", "martindale.com",
    "ubereats.com", "doordash.com", "grubhub.com", "deliveroo.co.uk", "just-eat.co.uk", "lieferando.de",
    "glovoapp.com", "fresha.com", "booksy.com", "vagaro.com", "mindbodyonline.com", "classpass.com",
    "checkatrade.com", "trustpilot.com", "jameda.de", "gelbeseiten.de", "dasoertliche.de", "11880.com",
    "paginasamarillas.es", "truelocal.com.au", "hotfrog.com", "manta.com", "mapquest.com", "waze.com",
    "restaurantguru.com", "zomato.com", "bookatable.com", "resy.com", "sevenrooms.com", "squareup.com",
    "toasttab.com", "order.online", "menufy.com", "chownow.com", "airbnb.com", "expedia.com", "hotels.com",
    "agoda.com", "etsy.com", "amazon.com", "ebay.com", "nextdoor.co.uk", "groupon.com", "apple.com",
}
DIRECTORY_BRANDS = {"yelp", "tripadvisor", "opentable", "thefork", "doctolib", "treatwell", "booking",
                    "justeat", "deliveroo", "groupon", "yellowpages", "tripadvisor", "airbnb", "amazon"}

# Site builders and hosting platforms whose subdomains are business sites.
SITE_BUILDER_DOMAINS = {
    "wixsite.com", "wix.com", "editorx.io", "wixstudio.io", "business.site", "square.site", "squarespace.com",
    "godaddysites.com", "wordpress.com", "blogspot.com", "weebly.com", "weeblysite.com", "webflow.io",
    "carrd.co", "jimdosite.com", "jimdofree.com", "jimdo.com", "strikingly.com", "mystrikingly.com",
    "myshopify.com", "site123.me", "webnode.page", "webnode.com", "yolasite.com", "ueniweb.com", "ueni.com",
    "mailchimpsites.com", "netlify.app", "vercel.app", "github.io", "gitlab.io", "pages.dev", "web.app",
    "firebaseapp.com", "herokuapp.com", "hubspotpagebuilder.com", "hs-sites.com", "bigcartel.com",
    "tumblr.com", "wpengine.com", "wpcomstaging.com", "ionos.site", "one.com", "durable.co", "framer.website",
    "framer.ai", "notion.site", "simdif.com", "over-blog.com", "blogspot.co.uk", "blogspot.de", "blogspot.es",
    "blogspot.ca", "blogspot.com.au",
}
# Subdomains of a builder that belong to the platform, not to a business.
_PLATFORM_SUBDOMAINS = {"", "www", "app", "editor", "manage", "support", "help", "blog", "login", "accounts", "api",
                        "static", "cdn", "docs", "status", "shop", "store", "community"}

# Tracking parameters removed from every URL.
_TRACKING_EXACT = {
    "gclid", "gclsrc", "dclid", "gbraid", "wbraid", "fbclid", "msclkid", "mc_cid", "mc_eid", "_ga", "_gl",
    "yclid", "igshid", "igsh", "ttclid", "twclid", "li_fat_id", "mkt_tok", "_hsenc", "_hsmi", "hsctatracking",
    "vero_id", "vero_conv", "oly_anon_id", "oly_enc_id", "rb_clickid", "s_cid", "wickedid", "srsltid",
    "epik", "scid", "sc_cid", "zanpid", "spm", "__s", "trk", "trkcampaign", "cmpid", "pk_campaign", "pk_kwd",
    "pk_source", "pk_medium", "mtm_campaign", "mtm_source", "mtm_medium", "_kx",
}
_TRACKING_PREFIXES = ("utm_", "pk_", "mtm_", "hsa_")
# ref=gmb, source=google_my_business… say "came from the Google listing": tracking, not content.
_GMB_PARAMS = {"ref", "source", "src", "from", "referrer", "campaign", "channel", "utm"}
_GMB_VALUES = re.compile(r"^(gmb|gbp|google(_?my_?business|_?business(_?profile)?|_?maps|_?local)?|"
                         r"googlemaps|maps|local|yext|page_internal|listing|gmb_website|gmb-website)$", re.I)
_DEFAULT_DOCUMENTS = {"/index.html", "/index.htm", "/index.php", "/index.asp", "/index.aspx", "/default.asp",
                      "/default.aspx", "/default.htm", "/default.html", "/home.html", "/index.shtml"}
_REFUSED_SCHEMES = {"mailto", "tel", "sms", "javascript", "data", "file", "ftp", "ftps", "about", "blob",
                    "chrome", "intent", "market", "geo", "maps", "whatsapp", "callto", "skype", "ws", "wss"}
_SCHEME_RE = re.compile(r"^([a-z][a-z0-9+.-]*):", re.I)
_LABEL_RE = re.compile(r"^(?!-)[a-z0-9_-]{1,63}(?<!-)$")
_WWW_RE = re.compile(r"^www\d*\.")


def _label_and_suffix(registrable: str) -> str:
    return registrable.split(".", 1)[0]


def _idna_host(host: str) -> str:
    host = host.strip().rstrip(".").lower()
    if not host:
        raise ValueError("no host name")
    if host.isascii():
        ascii_host = host
    else:
        try:
            ascii_host = idna.encode(host, uts46=True, transitional=False).decode("ascii")
        except idna.IDNAError:
            try:
                ascii_host = host.encode("idna").decode("ascii")  # IDNA 2003: lenient with emoji etc.
            except UnicodeError as exc:
                raise ValueError(f"host name {host!r} is not a valid internationalised domain name") from exc
    return ascii_host.lower()


def _unwrap(parts) -> str | None:
    """The target of a known redirect wrapper, or None."""
    host = (parts.hostname or "").lower().rstrip(".")
    path = parts.path or "/"
    params = dict(parse_qsl(parts.query, keep_blank_values=False))
    is_google = _extractor()(host).domain == "google"
    if is_google and path in ("/url", "/local/url", "/maps/url", "/aclk", "/imgres"):
        for name in ("q", "url", "adurl", "imgrefurl"):
            target = params.get(name, "")
            if target.lower().startswith(("http://", "https://", "www.")):
                return target
    if host in ("l.facebook.com", "lm.facebook.com", "l.messenger.com") and path in ("/l.php", "/"):
        return params.get("u")
    if host == "l.instagram.com":
        return params.get("u")
    if host in ("href.li", "anon.to") and parts.query:
        return unquote(parts.query)
    return None


def _clean_query(query: str) -> str:
    kept = []
    for name, value in parse_qsl(query, keep_blank_values=True):
        lowered = name.lower()
        if lowered in _TRACKING_EXACT or lowered.startswith(_TRACKING_PREFIXES):
            continue
        if lowered in _GMB_PARAMS and _GMB_VALUES.match(value.strip()):
            continue
        kept.append((name, value))
    return urlencode(kept, quote_via=quote, safe="/:@!$'()*,;~")


def _split(url: str):
    text = url.strip()
    scheme_match = _SCHEME_RE.match(text)
    if text.startswith("//"):
        text = "https:" + text
    elif scheme_match and text[scheme_match.end():scheme_match.end() + 2] == "//":
        pass
    elif scheme_match and scheme_match.group(1).lower() in _REFUSED_SCHEMES:
        raise ValueError(f"{url!r} is a {scheme_match.group(1).lower()}: link, not a website")
    else:
        text = "https://" + text  # host[:port][/path]: no scheme given
    parts = urlsplit(text)
    scheme = parts.scheme.lower()
    if scheme in _REFUSED_SCHEMES:
        raise ValueError(f"{url!r} is a {scheme}: link, not a website")
    if scheme not in ("http", "https"):
        raise ValueError(f"{url!r}: unsupported scheme {scheme!r} (only http and https websites)")
    return parts


def normalize_website(url: str) -> WebsiteInfo:
    """Normalise and classify a business's website URL (see the module docstring).

    Raises ValueError, with the reason, for anything that is not a public website URL.
    """
    if url is None or not str(url).strip():
        raise ValueError("empty website URL")
    original = str(url)
    if re.search(r"\s", original.strip()):
        raise ValueError(f"{original!r} is not a URL (contains spaces)")
    parts = _split(original)
    for _ in range(5):  # nested wrappers, bounded
        target = _unwrap(parts)
        if not target:
            break
        parts = _split(target)

    try:
        raw_host = parts.hostname
        port = parts.port
    except ValueError as exc:
        raise ValueError(f"{original!r} is not a valid URL: {exc}") from exc
    if not raw_host:
        raise ValueError(f"{original!r} has no host name")
    raw_host = unquote(raw_host)
    try:
        ipaddress.ip_address(raw_host.strip("[]"))
    except ValueError:
        pass
    else:
        raise ValueError(f"{original!r} points at an IP address, not a domain name")
    full_host = _idna_host(raw_host)
    labels = full_host.split(".")
    if not all(_LABEL_RE.match(label) for label in labels) or len(full_host) > 253:
        raise ValueError(f"{original!r}: {full_host!r} is not a valid host name")
    if full_host == "localhost" or full_host.endswith(".localhost"):
        raise ValueError(f"{original!r} points at localhost")
    if re.fullmatch(r"[0-9.]+", full_host):
        raise ValueError(f"{original!r} points at an IP address, not a domain name")

    host = _WWW_RE.sub("", full_host) if _WWW_RE.match(full_host) and full_host.count(".") >= 2 else full_host
    extracted = _extractor()(host)
    if not extracted.suffix:
        raise ValueError(f"{original!r}: {host!r} has no public suffix (not a public domain name)")
    if not extracted.domain:
        raise ValueError(f"{original!r}: {host!r} is a public suffix, not a domain name")
    registrable = f"{extracted.domain}.{extracted.suffix}"

    scheme = parts.scheme.lower()
    netloc = full_host
    if port is not None and port != {"http": 80, "https": 443}[scheme]:
        netloc = f"{full_host}:{port}"
    path = quote(parts.path or "", safe="/%:@!$&'()*+,;=~-._")  # percent-encode non-ASCII, keep the rest
    if path.lower() in _DEFAULT_DOCUMENTS or path == "/":
        path = ""
    query = _clean_query(parts.query)
    if query and not path:
        path = "/"  # https://example.com/?id=7, not https://example.com?id=7
    cleaned = urlunsplit((scheme, netloc, path, query, ""))

    kind, network, reason = _classify(host, registrable, extracted.subdomain, path)
    return WebsiteInfo(original=original, url=cleaned, host=host, registrable_domain=registrable,
                       kind=kind, network=network, reason=reason, site_domain=site_domain(host))


def _classify(host: str, registrable: str, subdomain: str, path: str) -> tuple[str, str | None, str]:
    label = _label_and_suffix(registrable)
    sub = _WWW_RE.sub("", subdomain + ".").rstrip(".") if subdomain else ""

    network = SOCIAL_DOMAINS.get(registrable) or SOCIAL_BRANDS.get(label)
    if network:
        where = path.strip("/").split("/")[0] if path.strip("/") else ""
        what = f"{network} profile {where!r}" if where else f"{network} page without a profile path"
        return SOCIAL_PROFILE, network, f"{what}: a social link for contacts, not a site to crawl"

    if registrable in SHORTENER_DOMAINS or host in SHORTENER_DOMAINS or host == "maps.app.goo.gl":
        return LINK_SHORTENER, None, f"{host} is a link shortener or link-in-bio page: the real site is behind it"

    if label == "google":
        if sub == "sites":
            return SITE_BUILDER, None, "Google Sites page (path-based site on a shared host)"
        return DIRECTORY, None, f"{host}{path} is a Google listing (Maps / Business Profile), not the business's site"

    if registrable in DIRECTORY_DOMAINS or label in DIRECTORY_BRANDS:
        return DIRECTORY, None, f"{registrable} is a directory or marketplace listing, not the business's own site"

    if registrable in SITE_BUILDER_DOMAINS:
        if sub in _PLATFORM_SUBDOMAINS:
            return SITE_BUILDER, None, f"{host} is the {registrable} platform itself, not a business's site"
        return SITE_BUILDER, None, f"site-builder subdomain on {registrable}: the business's site is the whole host"

    return OWN_SITE, None, "own website"


def domain_key(info: WebsiteInfo) -> str | None:
    """The `pages.Domain` key for a website, or None when it must not become a crawl target.

    own_site → its site domain, the registrable domain under the public suffix list
    with its private section (shop.example.co.uk → example.co.uk: one domain, many
    businesses; acme.uk.com and shop.azurewebsites.net stay apart, where the ICANN
    section alone would merge every uk.com / azurewebsites.net site into one);
    site_builder → the full host (name.wixsite.com), except the platform's own host
    or a path-based shared host (sites.google.com), which identify no business;
    everything else → None. The key is the one ``pages.sitemaps.site_key`` gives the
    host, so a domain's sitemaps and pages are judged "same site" by the same list.
    """
    if info.kind == OWN_SITE:
        return info.site_domain or info.registrable_domain
    if info.kind == SITE_BUILDER:
        sub = info.host[: -len(info.registrable_domain)].rstrip(".")
        if info.registrable_domain.split(".", 1)[0] == "google" or sub in _PLATFORM_SUBDOMAINS:
            return None
        return info.host
    return None
