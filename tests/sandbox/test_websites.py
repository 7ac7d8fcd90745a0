"""The website sandbox: deterministic fictional sites, served over real HTTP."""
import gzip
import http.client
import json
import re
import zlib

import phonenumbers
import pytest

from scrapersky.sandbox.server import serve_in_thread
from scrapersky.sandbox.websites import SHAPES, _bomb_parts, expected_contacts, gzip_bomb, make_app, site_for


@pytest.fixture(scope="module")
def server():
    running = serve_in_thread(make_app())
    yield running
    running.stop()


def get(server, host, path):
    """GET without following redirects: (status, headers, body)."""
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    try:
        connection.request("GET", path, headers={"Host": host})
        response = connection.getresponse()
        return response.status, response.headers, response.read()
    finally:
        connection.close()


def cf_decode(encoded: str) -> str:
    key = int(encoded[:2], 16)
    return "".join(chr(int(encoded[i:i + 2], 16) ^ key) for i in range(2, len(encoded), 2))


@pytest.mark.parametrize("host, language, region, contact_path", [
    ("acme-bakery.de", "de", "DE", "/kontakt"),
    ("panaderia-sol.es", "es", "ES", "/contacto"),
    ("boulangerie.fr", "fr", "FR", "/nous-contacter"),
    ("forno.it", "it", "IT", "/contatti"),
    ("bakkerij.nl", "nl", "NL", "/contact"),
    ("bakery.co.uk", "en", "GB", "/contact"),
    ("bakery.com", "en", "US", "/contact"),
])
def test_contact_page_shows_every_form_of_contact(server, host, language, region, contact_path):
    expected = expected_contacts(host)
    assert (expected["language"], expected["region"], expected["contact_path"]) == (language, region, contact_path)
    status, headers, body = get(server, host, contact_path)
    html = body.decode()
    assert status == 200
    domain = expected["domain"]
    assert expected["main_email"] == f"info@{domain}"
    assert f'href="mailto:info@{domain}?subject=' in html
    assert f"sales [at] {' [dot] '.join(domain.split('.'))}" in html
    encoded = re.search(r'data-cfemail="([0-9a-f]+)"', html).group(1)
    assert cf_decode(encoded) == f"office@{domain}"
    ld = json.loads(re.search(r'<script type="application/ld\+json">(.*?)</script>', html, re.S).group(1))
    assert ld["@type"] == "LocalBusiness" and ld["email"] == f"info@{domain}" and ld["sameAs"] == expected["socials"]
    for phone in expected["phones"]:
        parsed = phonenumbers.parse(phone)
        assert phonenumbers.is_valid_number(parsed), phone
        assert phonenumbers.region_code_for_number(parsed) == region
    assert f'href="tel:{expected["phones"][0]}"' in html
    assert all(social in html for social in expected["socials"])
    assert html.count(f"info@{domain}") >= 3  # mailto, text, footer (and JSON-LD)


def test_team_and_impressum_pages(server):
    expected = expected_contacts("acme-bakery.de")
    person = expected["people"][0]
    status, _, body = get(server, "acme-bakery.de", "/team")
    assert status == 200 and f"mailto:{person['email']}" in body.decode() and person["name"] in body.decode()
    status, _, body = get(server, "acme-bakery.de", "/impressum")
    assert status == 200 and "info@acme-bakery.de" in body.decode()
    assert set(expected["emails"]) == {"info@acme-bakery.de", "sales@acme-bakery.de", "office@acme-bakery.de",
                                       person["email"]}


def test_sites_are_deterministic_and_differ_by_host():
    assert expected_contacts("acme.test") == expected_contacts("acme.test")
    assert expected_contacts("acme.test")["phones"] != expected_contacts("other.test")["phones"]
    assert site_for("lat50-gzip-acme.de")["shapes"] == frozenset({"lat50", "gzip"})
    assert site_for("www.index-acme.test")["shapes"] == frozenset({"index"})
    assert expected_contacts("shop.acme.co.uk")["domain"] == "acme.co.uk"


def test_every_page_in_expected_contacts_is_served(server):
    for host in ("acme.test", "acme-bakery.de", "sol.es"):
        for path in expected_contacts(host)["pages"]:
            assert get(server, host, path)[0] == 200, (host, path)
    assert get(server, "acme.test", "/no-such-page")[0] == 404


def test_notfound_shape_hides_contact_page_contacts(server):
    expected = expected_contacts("notfound-acme.test")
    assert get(server, "notfound-acme.test", "/contact")[0] == 404
    assert "sales@notfound-acme.test" not in expected["emails"]
    assert "info@notfound-acme.test" in expected["emails"]  # still in every footer


def test_robots_and_sitemaps_of_shapes(server):
    assert b"Sitemap: https://acme.test/sitemap.xml" in get(server, "acme.test", "/robots.txt")[2]
    assert b"Sitemap" not in get(server, "nositemap-acme.test", "/robots.txt")[2]
    assert b"User-agent: ScraperSkyBot\nDisallow: /" in get(server, "blocked-acme.test", "/robots.txt")[2]
    status, headers, body = get(server, "gzip-acme.test", "/sitemap.xml.gz")
    assert status == 200 and b"<urlset" in gzip.decompress(body)
    status, headers, _ = get(server, "redirectloop-acme.test", "/sitemap.xml")
    assert (status, headers["Location"]) == (301, "/sitemap-a.xml")
    status, headers, _ = get(server, "redirectloop-acme.test", "/sitemap-a.xml")
    assert (status, headers["Location"]) == (301, "https://redirectloop-acme.test/sitemap.xml")
    assert b"<!ENTITY" in get(server, "entities-acme.test", "/sitemap.xml")[2]
    assert get(server, "ratelimit-acme.test", "/contact")[1]["Retry-After"] == "7"


def test_gzip_bomb_is_a_valid_stream_that_expands_a_thousandfold():
    head, segment = _bomb_parts()
    assert len(segment) < 4096
    decoder = zlib.decompressobj(31)
    out = 0
    for chunk in gzip_bomb(20):
        out += len(decoder.decompress(chunk))
    assert out >= 20 * 1024 * 1024
    compressed = len(head) + 20 * len(segment)
    assert out / compressed > 500


def test_shapes_are_documented():
    import scrapersky.sandbox.websites as module

    for shape in SHAPES:
        assert f"{shape}-" in module.__doc__, shape


def test_latency_knobs():
    import time

    slow = serve_in_thread(make_app(latency_s=0.1))
    try:
        started = time.monotonic()
        assert get(slow, "acme.test", "/robots.txt")[0] == 200
        assert time.monotonic() - started >= 0.1
        started = time.monotonic()
        assert get(slow, "lat50-acme.test", "/robots.txt")[0] == 200
        assert time.monotonic() - started >= 0.15
    finally:
        slow.stop()
