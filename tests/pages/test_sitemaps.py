"""Sitemap parsing (pure, on bytes) and discovery against the website sandbox (real HTTP)."""
import contextlib
import gzip
import time
import tracemalloc

import pytest
from hypothesis import HealthCheck, given, settings as hsettings, strategies as st

from curation.exceptions import ErrorClass, PermanentError, RetryableError
from pages.categorize import categorize_url
from pages.fetch import fetch
from pages.sitemaps import (
    CMS_SITEMAP_PATHS,
    WELL_KNOWN_SITEMAP_PATHS,
    SitemapWalker,
    discover_sitemaps,
    homepage_links,
    normalize_page_url,
    parse_sitemap,
    path_depth,
    on_site,
    site_key,
    site_path_base,
    sitemap_candidates,
)
from scrapersky.sandbox.websites import CMS_PATHS, _BILLION_LAUGHS, _huge_gz, expected_contacts, gzip_bomb, site_for
from tests.support import HANG_GUARD_S

MB = 1024 * 1024
LIMITS = {"max_urls": 50_000, "max_decompressed_bytes": 200 * MB, "deadline": None}
NS = 'xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"'


@contextlib.contextmanager
def traced():
    """Measure peak traced memory; always stops tracing (a failing test must not slow the others)."""
    box = {}
    tracemalloc.start()
    try:
        yield box
    finally:
        box["peak"] = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()


def parse(data, url="https://www.acme.test/sitemap.xml", **kwargs):
    return parse_sitemap(data, url=url, **{**LIMITS, **kwargs})


def walker(**kwargs):
    values = {"max_depth": 3, "max_urls_per_domain": 100_000, "time_budget_s": 300, "max_urls_per_file": 50_000,
              "max_decompressed_bytes": 200 * MB}
    values.update(kwargs)
    return SitemapWalker(**values)


# ----------------------------------------------------------------------------- parsing bytes


def test_urlset_with_metadata_and_drops():
    data = f"""<?xml version="1.0" encoding="UTF-8"?>
<urlset {NS} xmlns:xhtml="http://www.w3.org/1999/xhtml">
  <url><loc> https://www.acme.test/kontakt </loc><lastmod>2025-01-02</lastmod>
       <changefreq>Monthly</changefreq><priority>0.8</priority>
       <xhtml:link rel="alternate" hreflang="en" href="https://www.acme.test/en/contact"/></url>
  <url><loc>https://acme.test/</loc></url>
  <url><loc>https://shop.acme.test/item</loc><priority>7</priority></url>
  <url><loc>https://www.acme.test/kontakt</loc></url>
  <url><loc>/relative/page</loc></url>
  <url><loc>None</loc></url>
  <url><loc>javascript:alert(1)</loc></url>
  <url><loc>https://evil.example/phish</loc></url>
  <url><loc>https://acme.test.evil.example/x</loc></url>
</urlset>""".encode()
    result = parse(data)
    assert result.kind == "urlset" and not result.gzip and not result.truncated
    assert [u.loc for u in result.urls] == ["https://www.acme.test/kontakt", "https://acme.test/",
                                            "https://shop.acme.test/item", "https://www.acme.test/relative/page"]
    first = result.urls[0]
    assert (first.lastmod, first.changefreq, first.priority) == ("2025-01-02", "monthly", 0.8)
    assert first.alternates == ("https://www.acme.test/en/contact",)
    assert result.urls[2].priority == 1.0  # clamped
    warnings = " ".join(result.warnings)
    assert "1 root-relative <loc> entries resolved against https://www.acme.test/sitemap.xml" in warnings
    assert "1 relative <loc> entries dropped (e.g. 'None')" in warnings and "1 invalid" in warnings
    assert "2 URLs on another site dropped" in warnings and "acme.test" in warnings


def test_namespace_less_urlset_and_index():
    assert [u.loc for u in parse(b"<urlset><url><loc>https://acme.test/a</loc></url></urlset>").urls] == [
        "https://acme.test/a"]
    index = parse(f"""<sitemapindex {NS}>
      <sitemap><loc>https://www.acme.test/sitemap.xml</loc></sitemap>
      <sitemap><loc>https://acme.test/s1.xml</loc><lastmod>2025-01-01</lastmod></sitemap>
      <sitemap><loc>https://acme.test/s1.xml</loc></sitemap>
      <sitemap><loc>https://cdn.other.example/s2.xml</loc></sitemap>
    </sitemapindex>""".encode())
    assert index.kind == "index"
    assert index.children == ["https://acme.test/s1.xml"]  # itself, duplicates and foreign children dropped
    assert any("lists itself" in w for w in index.warnings)
    assert any("another site" in w for w in index.warnings)


def test_text_sitemap():
    data = b"\xef\xbb\xbfhttps://acme.test/a\r\n\r\n# comment\nhttps://acme.test/b\nhttps://other.example/c\nnot a url\n" \
           b"https://acme.test/a\nhttps://acme.test/last-without-newline"
    result = parse(data, url="https://acme.test/sitemap.txt")
    assert result.kind == "text"
    assert [u.loc for u in result.urls] == ["https://acme.test/a", "https://acme.test/b",
                                            "https://acme.test/last-without-newline"]
    assert any("another site" in w for w in result.warnings)


def test_rss_and_atom_feeds():
    rss = b"""<?xml version="1.0"?><rss version="2.0"><channel><title>t</title><link>https://acme.test/</link>
      <item><title>a</title><link>https://acme.test/news/a</link><pubDate>Mon, 06 Jan 2025 10:00:00 GMT</pubDate></item>
      <item><title>b</title><guid>https://acme.test/news/b</guid></item></channel></rss>"""
    result = parse(rss, url="https://acme.test/feed.xml")
    assert result.kind == "rss"
    assert [u.loc for u in result.urls] == ["https://acme.test/news/a", "https://acme.test/news/b"]
    assert result.urls[0].lastmod.startswith("Mon, 06 Jan 2025")
    atom = b"""<feed xmlns="http://www.w3.org/2005/Atom"><title>t</title>
      <entry><link rel="alternate" href="https://acme.test/p/1"/><updated>2025-01-01T00:00:00Z</updated></entry>
      <entry><link rel="edit" href="https://acme.test/edit/2"/><link href="https://acme.test/p/2"/></entry></feed>"""
    result = parse(atom, url="https://acme.test/atom.xml")
    assert result.kind == "atom"
    assert [u.loc for u in result.urls] == ["https://acme.test/p/1", "https://acme.test/p/2"]


def test_gzip_and_multi_member_gzip():
    body = f"<urlset {NS}><url><loc>https://acme.test/a</loc></url>".encode()
    tail = b"<url><loc>https://acme.test/b</loc></url></urlset>"
    result = parse(gzip.compress(body) + gzip.compress(tail), url="https://acme.test/sitemap.xml.gz")
    assert result.gzip and result.kind == "urlset"
    assert [u.loc for u in result.urls] == ["https://acme.test/a", "https://acme.test/b"]


def test_url_cap_truncates_with_a_warning():
    entries = "".join(f"<url><loc>https://acme.test/p{i}</loc></url>" for i in range(100))
    result = parse(f"<urlset {NS}>{entries}</urlset>".encode(), max_urls=10)
    assert len(result.urls) == 10 and result.truncated
    assert any("URL limit 10" in w for w in result.warnings)


def test_deadline_truncates_with_a_warning():
    entries = "".join(f"<url><loc>https://acme.test/p{i}</loc></url>" for i in range(10_000))
    result = parse(f"<urlset {NS}>{entries}</urlset>".encode(), deadline=time.monotonic() - 1)
    assert result.truncated
    assert len(result.urls) < 10_000
    assert any("time budget" in w for w in result.warnings)


@pytest.mark.parametrize("data, message", [
    (b"", "Empty sitemap"),
    (b"<!DOCTYPE html><html><body>Oops</body></html>", "DTD"),
    (b"<html><body>Not here</body></html>", "Not a sitemap (an HTML page)"),
    (b"<urlset><url><loc>https://acme.test/a</loc></url><url><loc>https://acme.te", None),  # truncated XML: keep what was read
    (b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03" + b"\xff" * 64, "Corrupt gzip"),
    (b"hello\nworld\n", "Not a sitemap"),
])
def test_malformed_input(data, message):
    if message is None:
        result = parse(data, url="https://acme.test/s.xml")
        assert [u.loc for u in result.urls] == ["https://acme.test/a"] and result.truncated
        return
    with pytest.raises(PermanentError) as info:
        parse(data, url="https://acme.test/s.xml")
    assert message in info.value.message
    assert info.value.error_class == ErrorClass.PARSE


def test_billion_laughs_is_refused_in_bounded_time_and_memory():
    started = time.monotonic()
    with traced() as memory, pytest.raises(PermanentError) as info:
        parse(_BILLION_LAUGHS)
    elapsed = time.monotonic() - started
    peak = memory["peak"]
    assert "declares a DTD" in info.value.message and info.value.error_class == ErrorClass.PARSE
    # refused before any expansion: the memory shows it (a billion laughs needs gigabytes); time only as a hang guard
    assert peak < 2 * MB and elapsed < HANG_GUARD_S


def test_entity_declared_after_a_long_comment_is_still_refused():
    data = b"<?xml version='1.0'?><!--" + b"x" * 200_000 + b"--><!DOCTYPE x [<!ENTITY a 'b'>]><urlset/>"
    with pytest.raises(PermanentError, match="DTD"):
        parse(data)


def test_root_relative_children_of_an_index_are_resolved_against_the_index_url():
    data = f"""<?xml version="1.0"?><?xml-stylesheet type="text/xsl" href="/main-sitemap.xsl"?>
<sitemapindex {NS}><sitemap><loc>/post-sitemap.xml</loc></sitemap>
<sitemap><loc>//acme.test/page-sitemap.xml</loc></sitemap><sitemap><loc>//evil.example/x.xml</loc></sitemap>
<sitemap><loc>post-sitemap.xml</loc></sitemap></sitemapindex>
<!-- XML Sitemap generated by Yoast SEO -->""".encode()
    result = parse(data, url="https://acme.test/blog/sitemap_index.xml")
    assert result.kind == "index" and not result.truncated
    assert result.children == ["https://acme.test/post-sitemap.xml", "https://acme.test/page-sitemap.xml"]
    warnings = " ".join(result.warnings)
    assert "3 root-relative <loc> entries resolved against https://acme.test/blog/sitemap_index.xml" in warnings
    assert "1 URLs on another site dropped (e.g. https://evil.example/x.xml)" in warnings
    assert "1 relative <loc> entries dropped (e.g. 'post-sitemap.xml')" in warnings


@pytest.mark.parametrize("tail", [
    b"<!-- generated -- by Hexo -->",  # "--" inside a comment: not well-formed
    b"<!-- <?xml version='1.0'?><urlset><!-- nested --></urlset> -->",
    b"<urlset><url><loc>https://acme.test/second-root</loc></url></urlset>",
    b"garbage & more",
])
@pytest.mark.parametrize("chunked", [False, True])
def test_malformed_content_after_the_root_element_keeps_every_entry(tail, chunked, monkeypatch):
    if chunked:  # the error arrives in a later chunk than the entries, or in the same one
        monkeypatch.setattr("pages.sitemaps._XML_CHUNK", 16)
    entries = "".join(f"<url><loc>https://acme.test/p{i}</loc></url>" for i in range(5))
    result = parse(f'<?xml version="1.0"?>\n<urlset {NS}>{entries}</urlset>\n'.encode() + tail,
                   url="https://acme.test/sitemap.xml")
    assert [u.loc for u in result.urls] == [f"https://acme.test/p{i}" for i in range(5)]
    assert not result.truncated
    assert not any("second-root" in u.loc for u in result.urls)


def test_a_trailing_comment_with_double_hyphens_is_reported_not_fatal():
    data = f"<urlset {NS}><url><loc>https://acme.test/a</loc></url></urlset><!-- a -- b -->".encode()
    result = parse(data, url="https://acme.test/sitemap.xml")
    assert [u.loc for u in result.urls] == ["https://acme.test/a"] and not result.truncated
    assert any(w.startswith("malformed XML after the root element ignored: Double hyphen") for w in result.warnings)


def test_whitespace_or_a_comment_before_the_xml_declaration_is_tolerated():
    for prefix in (b"\n\n", b"\xef\xbb\xbf  \r\n", b"<!-- generated by a plugin -->\n"):
        data = prefix + f'<?xml version="1.0" encoding="UTF-8"?><urlset {NS}><url><loc>https://acme.test/a</loc>' \
                        f"</url></urlset>".encode()
        assert [u.loc for u in parse(data, url="https://acme.test/s.xml").urls] == ["https://acme.test/a"], prefix
    with pytest.raises(PermanentError, match="DTD"):  # the DTD guard still sees the raw bytes
        parse(b"<!-- x -->\n<?xml version='1.0'?><!DOCTYPE x [<!ENTITY a 'b'>]><urlset/>")


def test_an_error_inside_the_root_keeps_the_entries_before_it():
    # One chunk: the entries read before the error must not be lost with it. (lxml's recover mode would
    # go on and import whatever it makes of the broken part; a mismatched tag ends the reading instead.)
    data = f"""<urlset {NS}><url><loc>https://acme.test/a</loc></url><url><loc>https://acme.test/b</loc></url>
      <url><loc>https://acme.test/q</lo></url><url><loc>https://acme.test/c</loc></url></urlset>""".encode()
    result = parse(data, url="https://acme.test/sitemap.xml")
    assert [u.loc for u in result.urls] == ["https://acme.test/a", "https://acme.test/b"]
    assert result.truncated
    assert any(w.startswith("XML error after 2 entries, rest ignored: Opening and ending tag mismatch")
               for w in result.warnings)


@pytest.mark.parametrize("chunk", [7, 64 * 1024])
def test_unescaped_ampersands_are_read_as_written_and_cdata_is_left_alone(chunk, monkeypatch):
    monkeypatch.setattr("pages.sitemaps._XML_CHUNK", chunk)
    data = f"""<urlset {NS}><url><loc>https://acme.test/a</loc></url>
      <url><loc>https://acme.test/q?a=1&b=2&amp;c=3&#38;d=4</loc></url>
      <url><loc><![CDATA[https://acme.test/cd?x=1&y=2&amp;z]]></loc></url>
      <url><loc>https://acme.test/c</loc></url></urlset>""".encode()
    result = parse(gzip.compress(data), url="https://acme.test/sitemap.xml.gz")
    assert [u.loc for u in result.urls] == ["https://acme.test/a", "https://acme.test/q?a=1&b=2&c=3&d=4",
                                            "https://acme.test/cd?x=1&y=2&amp;z", "https://acme.test/c"]
    assert not result.truncated and result.gzip
    assert result.warnings[0].startswith("unescaped '&' in the XML read as '&amp;' (EntityRef")


@pytest.mark.parametrize("sitemap_url, loc, kept", [
    ("https://alice.github.io/sitemap.xml", "https://alice.github.io/post", True),
    ("https://alice.github.io/sitemap.xml", "https://bob.github.io/post", False),
    ("https://alice.github.io/sitemap.xml", "https://github.io/post", False),
    ("https://news.blogspot.com/sitemap.xml", "https://news.blogspot.com/2024/01/a.html", True),
    ("https://news.blogspot.com/sitemap.xml", "https://spam.blogspot.com/2024/01/a.html", False),
    ("https://www.acme.co.uk/sitemap.xml", "https://shop.acme.co.uk/a", True),
    ("https://www.acme.co.uk/sitemap.xml", "https://other.co.uk/a", False),
])
def test_same_site_uses_the_private_section_of_the_public_suffix_list(sitemap_url, loc, kept):
    result = parse(f"<urlset {NS}><url><loc>{loc}</loc></url></urlset>".encode(), url=sitemap_url)
    assert [u.loc for u in result.urls] == ([loc] if kept else [])


def test_site_keys_offline_with_private_suffixes():
    assert site_key("alice.github.io") == "alice.github.io" != site_key("bob.github.io")
    assert site_key("www.foo.blogspot.com") == "foo.blogspot.com"
    assert site_key("shop.acme.co.uk") == "acme.co.uk"
    # a domain keyed on the ICANN list only ("uk.com") still covers its sub-domains, one level of site does not
    assert on_site("acme.uk.com", "uk.com") and on_site("www.acme.uk.com", "acme.uk.com")
    assert not on_site("bob.github.io", "alice.github.io") and not on_site("alice.github.io.evil.example", "github.io")


def test_gzip_bomb_stops_at_the_decompressed_cap_in_bounded_memory():
    bomb = b"".join(gzip_bomb(300))  # ~300 KB expanding to 300 MiB
    started = time.monotonic()
    with traced() as memory, pytest.raises(PermanentError) as info:
        parse(bomb, url="https://acme.test/sitemap.xml.gz", max_decompressed_bytes=50 * MB)
    elapsed = time.monotonic() - started
    peak = memory["peak"]
    assert info.value.error_class == ErrorClass.TOO_LARGE
    assert str(50 * MB) in info.value.message and f"compressed size {len(bomb)}" in info.value.message
    assert elapsed < 120, "a hang guard; the speed target lives in bench/bench_sitemap.py"
    assert peak < 8 * MB


def test_fifty_thousand_url_gzipped_sitemap_parses_fast_in_bounded_memory():
    data = _huge_gz("huge-acme.test")
    started = time.monotonic()
    result = parse(data, url="https://huge-acme.test/sitemap.xml.gz")
    elapsed = time.monotonic() - started
    with traced() as memory:  # a second run for memory (tracing slows allocation-heavy code several times)
        parse(data, url="https://huge-acme.test/sitemap.xml.gz")
    peak = memory["peak"]
    print(f"\n50k-URL gzipped sitemap: {len(data)} bytes gz, {result.decompressed_bytes} bytes xml, "
          f"parse {elapsed:.2f}s, peak traced memory {peak / MB:.1f} MiB")
    assert result.gzip and len(result.urls) == 50_000 and not result.truncated
    assert result.urls[-1].loc == "https://huge-acme.test/products/item-49999"
    assert elapsed < 60, "a hang guard on a shared machine; the speed target lives in the benchmarks"
    assert peak < 40 * MB  # the 50,000 SitemapUrl objects themselves, not a DOM


# ----------------------------------------------------------------------------- URLs


@pytest.mark.parametrize("url, expected", [
    ("HTTPS://WWW.Acme.TEST:443/Kontakt/", "https://www.acme.test/Kontakt"),
    ("http://acme.test:80", "http://acme.test/"),
    ("http://acme.test:8080/a/../b/./c/", "http://acme.test:8080/b/c"),
    ("https://acme.test/contact#form", "https://acme.test/contact"),
    ("https://acme.test/p?utm_source=x&b=2&a=1&gclid=123&fbclid=9", "https://acme.test/p?a=1&b=2"),
    ("https://acme.test/%7Euser/caf%c3%a9", "https://acme.test/~user/caf%C3%A9"),
    ("https://user:pw@acme.test/x", "https://acme.test/x"),
    ("https://bücher.example/über", "https://xn--bcher-kva.example/%C3%BCber"),
    ("https://acme.test/?", "https://acme.test/"),
])
def test_normalize_page_url(url, expected):
    assert normalize_page_url(url) == expected
    assert normalize_page_url(expected) == expected  # idempotent


@pytest.mark.parametrize("url", ["mailto:info@acme.test", "/relative", "ftp://acme.test/x", "https:///nohost"])
def test_normalize_rejects_non_http(url):
    with pytest.raises(ValueError):
        normalize_page_url(url)


def test_path_depth():
    assert [path_depth(u) for u in ("https://a.test", "https://a.test/", "https://a.test/x", "https://a.test/x/y/",
                                    "https://a.test//x//y")] == [0, 0, 1, 2, 2]


# ----------------------------------------------------------------------------- candidates (pure)


def test_well_known_paths_include_the_originals_list():
    original = ["/sitemap.xml", "/sitemap_index.xml", "/sitemap-index.xml", "/sitemap.php", "/sitemap.txt",
                "/sitemap/sitemap.xml", "/wp-sitemap.xml", "/wp-sitemap-index.xml", "/wp-sitemap-posts-post-1.xml",
                "/sitemap-posts-post-1.xml", "/sitemap-pages-post-1.xml", "/sitemap-categories-1.xml",
                "/sitemap/index.xml", "/post-sitemap.xml", "/page-sitemap.xml", "/product-sitemap.xml",
                "/category-sitemap.xml", "/sitemapindex.xml"]
    assert set(original) <= set(WELL_KNOWN_SITEMAP_PATHS)
    assert {"/sitemap.xml.gz", "/sitemap.txt", "/wp-sitemap.xml"} <= set(WELL_KNOWN_SITEMAP_PATHS)
    assert len(set(WELL_KNOWN_SITEMAP_PATHS)) == len(WELL_KNOWN_SITEMAP_PATHS)


def test_sitemap_candidates_order_and_dedupe():
    robots = "User-agent: *\nDisallow: /x\nSitemap: https://acme.test/sitemap.xml\nsitemap:/news-sitemap.xml\n"
    html = '<html><head><link rel="sitemap" href="/site-map.xml"></head><body>' \
           '<a href="/sitemap.xml">map</a><a href="/html-sitemap">human sitemap</a></body></html>'
    candidates = sitemap_candidates(base_url="https://acme.test/some/page", robots_text=robots, homepage_html=html)
    assert candidates[:3] == [("https://acme.test/sitemap.xml", "robots"),
                              ("https://acme.test/news-sitemap.xml", "robots"),
                              ("https://acme.test/site-map.xml", "homepage_link")]
    urls = [u for u, _ in candidates]
    assert len(urls) == len(set(urls))
    assert ("https://acme.test/wp-sitemap.xml", "well_known") in candidates
    assert "https://acme.test/html-sitemap" not in urls
    assert sitemap_candidates(base_url="https://acme.test", robots_text=None, homepage_html=None)[0] == (
        "https://acme.test/sitemap.xml", "well_known")


def test_homepage_links_same_site_contact_first():
    html = """<html><head><base href="https://www.acme.test/"></head><body>
      <a href="/blog/post-1">post</a><a href="services">s</a><a href="https://shop.acme.test/">shop</a>
      <a href="https://facebook.com/acme">fb</a><a href="mailto:info@acme.test">m</a><a href="#top">top</a>
      <a href="/files/x.pdf">pdf</a><a href="/kontakt?utm_source=nav#form">Kontakt</a><a href="/impressum">i</a>
      <a href="/">home</a><a href="javascript:void(0)">js</a><a href="/kontakt">again</a></body></html>"""
    links = homepage_links(html, "https://www.acme.test/", limit=10)
    assert links[:2] == ["https://www.acme.test/kontakt", "https://www.acme.test/impressum"]
    assert set(links) == {"https://www.acme.test/kontakt", "https://www.acme.test/impressum",
                          "https://www.acme.test/blog/post-1", "https://www.acme.test/services",
                          "https://shop.acme.test/"}
    assert homepage_links(html, "https://www.acme.test/", limit=1) == ["https://www.acme.test/kontakt"]
    assert homepage_links("", "https://www.acme.test/", limit=5) == []


# ----------------------------------------------------------------------------- discovery over HTTP


@pytest.mark.parametrize("host, expected", [
    ("acme.test", [("/sitemap.xml", "robots", "urlset", 0)]),
    ("index-acme.test", [("/sitemap_index.xml", "robots", "index", 0), ("/sitemap-pages.xml", "sitemap_index", "urlset", 1),
                         ("/sitemap-posts.xml", "sitemap_index", "urlset", 1)]),
    ("gzip-acme.de", [("/sitemap.xml.gz", "robots", "urlset", 0)]),
    ("text-acme.es", [("/sitemap.txt", "robots", "text", 0)]),
    ("rss-acme.nl", [("/feed.xml", "robots", "rss", 0)]),
    ("atom-acme.fr", [("/atom.xml", "robots", "atom", 0)]),
    ("wp-acme.test", [("/wp-sitemap.xml", "well_known", "index", 0),
                      ("/wp-sitemap-posts-page-1.xml", "sitemap_index", "urlset", 1),
                      ("/wp-sitemap-posts-post-1.xml", "sitemap_index", "urlset", 1)]),
    ("homelink-acme.it", [("/site-map-feed.xml", "homepage_link", "urlset", 0)]),
    ("norobots-acme.test", [("/sitemap.xml", "well_known", "urlset", 0)]),
    ("blocked-acme.test", [("/sitemap.xml", "robots", "urlset", 0)]),
])
def test_discovery_on_every_site_shape(sandbox, host, expected):
    found = discover_sitemaps(f"https://{host}/", walker=walker())
    got = [(item.url.split(host, 1)[1], item.how, item.kind, item.depth) for item in found]
    assert got == expected
    assert all(item.error is None for item in found)
    pages = {u for item in found if item.kind != "index" for u in [item.url_count]}
    assert sum(item.url_count for item in found if item.kind != "index") == len(expected_contacts(host)["pages"])
    assert pages


def test_candidates_from_the_live_sandbox(sandbox):
    robots = fetch("https://index-acme.test/robots.txt", purpose="robots").text
    home = fetch("https://homelink-acme.test/", purpose="homepage").text
    assert sitemap_candidates(base_url="https://index-acme.test/", robots_text=robots, homepage_html=None)[0] == (
        "https://index-acme.test/sitemap_index.xml", "robots")
    assert sitemap_candidates(base_url="https://homelink-acme.test/", robots_text="", homepage_html=home)[0] == (
        "https://homelink-acme.test/site-map-feed.xml", "homepage_link")


def test_no_sitemap_falls_back_to_homepage_links(sandbox):
    host = "nositemap-acme.de"
    assert discover_sitemaps(f"https://{host}/", walker=walker()) == []
    home = fetch(f"https://{host}/", purpose="homepage")
    links = homepage_links(home.text, home.final_url, limit=20)
    assert links[0] == f"https://{host}/kontakt"
    assert f"https://{host}/impressum" in links[:3]
    assert all(link.startswith(f"https://{host}/") for link in links)
    assert not any(link.endswith(".pdf") for link in links)


def test_self_listing_index_cycle_terminates(sandbox):
    w = walker()
    started = time.monotonic()
    found = discover_sitemaps("https://selfindex-acme.test/", walker=w)
    assert time.monotonic() - started < HANG_GUARD_S  # a hang guard; the cycle shows in the lists below
    urls = [item.url for item in found]
    assert urls == ["https://selfindex-acme.test/sitemap_index.xml", "https://selfindex-acme.test/sitemap-child.xml",
                    "https://selfindex-acme.test/sitemap-pages.xml"]
    assert any("lists itself" in warning for warning in found[0].warnings)
    assert ("https://selfindex-acme.test/sitemap_index.xml", "already visited") in w.skipped


def test_depth_limit_and_per_domain_url_budget(sandbox):
    shallow = walker(max_depth=0)
    found = discover_sitemaps("https://index-acme.test/", walker=shallow)
    assert [item.kind for item in found] == ["index"]
    assert any("deeper than 0" in reason for _, reason in shallow.skipped)

    budget = walker(max_urls_per_domain=5)
    found = discover_sitemaps("https://index-acme.test/", walker=budget)
    assert sum(item.url_count for item in found if item.kind == "urlset") == 5
    assert any(item.truncated for item in found if item.kind == "urlset")


def test_hostile_redirect_loop_reports_the_chain(sandbox):
    found = discover_sitemaps("https://redirectloop-acme.test/", walker=walker(), probe_well_known=False)
    assert len(found) == 1
    assert found[0].error_class == ErrorClass.NETWORK and "Redirect loop" in found[0].error


def test_hostile_entities_over_http(sandbox):
    found = discover_sitemaps("https://entities-acme.test/", walker=walker(), probe_well_known=False)
    assert found[0].error_class == ErrorClass.PARSE and "DTD" in found[0].error


def test_hostile_gzip_bomb_over_http(sandbox):
    started = time.monotonic()
    result = fetch("https://bomb-acme.test/sitemap.xml.gz", purpose="sitemap")  # ~10 MB on the wire: under the cap
    with pytest.raises(PermanentError) as info:
        # No deadline: what is tested is the size cap; under a CPU hog a 30 s deadline ended the parse
        # first (a partial result, not TOO_LARGE).
        parse_sitemap(result.content, url=result.final_url, max_urls=50_000, max_decompressed_bytes=50 * MB,
                      deadline=None)
    assert info.value.error_class == ErrorClass.TOO_LARGE
    assert time.monotonic() - started < 60, "a hang guard, not a speed target"
    # and the discovery walker reports it as the file's error, with the default 50 MB download cap
    found = discover_sitemaps("https://bomb-acme.test/", walker=walker(max_decompressed_bytes=20 * MB, time_budget_s=600),
                              probe_well_known=False)
    assert found[0].error_class == ErrorClass.TOO_LARGE


def test_hostile_huge_and_bigtext_over_http(sandbox):
    found = discover_sitemaps("https://huge-acme.test/", walker=walker(), probe_well_known=False)
    assert found[0].kind == "urlset" and found[0].url_count == 50_000 and found[0].gzip
    started = time.monotonic()
    found = discover_sitemaps("https://bigtext-acme.test/", walker=walker(), probe_well_known=False)
    assert found[0].error_class == ErrorClass.TOO_LARGE
    assert time.monotonic() - started < 60, "a hang guard, not a speed target"


def test_hostile_slow_host_times_out(configure):
    # every answer of slow-acme.test takes 5 s: the 0.5 s read timeout ends the first request (robots.txt)
    with configure(FETCH_READ_TIMEOUT=0.5, FETCH_TOTAL_TIMEOUT=2):
        started = time.monotonic()
        with pytest.raises(RetryableError) as info:
            discover_sitemaps("https://slow-acme.test/", walker=walker())
    assert info.value.error_class == ErrorClass.TIMEOUT
    assert "slow-acme.test" in info.value.message
    assert time.monotonic() - started < HANG_GUARD_S


# ----------------------------------------------------------------------------- properties

_segment = st.text(alphabet=st.sampled_from("abcXYZ019-_.~%üé /?&=#"), max_size=12)


@given(host=st.sampled_from(["acme.test", "WWW.Acme.Test", "bücher.example", "127.0.0.1", "[::1]"]),
       port=st.sampled_from(["", ":80", ":443", ":8080"]), scheme=st.sampled_from(["http", "https", "HTTPS"]),
       segments=st.lists(_segment, max_size=4))
@hsettings(max_examples=300, suppress_health_check=[HealthCheck.too_slow], deadline=None)
def test_normalize_is_idempotent_and_categorize_total(host, port, scheme, segments):
    url = f"{scheme}://{host}{port}/" + "/".join(segments)
    try:
        normal = normalize_page_url(url)
    except ValueError:
        return
    assert normalize_page_url(normal) == normal
    assert "#" not in normal and "utm_" not in normal
    result = categorize_url(normal)
    assert 0.0 <= result.confidence <= 1.0


@given(data=st.binary(max_size=2000) | st.builds(lambda b: gzip.compress(b), st.binary(max_size=500)))
@hsettings(max_examples=300, deadline=None)
def test_parse_sitemap_never_crashes_on_garbage(data):
    try:
        result = parse(data, url="https://acme.test/s.xml", max_urls=100, max_decompressed_bytes=10_000)
    except PermanentError as exc:
        assert exc.error_class in (ErrorClass.PARSE, ErrorClass.TOO_LARGE)
        return
    assert result.kind in ("urlset", "index", "text", "rss", "atom")
    assert len(result.urls) <= 100


def test_homepage_links_of_an_xhtml_page_with_an_xml_declaration():
    html = '<?xml version="1.0" encoding="utf-8"?>\n<html xmlns="http://www.w3.org/1999/xhtml"><body>' \
           '<a href="/contact">c</a></body></html>'
    assert homepage_links(html, "https://acme.test/", limit=5) == ["https://acme.test/contact"]


def test_sitemap_hosted_elsewhere_accepts_the_sites_urls_when_told():
    data = f"<urlset {NS}><url><loc>https://shop.example/p/1</loc></url></urlset>".encode()
    assert parse(data, url="https://cdn.host.example/s/sitemap.xml").urls == []
    result = parse(data, url="https://cdn.host.example/s/sitemap.xml", site_url="https://www.shop.example/")
    assert [u.loc for u in result.urls] == ["https://shop.example/p/1"]


# ----------------------------------------------------------------------------- the real web's shapes (issue #12)


@pytest.mark.parametrize("url, whole_path, expected", [
    ("https://acme.test", False, "/"),
    ("https://acme.test/", False, "/"),
    ("https://alice.github.io/project/", False, "/project/"),
    ("https://alice.github.io/project/index.html", False, "/project/"),
    ("https://acme.test/contact", False, "/"),  # a page of a site at the root
    ("https://acme.test/de/kontakt", False, "/de/"),
    ("https://user.wixsite.com/dental", True, "/dental/"),  # a site builder's path is the site
    ("https://user.wixsite.com/dental/home.html", True, "/dental/"),
    ("https://acme.test//a//", False, "/a/"),
])
def test_site_path_base(url, whole_path, expected):
    assert site_path_base(url, whole_path=whole_path) == expected


def test_candidates_of_a_site_under_a_path_try_its_own_paths_first():
    html = '<html><head><link rel="sitemap" href="feed/sitemap.xml"></head></html>'
    candidates = sitemap_candidates(base_url="https://alice.github.io/project/", robots_text="", homepage_html=html)
    urls = [u for u, _ in candidates]
    assert candidates[0] == ("https://alice.github.io/project/feed/sitemap.xml", "homepage_link")
    under_path = [f"https://alice.github.io/project/{p}" for p in CMS_SITEMAP_PATHS]
    assert urls[1:1 + len(CMS_SITEMAP_PATHS)] == under_path
    assert urls[1 + len(CMS_SITEMAP_PATHS)] == "https://alice.github.io/sitemap.xml"
    assert {"news-sitemap.xml", "sitemap_news.xml", "post-sitemap.xml", "page-sitemap.xml", "sitemap-index.xml",
            "wp-sitemap.xml", "sitemap.txt", "sitemap.xml.gz", "sitemap_index.xml"} <= set(CMS_SITEMAP_PATHS)
    assert {f"/{p}" for p in CMS_SITEMAP_PATHS} <= set(WELL_KNOWN_SITEMAP_PATHS)


@pytest.mark.parametrize("index", range(len(CMS_PATHS)))
def test_discovery_finds_the_one_sitemap_a_cms_publishes(sandbox, websites_server, index):
    host = f"wk{index}-acme.test"
    path = CMS_PATHS[index]
    found = discover_sitemaps(f"https://{host}/", walker=walker())
    assert found[0].url == f"https://{host}{path}" and found[0].how == "well_known", [f.url for f in found]
    assert all(item.error is None for item in found)
    site = site_for(host)
    listed = sum(item.url_count for item in found if item.kind != "index")
    assert listed == (len(site["blog_posts"]) if "news" in path else len(site["pages"]))
    if found[0].kind == "index":
        assert [item.depth for item in found] == [0, 1, 1]
    # stopped at the first hit: no CMS path after it was requested
    probes = WELL_KNOWN_SITEMAP_PATHS.index(path) + 1
    assert websites_server.app.stats["requests"][host] == 1 + 1 + probes + (2 if found[0].kind == "index" else 0)


@pytest.mark.parametrize("host, base, expected", [
    ("pathsite-acme.github.io", "/project/", [("/project/sitemap.xml", "urlset", 11)]),
    ("pathsite-wk4-acme.github.io", "/project/", [("/project/news-sitemap.xml", "urlset", 3)]),
    ("pathsite-homelink-acme.github.io", "/project/", [("/project/site-map-feed.xml", "urlset", 11)]),
    ("pathsite-wk1-acme.github.io", "/project/", [("/project/sitemap_index.xml", "index", 2),
                                                  ("/project/sitemap_index-pages.xml", "urlset", 8),
                                                  ("/project/sitemap_index-posts.xml", "urlset", 3)]),
])
def test_discovery_of_a_site_under_a_path(sandbox, host, base, expected):
    found = discover_sitemaps(f"https://{host}{base}", walker=walker())
    assert [(f.url.split(host, 1)[1], f.kind, f.url_count) for f in found] == expected
    assert found[0].how == ("homepage_link" if "homelink" in host else "well_known")
    # the host's own /sitemap.xml (another site) was never read: the path's own sitemap came first
    assert not any(f.url == f"https://{host}/sitemap.xml" for f in found)


def test_discovery_follows_a_yoast_index_with_root_relative_children(sandbox):
    host = "relindex-acme.test"
    found = discover_sitemaps(f"https://{host}/", walker=walker())
    assert [(f.url, f.how, f.kind, f.depth, f.url_count) for f in found] == [
        (f"https://{host}/sitemap_index.xml", "robots", "index", 0, 2),
        (f"https://{host}/post-sitemap.xml", "sitemap_index", "urlset", 1, 3),
        (f"https://{host}/page-sitemap.xml", "sitemap_index", "urlset", 1, 8),
    ]
    assert any("2 root-relative <loc> entries resolved" in w for w in found[0].warnings)
    assert any("8 root-relative <loc> entries resolved" in w for w in found[2].warnings)


@pytest.mark.parametrize("host", ["badcomment-acme.test", "blankline-acme.test", "badcomment-blankline-relindex-acme.test"])
def test_harmless_malformations_do_not_lose_a_sitemap(sandbox, host):
    raw = fetch(f"https://{host}/robots.txt", purpose="robots").text
    (sitemap_url,) = [line.split(": ", 1)[1] for line in raw.splitlines() if line.startswith("Sitemap:")]
    body = fetch(sitemap_url, purpose="sitemap").content
    assert body.startswith(b"\n\n<?xml") == ("blankline" in host)
    assert (b" -- v1.0 -->" in body) == ("badcomment" in host)
    found = discover_sitemaps(f"https://{host}/", walker=walker())
    assert all(f.error is None and not f.truncated for f in found)
    assert sum(f.url_count for f in found if f.kind != "index") == 11
    if "badcomment" in host:
        assert all(any("malformed XML after the root element ignored" in w for w in f.warnings) for f in found)


def test_an_index_on_a_shared_host_keeps_its_own_children_only(sandbox):
    host = "shared-alice.github.io"
    found = discover_sitemaps(f"https://{host}/", walker=walker())
    assert [(f.url, f.kind, f.url_count) for f in found] == [
        (f"https://{host}/sitemap_index.xml", "index", 2),
        (f"https://{host}/sitemap-pages.xml", "urlset", 8),
        (f"https://{host}/sitemap-posts.xml", "urlset", 3),
    ]
    assert any("1 URLs on another site dropped (e.g. https://bob.github.io/sitemap.xml)" in w for w in found[0].warnings)
    assert any("2 URLs on another site dropped (e.g. https://bob.github.io/)" in w for w in found[1].warnings)


def test_a_sitemap_with_an_unescaped_ampersand_is_read_whole(sandbox):
    host = "rawamp-acme.test"
    assert b"?lang=en&page=2</loc>" in fetch(f"https://{host}/sitemap.xml", purpose="sitemap").content
    (found,) = discover_sitemaps(f"https://{host}/", walker=walker())
    assert (found.kind, found.url_count, found.truncated, found.error) == ("urlset", 12, False, None)
    assert found.warnings[0].startswith("unescaped '&' in the XML read as '&amp;'")


# --- the canonical-URL fast path of the import (normalize_page_url_parts) ----------------------------------
_SEGMENT = st.text(alphabet="abcXYZ09-._~%/:@!$&'()*+,;= é", max_size=12)


@hsettings(max_examples=400, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(scheme=st.sampled_from(["http", "https", "HTTPS"]),
       host=st.sampled_from(["shop.example", "Shop.Example", "a-b.example.", "xn--caf-dma.example", "1.2.3.4",
                             "shop.example:443", "shop.example:8080"]),
       segments=st.lists(_SEGMENT, max_size=4), query=st.sampled_from(["", "?b=2&a=1", "?utm_source=x"]),
       fragment=st.sampled_from(["", "#top"]))
def test_the_fast_path_gives_what_normalize_page_url_gives(scheme, host, segments, query, fragment):
    from urllib.parse import urlsplit

    from pages.sitemaps import normalize_page_url, normalize_page_url_parts

    url = f"{scheme}://{host}/{'/'.join(segments)}{query}{fragment}"
    try:
        expected = normalize_page_url(url)
    except ValueError:
        with pytest.raises(ValueError):
            normalize_page_url_parts(url)
        return
    normal, found_host, path = normalize_page_url_parts(url)
    parts = urlsplit(expected)
    assert (normal, found_host, path) == (expected, parts.hostname.rstrip("."), parts.path or "/")


def test_canonical_urls_take_the_fast_path_and_others_do_not():
    from pages.sitemaps import _canonical

    assert _canonical("https://shop.example/products/item-1") == ("shop.example", "/products/item-1")
    assert _canonical("https://shop.example/") == ("shop.example", "/")
    for url in ("https://Shop.example/a", "https://shop.example/a/", "https://shop.example/a?x=1",
                "https://shop.example/a/../b", "https://shop.example//a", "https://shop.example:443/a",
                "https://shop.example/caf%C3%A9", "https://shop.example", "ftp://shop.example/a"):
        assert _canonical(url) is None, url
