"""HTML decoding and parsing for contacts.extract: charset detection, lxml, deep pages."""
from __future__ import annotations

import re
import threading
from html.parser import HTMLParser

from lxml import etree, html as lxml_html

_META_CHARSET = re.compile(rb"""<meta[^>]{0,200}?charset\s*=\s*["']?\s*([A-Za-z0-9_.:\-]{1,40})""", re.IGNORECASE)
_XML_DECL = re.compile(r"^\s*<\?xml[^>]*\?>")


def decode(data: bytes) -> str:
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="replace")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16", errors="replace")
    m = _META_CHARSET.search(data[:4096])
    if m:
        encoding = m.group(1).decode("ascii").lower()
        try:
            return data.decode(encoding, errors="replace")
        except LookupError:
            pass
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("utf-8", errors="replace")


_LOCAL = threading.local()
_MAX_DEPTH = 1500  # libxml2 stops at 2048 levels even with huge_tree; deeper pages are flattened


def _parser():
    parser = getattr(_LOCAL, "parser", None)
    if parser is None:  # lxml parsers must not be shared between threads
        parser = _LOCAL.parser = lxml_html.HTMLParser(encoding="utf-8", huge_tree=True)
    return parser


def parse(text: str):
    text = _XML_DECL.sub("", text, count=1)
    if not text.strip():
        return None
    parser = _parser()
    try:
        root = etree.fromstring(text.encode("utf-8", errors="replace"), parser)
        if root is not None and any(e.type_name == "ERR_RESOURCE_LIMIT" for e in parser.error_log):
            root = etree.fromstring(_flatten(text).encode("utf-8", errors="replace"), parser)
    except (etree.ParserError, etree.XMLSyntaxError, ValueError):
        return None
    return root


class _Flattener(HTMLParser):
    """Re-serialises a page, dropping start/end tags nested deeper than _MAX_DEPTH
    (their content is kept), so that libxml2's depth limit cannot cut the page."""

    _VOID = frozenset("area base br col embed hr img input link meta param source track wbr".split())

    def __init__(self):
        super().__init__(convert_charrefs=False)
        self.out: list[str] = []
        self.depth = 0

    def handle_starttag(self, tag, attrs):
        if tag in self._VOID:
            self.out.append(self.get_starttag_text() or "")
            return
        self.depth += 1
        if self.depth <= _MAX_DEPTH:
            self.out.append(self.get_starttag_text() or "")

    def handle_startendtag(self, tag, attrs):
        self.out.append(self.get_starttag_text() or "")

    def handle_endtag(self, tag):
        if tag in self._VOID:
            return
        if self.depth <= _MAX_DEPTH:
            self.out.append(f"</{tag}>")
        self.depth = max(0, self.depth - 1)

    def handle_data(self, data):
        self.out.append(data)

    def handle_entityref(self, name):
        self.out.append(f"&{name};")

    def handle_charref(self, name):
        self.out.append(f"&#{name};")

    def handle_comment(self, data):
        self.out.append(f"<!--{data}-->")


def _flatten(text: str) -> str:
    flattener = _Flattener()
    flattener.feed(text)
    flattener.close()
    return "".join(flattener.out)
