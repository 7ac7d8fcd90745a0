"""Real sitemaps, as served by public sites (copies committed to public repositories), imported exactly.

Each fixture in ``fixtures/real_sitemaps/`` is described in ``MANIFEST.json``: where it was
served (``url``), the site it belongs to when it is hosted elsewhere (``site_url``), its
provenance (repository, path, commit), its kind and the number of URLs (or child sitemaps) a
correct import keeps. The expected entries are recomputed here without ``pages.sitemaps``:
every ``<url><loc>`` / ``<sitemap><loc>`` / RSS ``<item><link>`` / text line outside XML
comments; absolute URLs are kept, root-relative ones ("/post-sitemap.xml", as static exports of
Yoast sitemaps have) are resolved against the sitemap URL, any other relative string ("None", as
MkDocs writes without ``site_url``) is dropped; de-duplicated; kept when its host is the site or
one of its sub-domains (``site`` in the manifest: a registrable domain, github.io and
blogspot.com being public suffixes).
"""
from __future__ import annotations

import gzip
import html
import json
import re
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import pytest

from pages.sitemaps import normalize_page_url, parse_sitemap

FIXTURES = Path(__file__).parent / "fixtures" / "real_sitemaps"
MANIFEST = json.loads((FIXTURES / "MANIFEST.json").read_text(encoding="utf-8"))


def _expected(entry: dict, data: bytes) -> set[str]:
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    text = re.sub(r"(?s)<!--.*?-->", "", data.decode("utf-8"))
    patterns = {
        "rss": r"<item>.*?<link>\s*(.*?)\s*</link>",
        "index": r"<sitemap>\s*<loc>\s*(.*?)\s*</loc>",
        "urlset": r"<url>\s*<loc>\s*(.*?)\s*</loc>",
    }
    if entry["kind"] in patterns:
        locs = re.findall(patterns[entry["kind"]], text, re.S)
    else:
        locs = [line.strip() for line in text.splitlines() if line.strip()]
    site = entry["site"]
    kept = set()
    for loc in map(html.unescape, locs):
        if not re.match(r"(?i)https?://|/", loc):
            continue
        url = urljoin(entry["url"], loc)
        host = (urlsplit(url).hostname or "").lower()
        if host == site or host.endswith("." + site):
            kept.add(normalize_page_url(url))
    return kept


def test_manifest_covers_every_fixture_and_every_shape():
    files = {p.name for p in FIXTURES.iterdir() if p.name != "MANIFEST.json"}
    assert files == {e["file"] for e in MANIFEST}
    assert len(MANIFEST) >= 20
    assert {e["kind"] for e in MANIFEST} >= {"urlset", "index", "text", "rss"}
    assert any(e["gzip"] for e in MANIFEST) and any("news" in e["file"] for e in MANIFEST)
    for e in MANIFEST:
        assert e["repository"] and e["path"] and len(e["commit"]) == 40, e["file"]


@pytest.mark.parametrize("entry", MANIFEST, ids=[e["file"] for e in MANIFEST])
def test_real_sitemap_is_imported_exactly(entry):
    data = (FIXTURES / entry["file"]).read_bytes()
    expected = _expected(entry, data)
    assert len(expected) == entry["expected"], "fixture and manifest disagree"
    result = parse_sitemap(
        data, url=entry["url"], site_url=entry["site_url"], max_urls=50_000, max_decompressed_bytes=50 * 2**20
    )
    assert result.kind == entry["kind"]
    assert result.gzip == entry["gzip"]
    assert not result.truncated
    found = result.children if entry["kind"] == "index" else [u.loc for u in result.urls]
    assert len(found) == len(set(found)), "duplicates imported"
    assert {normalize_page_url(u) for u in found} == expected
