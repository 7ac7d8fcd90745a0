"""normalize_website / domain_key: one normalisation for the whole pipeline (B-14)."""
from __future__ import annotations

import socket

import pytest
import tldextract

from places.domains import (
    DIRECTORY,
    LINK_SHORTENER,
    OWN_SITE,
    SITE_BUILDER,
    SOCIAL_PROFILE,
    WebsiteInfo,
    domain_key,
    normalize_website,
)
from scrapersky.sandbox.places_api import load_dataset

# (input, cleaned url, host, registrable domain, kind, network, domain key)
CASES = [
    # --- own sites: scheme, case, www, ports, trailing dots, default documents
    ("https://www.example.com/", "https://www.example.com", "example.com", "example.com", OWN_SITE, None, "example.com"),
    ("http://example.com", "http://example.com", "example.com", "example.com", OWN_SITE, None, "example.com"),
    ("example.com", "https://example.com", "example.com", "example.com", OWN_SITE, None, "example.com"),
    ("www.example.com/about", "https://www.example.com/about", "example.com", "example.com", OWN_SITE, None, "example.com"),
    ("//example.com/x", "https://example.com/x", "example.com", "example.com", OWN_SITE, None, "example.com"),
    ("  HTTPS://WWW.EXAMPLE.COM/About-Us  ", "https://www.example.com/About-Us", "example.com", "example.com", OWN_SITE, None, "example.com"),
    ("https://www2.example.com/", "https://www2.example.com", "example.com", "example.com", OWN_SITE, None, "example.com"),
    ("https://example.com:443/", "https://example.com", "example.com", "example.com", OWN_SITE, None, "example.com"),
    ("http://example.com:80/shop", "http://example.com/shop", "example.com", "example.com", OWN_SITE, None, "example.com"),
    ("http://example.com:8080/shop", "http://example.com:8080/shop", "example.com", "example.com", OWN_SITE, None, "example.com"),
    ("https://example.com./", "https://example.com", "example.com", "example.com", OWN_SITE, None, "example.com"),
    ("https://WWW.Example.COM./Index.html", "https://www.example.com", "example.com", "example.com", OWN_SITE, None, "example.com"),
    ("https://example.com/index.php", "https://example.com", "example.com", "example.com", OWN_SITE, None, "example.com"),
    ("https://example.com/default.aspx", "https://example.com", "example.com", "example.com", OWN_SITE, None, "example.com"),
    ("https://example.com/#contact", "https://example.com", "example.com", "example.com", OWN_SITE, None, "example.com"),
    ("https://user:secret@example.com/", "https://example.com", "example.com", "example.com", OWN_SITE, None, "example.com"),
    ("https://example.com/en/contact/", "https://example.com/en/contact/", "example.com", "example.com", OWN_SITE, None, "example.com"),
    # --- subdomains and multi-part public suffixes
    ("https://shop.example.co.uk/", "https://shop.example.co.uk", "shop.example.co.uk", "example.co.uk", OWN_SITE, None, "example.co.uk"),
    ("https://www.bakehouse.co.uk", "https://www.bakehouse.co.uk", "bakehouse.co.uk", "bakehouse.co.uk", OWN_SITE, None, "bakehouse.co.uk"),
    ("https://austin.chain-dental.com/locations", "https://austin.chain-dental.com/locations", "austin.chain-dental.com", "chain-dental.com", OWN_SITE, None, "chain-dental.com"),
    ("https://sydney.dental.com.au", "https://sydney.dental.com.au", "sydney.dental.com.au", "dental.com.au", OWN_SITE, None, "dental.com.au"),
    ("http://www.plumbing.net.au", "http://www.plumbing.net.au", "plumbing.net.au", "plumbing.net.au", OWN_SITE, None, "plumbing.net.au"),
    ("https://a.b.c.example.org", "https://a.b.c.example.org", "a.b.c.example.org", "example.org", OWN_SITE, None, "example.org"),
    ("https://clinic.example.co.jp", "https://clinic.example.co.jp", "clinic.example.co.jp", "example.co.jp", OWN_SITE, None, "example.co.jp"),
    ("https://www.example.ca/fr/", "https://www.example.ca/fr/", "example.ca", "example.ca", OWN_SITE, None, "example.ca"),
    ("https://praxis.example.de", "https://praxis.example.de", "praxis.example.de", "example.de", OWN_SITE, None, "example.de"),
    ("https://www.example.com.es", "https://www.example.com.es", "example.com.es", "example.com.es", OWN_SITE, None, "example.com.es"),
    ("https://example.gov.uk", "https://example.gov.uk", "example.gov.uk", "example.gov.uk", OWN_SITE, None, "example.gov.uk"),
    ("https://www.example.london", "https://www.example.london", "example.london", "example.london", OWN_SITE, None, "example.london"),
    # --- IDN hosts → punycode
    ("https://bäckerei-müller.de/", "https://xn--bckerei-mller-bfb28a.de", "xn--bckerei-mller-bfb28a.de", "xn--bckerei-mller-bfb28a.de", OWN_SITE, None, "xn--bckerei-mller-bfb28a.de"),
    ("https://www.straße.de/Über", "https://www.xn--strae-oqa.de/%C3%9Cber", "xn--strae-oqa.de", "xn--strae-oqa.de", OWN_SITE, None, "xn--strae-oqa.de"),
    ("https://PANADERÍA.es", "https://xn--panadera-i2a.es", "xn--panadera-i2a.es", "xn--panadera-i2a.es", OWN_SITE, None, "xn--panadera-i2a.es"),
    ("https://xn--bckerei-mller-bfb28a.de", "https://xn--bckerei-mller-bfb28a.de", "xn--bckerei-mller-bfb28a.de", "xn--bckerei-mller-bfb28a.de", OWN_SITE, None, "xn--bckerei-mller-bfb28a.de"),
    ("http://пример.рф/", "http://xn--e1afmkfd.xn--p1ai", "xn--e1afmkfd.xn--p1ai", "xn--e1afmkfd.xn--p1ai", OWN_SITE, None, "xn--e1afmkfd.xn--p1ai"),
    # --- tracking parameters removed, real ones kept
    ("https://example.com/?utm_source=gmb&utm_medium=organic", "https://example.com", "example.com", "example.com", OWN_SITE, None, "example.com"),
    ("https://example.com/menu?utm_campaign=x&lang=en", "https://example.com/menu?lang=en", "example.com", "example.com", OWN_SITE, None, "example.com"),
    ("https://example.com/?gclid=abc&fbclid=def&msclkid=ghi", "https://example.com", "example.com", "example.com", OWN_SITE, None, "example.com"),
    ("https://example.com/?mc_cid=1&mc_eid=2&_ga=3&yclid=4", "https://example.com", "example.com", "example.com", OWN_SITE, None, "example.com"),
    ("https://example.com/?ref=gmb", "https://example.com", "example.com", "example.com", OWN_SITE, None, "example.com"),
    ("https://example.com/?source=google_my_business&id=7", "https://example.com/?id=7", "example.com", "example.com", OWN_SITE, None, "example.com"),
    ("https://example.com/?ref=homepage", "https://example.com/?ref=homepage", "example.com", "example.com", OWN_SITE, None, "example.com"),
    ("https://example.com/p?id=5&srsltid=AfmBOo", "https://example.com/p?id=5", "example.com", "example.com", OWN_SITE, None, "example.com"),
    ("https://example.com/contact/?ref=gmb#map", "https://example.com/contact/", "example.com", "example.com", OWN_SITE, None, "example.com"),
    # --- Google redirect wrappers
    ("https://www.google.com/url?q=https://www.example.co.uk/&sa=U&ved=2ahUKE&usg=AOvVaw", "https://www.example.co.uk", "example.co.uk", "example.co.uk", OWN_SITE, None, "example.co.uk"),
    ("https://www.google.com/url?url=http://example.com/menu&rct=j", "http://example.com/menu", "example.com", "example.com", OWN_SITE, None, "example.com"),
    ("http://maps.google.com/url?q=https://example.de/kontakt?utm_source=gmb&opi=123", "https://example.de/kontakt", "example.de", "example.de", OWN_SITE, None, "example.de"),
    ("https://www.google.co.uk/url?q=http%3A%2F%2Fexample.co.uk%2F&sa=D", "http://example.co.uk", "example.co.uk", "example.co.uk", OWN_SITE, None, "example.co.uk"),
    ("https://l.facebook.com/l.php?u=https%3A%2F%2Fexample.com%2F%3Ffbclid%3Dx&h=AT0", "https://example.com", "example.com", "example.com", OWN_SITE, None, "example.com"),
    ("https://www.google.com/url?q=https://www.facebook.com/somebakery", "https://www.facebook.com/somebakery", "facebook.com", "facebook.com", SOCIAL_PROFILE, "facebook", None),
    # --- social profiles
    ("https://www.facebook.com/somebakery", "https://www.facebook.com/somebakery", "facebook.com", "facebook.com", SOCIAL_PROFILE, "facebook", None),
    ("https://m.facebook.com/somebakery/?ref=page_internal", "https://m.facebook.com/somebakery/", "m.facebook.com", "facebook.com", SOCIAL_PROFILE, "facebook", None),
    ("fb.me/somebakery", "https://fb.me/somebakery", "fb.me", "fb.me", SOCIAL_PROFILE, "facebook", None),
    ("https://instagram.com/some.bakery?igshid=abc123", "https://instagram.com/some.bakery", "instagram.com", "instagram.com", SOCIAL_PROFILE, "instagram", None),
    ("https://www.linkedin.com/company/some-firm/", "https://www.linkedin.com/company/some-firm/", "linkedin.com", "linkedin.com", SOCIAL_PROFILE, "linkedin", None),
    ("https://twitter.com/somefirm", "https://twitter.com/somefirm", "twitter.com", "twitter.com", SOCIAL_PROFILE, "x", None),
    ("https://x.com/somefirm", "https://x.com/somefirm", "x.com", "x.com", SOCIAL_PROFILE, "x", None),
    ("https://www.youtube.com/@somefirm", "https://www.youtube.com/@somefirm", "youtube.com", "youtube.com", SOCIAL_PROFILE, "youtube", None),
    ("https://www.tiktok.com/@some.bakery", "https://www.tiktok.com/@some.bakery", "tiktok.com", "tiktok.com", SOCIAL_PROFILE, "tiktok", None),
    ("https://uk.pinterest.com/somefloristuk/", "https://uk.pinterest.com/somefloristuk/", "uk.pinterest.com", "pinterest.com", SOCIAL_PROFILE, "pinterest", None),
    ("https://www.pinterest.co.uk/somefloristuk/", "https://www.pinterest.co.uk/somefloristuk/", "pinterest.co.uk", "pinterest.co.uk", SOCIAL_PROFILE, "pinterest", None),
    ("https://www.threads.net/@somefirm", "https://www.threads.net/@somefirm", "threads.net", "threads.net", SOCIAL_PROFILE, "threads", None),
    ("https://wa.me/15125550123", "https://wa.me/15125550123", "wa.me", "wa.me", SOCIAL_PROFILE, "whatsapp", None),
    ("https://www.xing.com/pages/some-gmbh", "https://www.xing.com/pages/some-gmbh", "xing.com", "xing.com", SOCIAL_PROFILE, "xing", None),
    # --- link shorteners and link-in-bio pages
    ("https://bit.ly/3abcDEF", "https://bit.ly/3abcDEF", "bit.ly", "bit.ly", LINK_SHORTENER, None, None),
    ("https://t.co/xyz", "https://t.co/xyz", "t.co", "t.co", LINK_SHORTENER, None, None),
    ("https://goo.gl/maps/abc", "https://goo.gl/maps/abc", "goo.gl", "goo.gl", LINK_SHORTENER, None, None),
    ("https://maps.app.goo.gl/AbCdEf", "https://maps.app.goo.gl/AbCdEf", "maps.app.goo.gl", "goo.gl", LINK_SHORTENER, None, None),
    ("https://tinyurl.com/somebiz", "https://tinyurl.com/somebiz", "tinyurl.com", "tinyurl.com", LINK_SHORTENER, None, None),
    ("https://linktr.ee/somebakery", "https://linktr.ee/somebakery", "linktr.ee", "linktr.ee", LINK_SHORTENER, None, None),
    ("https://linkin.bio/somebakery", "https://linkin.bio/somebakery", "linkin.bio", "linkin.bio", LINK_SHORTENER, None, None),
    ("https://beacons.ai/somebakery", "https://beacons.ai/somebakery", "beacons.ai", "beacons.ai", LINK_SHORTENER, None, None),
    ("https://g.page/somebakery?share", "https://g.page/somebakery?share=", "g.page", "g.page", LINK_SHORTENER, None, None),
    # --- directories and marketplaces
    ("https://www.yelp.com/biz/some-bakery-austin", "https://www.yelp.com/biz/some-bakery-austin", "yelp.com", "yelp.com", DIRECTORY, None, None),
    ("https://www.yelp.co.uk/biz/some-cafe-london", "https://www.yelp.co.uk/biz/some-cafe-london", "yelp.co.uk", "yelp.co.uk", DIRECTORY, None, None),
    ("https://www.tripadvisor.com.au/Restaurant_Review-g1-d2", "https://www.tripadvisor.com.au/Restaurant_Review-g1-d2", "tripadvisor.com.au", "tripadvisor.com.au", DIRECTORY, None, None),
    ("https://www.booking.com/hotel/es/some.html", "https://www.booking.com/hotel/es/some.html", "booking.com", "booking.com", DIRECTORY, None, None),
    ("https://www.doctolib.de/zahnarzt/berlin/some", "https://www.doctolib.de/zahnarzt/berlin/some", "doctolib.de", "doctolib.de", DIRECTORY, None, None),
    ("https://www.zocdoc.com/practice/some-1", "https://www.zocdoc.com/practice/some-1", "zocdoc.com", "zocdoc.com", DIRECTORY, None, None),
    ("https://www.opentable.co.uk/r/some-london", "https://www.opentable.co.uk/r/some-london", "opentable.co.uk", "opentable.co.uk", DIRECTORY, None, None),
    ("https://www.thefork.es/restaurante/some-r1", "https://www.thefork.es/restaurante/some-r1", "thefork.es", "thefork.es", DIRECTORY, None, None),
    ("https://www.yellowpages.com/austin-tx/mip/some-1", "https://www.yellowpages.com/austin-tx/mip/some-1", "yellowpages.com", "yellowpages.com", DIRECTORY, None, None),
    ("https://foursquare.com/v/some/123", "https://foursquare.com/v/some/123", "foursquare.com", "foursquare.com", DIRECTORY, None, None),
    ("https://business.google.com/website/somebiz", "https://business.google.com/website/somebiz", "business.google.com", "google.com", DIRECTORY, None, None),
    ("https://www.google.com/maps/place/Some+Bakery", "https://www.google.com/maps/place/Some+Bakery", "google.com", "google.com", DIRECTORY, None, None),
    # --- site builders: the key is the whole host
    ("https://somebakery.wixsite.com/site", "https://somebakery.wixsite.com/site", "somebakery.wixsite.com", "wixsite.com", SITE_BUILDER, None, "somebakery.wixsite.com"),
    ("https://some-plumber.business.site/", "https://some-plumber.business.site", "some-plumber.business.site", "business.site", SITE_BUILDER, None, "some-plumber.business.site"),
    ("https://somefirm.squarespace.com", "https://somefirm.squarespace.com", "somefirm.squarespace.com", "squarespace.com", SITE_BUILDER, None, "somefirm.squarespace.com"),
    ("https://some-gym.godaddysites.com/", "https://some-gym.godaddysites.com", "some-gym.godaddysites.com", "godaddysites.com", SITE_BUILDER, None, "some-gym.godaddysites.com"),
    ("https://somecafe.wordpress.com/menu/", "https://somecafe.wordpress.com/menu/", "somecafe.wordpress.com", "wordpress.com", SITE_BUILDER, None, "somecafe.wordpress.com"),
    ("http://someflorist.blogspot.com", "http://someflorist.blogspot.com", "someflorist.blogspot.com", "blogspot.com", SITE_BUILDER, None, "someflorist.blogspot.com"),
    ("https://somebiz.weebly.com", "https://somebiz.weebly.com", "somebiz.weebly.com", "weebly.com", SITE_BUILDER, None, "somebiz.weebly.com"),
    ("https://somebiz.webflow.io", "https://somebiz.webflow.io", "somebiz.webflow.io", "webflow.io", SITE_BUILDER, None, "somebiz.webflow.io"),
    ("https://somebiz.carrd.co", "https://somebiz.carrd.co", "somebiz.carrd.co", "carrd.co", SITE_BUILDER, None, "somebiz.carrd.co"),
    ("https://somebiz.jimdosite.com", "https://somebiz.jimdosite.com", "somebiz.jimdosite.com", "jimdosite.com", SITE_BUILDER, None, "somebiz.jimdosite.com"),
    ("https://www.somebiz.square.site", "https://www.somebiz.square.site", "somebiz.square.site", "square.site", SITE_BUILDER, None, "somebiz.square.site"),
    ("https://www.wix.com", "https://www.wix.com", "wix.com", "wix.com", SITE_BUILDER, None, None),
    ("https://sites.google.com/view/somebakery", "https://sites.google.com/view/somebakery", "sites.google.com", "google.com", SITE_BUILDER, None, None),
]


@pytest.mark.parametrize(("raw", "url", "host", "registrable", "kind", "network", "key"), CASES,
                         ids=[case[0].strip()[:60] for case in CASES])
def test_normalize_website(raw, url, host, registrable, kind, network, key):
    info = normalize_website(raw)
    assert info == WebsiteInfo(original=raw, url=url, host=host, registrable_domain=registrable, kind=kind,
                               network=network, reason=info.reason)
    assert info.reason
    assert domain_key(info) == key


def test_the_table_is_large_enough():
    assert len(CASES) >= 60
    assert {case[4] for case in CASES} == {OWN_SITE, SOCIAL_PROFILE, DIRECTORY, LINK_SHORTENER, SITE_BUILDER}


INVALID = [
    ("", "empty"),
    ("   ", "empty"),
    ("not a url", "not a URL"),
    ("justtext", "no public suffix"),
    ("mailto:info@example.com", "mailto: link"),
    ("tel:+15125550123", "tel: link"),
    ("javascript:void(0)", "javascript: link"),
    ("ftp://files.example.com/", "ftp: link, not a website"),
    ("gopher://example.com/", "unsupported scheme"),
    ("http://192.168.1.10/", "IP address"),
    ("http://8.8.8.8", "IP address"),
    ("http://[2001:db8::1]/", "IP address"),
    ("http://localhost:8000/", "localhost"),
    ("http://app.localhost/", "localhost"),
    ("http://printer.local/", "no public suffix"),
    ("http://intranet/", "no public suffix"),
    ("https://co.uk", "is a public suffix"),
    ("http://", "no host"),
    ("https://exa mple.com", "not a URL"),
    ("https://example.com:99999/", "not a valid URL"),
    ("https://-bad-.com", "not a valid host name"),
    ("https://ex!ample.com", "not a valid host name"),
]


@pytest.mark.parametrize(("raw", "reason"), INVALID, ids=[case[0] or "<empty>" for case in INVALID])
def test_invalid_inputs_raise_value_error(raw, reason):
    with pytest.raises(ValueError, match=reason):
        normalize_website(raw)


def test_none_is_refused():
    with pytest.raises(ValueError, match="empty"):
        normalize_website(None)  # type: ignore[arg-type]


def test_equivalent_spellings_share_one_domain_key():
    spellings = ["EXAMPLE.com", "http://www.example.com/", "https://example.com:443/index.html?utm_source=gmb",
                 "https://shop.example.com/#x", "https://www.google.com/url?q=https://example.com/", "example.com."]
    assert {domain_key(normalize_website(s)) for s in spellings} == {"example.com"}


def test_public_suffix_list_is_read_offline(monkeypatch):
    """The extractor must work with no network at all (the bundled snapshot)."""
    attempts = []

    def refuse(*args, **kwargs):
        attempts.append(args)
        raise OSError("network disabled in this test")

    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    extractor = tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)
    assert extractor("a.b.example.com.au").suffix == "com.au"
    from places import domains

    domains._extractor.cache_clear()
    try:
        assert normalize_website("https://shop.example.co.uk").registrable_domain == "example.co.uk"
    finally:
        domains._extractor.cache_clear()
    assert attempts == []


def test_every_sandbox_website_normalises():
    kinds = {}
    for place in load_dataset():
        if place.get("websiteUri"):
            info = normalize_website(place["websiteUri"])
            kinds[info.kind] = kinds.get(info.kind, 0) + 1
            assert info.host.isascii() and "utm_" not in info.url and "google.com/url" not in info.url
    assert set(kinds) == {OWN_SITE, SOCIAL_PROFILE, DIRECTORY, LINK_SHORTENER, SITE_BUILDER}
    assert kinds[OWN_SITE] > kinds[SOCIAL_PROFILE] > 10


def test_chains_in_the_sandbox_collapse_to_one_domain():
    keys = [domain_key(normalize_website(p["websiteUri"])) for p in load_dataset()
            if p.get("websiteUri") and p["displayName"]["text"].startswith("Brindlewick Dental Group")]
    assert len(keys) >= 5 and set(keys) == {"brindlewickdental.com"}


# --- sites under the private section of the public suffix list ------------------------------

@pytest.mark.parametrize(("raw", "kind", "registrable", "key"), [
    ("https://acme.uk.com/", OWN_SITE, "uk.com", "acme.uk.com"),
    ("https://www.other.uk.com/kontakt", OWN_SITE, "uk.com", "other.uk.com"),
    ("https://shop.azurewebsites.net", OWN_SITE, "azurewebsites.net", "shop.azurewebsites.net"),
    ("https://bakery.azurewebsites.net/menu", OWN_SITE, "azurewebsites.net", "bakery.azurewebsites.net"),
    ("https://alice.github.io/project/", SITE_BUILDER, "github.io", "alice.github.io"),
    ("https://bob.github.io", SITE_BUILDER, "github.io", "bob.github.io"),
    ("https://joes-pizza.wixsite.com/home", SITE_BUILDER, "wixsite.com", "joes-pizza.wixsite.com"),
    ("https://shop.example.co.uk", OWN_SITE, "example.co.uk", "example.co.uk"),
    ("https://uk.com", OWN_SITE, "uk.com", "uk.com"),  # the private suffix itself: its ICANN domain
])
def test_sites_under_private_suffixes_keep_their_own_key(raw, kind, registrable, key):
    info = normalize_website(raw)
    assert (info.kind, info.registrable_domain, domain_key(info)) == (kind, registrable, key)


def test_domain_key_is_the_sitemap_site_key():
    """A domain's pages and sitemaps are "same site" by the key the domain has (pages.sitemaps)."""
    from pages.sitemaps import on_site, site_key

    for raw in ("https://acme.uk.com/", "https://shop.azurewebsites.net", "https://alice.github.io/",
                "https://joes-pizza.wixsite.com", "https://www.shop.example.co.uk", "https://name.blogspot.com"):
        info = normalize_website(raw)
        assert domain_key(info) == site_key(info.host), raw
        assert on_site("www." + info.host, domain_key(info)), raw
    assert not on_site("other.uk.com", domain_key(normalize_website("https://acme.uk.com")))
    assert site_key("other.azurewebsites.net") != domain_key(normalize_website("https://shop.azurewebsites.net"))


def test_private_section_is_read_offline(monkeypatch):
    def refuse(*args, **kwargs):
        raise OSError("network disabled in this test")

    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    from places import domains

    domains._site_extractor.cache_clear()
    try:
        assert domains.site_domain("a.b.azurewebsites.net") == "b.azurewebsites.net"
    finally:
        domains._site_extractor.cache_clear()
