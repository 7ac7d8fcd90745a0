"""HTML decoding and parsing for contacts.extract: charset detection, a browser-like tree, visible text.

The page is parsed once by lexbor (selectolax), an HTML5 parser that builds the
tree a browser builds (an unclosed ``<noscript>``, stray ``</head>``, tables with
text in odd places, comments inside scripts…), then handed to lxml as that tree's
serialisation so the rest of the code keeps lxml's C-level iteration, XPath and
text output. Measured on the benchmark pages: lexbor + lxml costs ~0.9 ms per
50 KB page against ~0.4 ms for lxml alone, a small share of the extraction.
"""
from __future__ import annotations

import re
import threading
from html.parser import HTMLParser

from lxml import etree
from selectolax.lexbor import LexborHTMLParser

_META_CHARSET = re.compile(rb"""<meta[^>]{0,200}?charset\s*=\s*["']?\s*([A-Za-z0-9_.:\-]{1,40})""", re.IGNORECASE)
_XML_DECL = re.compile(r"^\s*<\?xml[^>]*\?>")
# control characters lxml refuses in text it is given (the visible-text pass writes newlines into the tree)
_CONTROL_BYTES = bytes([*range(0, 9), 11, 12, *range(14, 32), 0x7F])  # never inside a UTF-8 sequence


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
        # plain etree elements: lxml.html's per-element class lookup costs ~6% of an extraction
        # collect_ids=False: no table of id attributes (nothing looks elements up by id; ~10% of the parse,
        # and every duplicate id on a page was an error entry in the parser's log)
        parser = _LOCAL.parser = etree.HTMLParser(encoding="utf-8", huge_tree=True, no_network=True,
                                                  collect_ids=False)
    return parser


def browser_html(text: str) -> str:
    """The page as a browser's HTML5 parser builds it, serialised (lexbor)."""
    return LexborHTMLParser(text).html or ""


def parse(text: str):
    """An lxml tree of the page as a browser sees it; None for an empty page."""
    text = _XML_DECL.sub("", text, count=1)
    if not text or text.isspace():
        return None
    try:
        normalised = browser_html(text)
    except UnicodeEncodeError:  # lone surrogates
        normalised = browser_html(text.encode("utf-8", errors="replace").decode("utf-8"))
    # a newline before every block tag: lxml's C-level text output then keeps blocks on their own lines
    # (over the UTF-8 bytes: one byte a character for the scan, and the bytes are needed anyway)
    data = _BLOCK_BOUNDARY_BYTES.sub(b"\n<", normalised.encode("utf-8", errors="replace"))
    data = data.translate(None, _CONTROL_BYTES)
    if b"\xef\xbf\xbe" in data or b"\xef\xbf\xbf" in data:  # U+FFFE / U+FFFF
        data = data.replace(b"\xef\xbf\xbe", b"").replace(b"\xef\xbf\xbf", b"")
    parser = _parser()
    try:
        root = etree.fromstring(data, parser)
        if root is not None and any(e.type_name == "ERR_RESOURCE_LIMIT" for e in parser.error_log):
            root = etree.fromstring(_flatten(data.decode("utf-8")).encode("utf-8"), parser)
    except (etree.ParserError, etree.XMLSyntaxError, ValueError):
        return None
    return root


def text_of(el) -> str:
    """All text below an element (lxml's C-level text output), without its tail; an element without
    children is its own text (no serialisation: most headings, links and labels)."""
    if len(el) == 0 and isinstance(el.tag, str):
        return el.text or ""
    return etree.tostring(el, method="text", encoding=str, with_tail=False)


# --- visible text ------------------------------------------------------------------

SKIP_TAGS = ("script", "style", "template", "svg", "head", "iframe", "object", "select", "math")
_NOSCRIPT_OPEN = re.compile(r"<noscript\b", re.IGNORECASE)
_NOSCRIPT_CLOSE = re.compile(r"</noscript\s*>", re.IGNORECASE)


def noscript_unclosed(source: str) -> bool:
    """An unclosed <noscript> (more opened than closed) holds the rest of the page in the tree:
    then its text is the page's text and must not be skipped."""
    return len(_NOSCRIPT_OPEN.findall(source)) > len(_NOSCRIPT_CLOSE.findall(source))
BLOCK_TAGS = tuple(
    "address article aside blockquote body br dd details dialog div dl dt fieldset figcaption figure "
    "footer form h1 h2 h3 h4 h5 h6 header hr html li main nav ol p pre section summary table tbody "
    "td tfoot th thead tr ul option button label title caption center a img input textarea noscript".split()
)


def _trie(words) -> str:
    """A regex alternation factored by first letters (the engine tries one branch per letter)."""
    by_first: dict[str, list[str]] = {}
    for word in sorted(set(words)):
        by_first.setdefault(word[0], []).append(word[1:])
    parts = []
    for first, rests in sorted(by_first.items()):
        tails = [r for r in rests if r]
        inner = _trie(tails) if tails else ""
        parts.append(first + (f"(?:{inner})" + ("?" if "" in rests else "") if tails else ""))
    return "|".join(parts)


# lexbor serialises tags in lower case
_BLOCK_BOUNDARY = re.compile(r"<(?=/?(?:%s)[\s/>])" % _trie(BLOCK_TAGS))
# the same over lexbor's UTF-8 output (it writes an ASCII space, "/" or ">" after a tag name)
_BLOCK_BOUNDARY_BYTES = re.compile(_BLOCK_BOUNDARY.pattern.encode("ascii"))


def visible_text(root, max_chars: int, *, keep_noscript: bool = False) -> str:
    """Visible text of the page, blocks on their own lines (``parse`` put a newline before every
    block tag) — DESTRUCTIVE: strips scripts, styles, <head>… from ``root``, so call it last.

    The text comes from lxml's C-level text output. Longer text is cut to ``max_chars``: the
    first three quarters and the last quarter of the budget are kept (footers of huge pages count).
    """
    etree.strip_elements(root, *SKIP_TAGS, *(() if keep_noscript else ("noscript",)), with_tail=False)
    text = etree.tostring(root, method="text", encoding=str)
    if len(text) > max_chars:
        tail = max_chars // 4
        text = text[: max_chars - tail] + "\n" + (text[-tail:] if tail else "")
    return text


_SKIP_XPATH = etree.XPath("|".join(f".//{t}" for t in (*SKIP_TAGS, "noscript")))


def segment_text(el, max_chars: int) -> str:
    """Visible text of a small subtree (team cards), blocks on their own lines; not destructive."""
    text = text_of(el)
    for skipped in _SKIP_XPATH(el):
        inner = text_of(skipped)
        if inner:
            text = text.replace(inner, "", 1)
    return text[:max_chars]


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
