"""Page metadata from the extraction's tree (the same fields as ``pages.services.page_metadata_extract``),
so a scrape parses each page once: title, meta description, first h1, canonical URL, language,
word count and outbound social links."""
from __future__ import annotations

import re
from urllib.parse import urljoin, urlsplit

from contacts.extract_html import text_of

_WS = re.compile(r"\s+")

EMPTY_METADATA = {"title": "", "meta_description": "", "h1": "", "canonical_url": "", "language": "",
                  "word_count": 0, "social_links": []}


def _squash(text: str | None) -> str:
    return _WS.sub(" ", text or "").strip()


def _meta(metas: dict[str, str], *names: str) -> str:
    for name in names:
        if metas.get(name):
            return metas[name]
    return ""


def base_url(root, url: str, bases: list | None = None) -> str:
    """``url`` resolved against the page's first ``<base href>`` (``bases``: the page's <base> elements
    in document order, when the caller collected them)."""
    if bases is None:
        base_el = root.find(".//base[@href]")
    else:
        base_el = next((b for b in bases if b.get("href") is not None), None)
    return urljoin(url, base_el.get("href").strip()) if base_el is not None else url


def page_metadata(root, url: str, base: str, tagged: dict | None = None) -> dict:
    """Everything but word_count and social_links (filled in by the extraction's later passes).
    Call before the visible-text pass (which strips <head>). ``tagged``: the page's meta, title, h1
    and link elements by tag, in document order, when the caller collected them in its one walk."""
    if tagged is None:
        tagged = {"meta": list(root.iter("meta")), "title": list(root.iter("title"))[:1],
                  "h1": list(root.iter("h1"))[:1], "link": list(root.iter("link"))}
    metas: dict[str, str] = {}
    content_language = ""
    for meta in tagged.get("meta", ()):
        key = (meta.get("name") or meta.get("property") or "").strip().lower()
        content = meta.get("content")
        if key and content and key not in metas:
            metas[key] = _squash(content)
        if not content_language and (meta.get("http-equiv") or "").lower() == "content-language" and content:
            content_language = content.split(",")[0]
    result = dict(EMPTY_METADATA, social_links=[])
    title = next(iter(tagged.get("title", ())), None)
    result["title"] = (_squash(text_of(title)) if title is not None else "")[:1000] or _meta(metas, "og:title")[:1000]
    result["meta_description"] = _meta(metas, "description", "og:description")[:5000]
    h1 = next(iter(tagged.get("h1", ())), None)
    result["h1"] = (_squash(text_of(h1)) if h1 is not None else "")[:1000]
    for link in tagged.get("link", ()):
        if "canonical" in (link.get("rel") or "").lower().split() and link.get("href"):
            canonical = urljoin(base, link.get("href").strip())
            if urlsplit(canonical).scheme in ("http", "https"):
                result["canonical_url"] = canonical[:2048]
            break
    language = root.get("lang") or root.get("{http://www.w3.org/XML/1998/namespace}lang") or ""
    language = language or content_language or _meta(metas, "og:locale").replace("_", "-")
    result["language"] = language.strip()[:35]
    return result


def word_count(text: str) -> int:
    return len(text.split())  # whitespace-separated words (C-level; \w+ over the whole text cost ~1 ms a page)
