"""Benchmark 6 — extraction: contacts + metadata from stored pages, pages per second on one core.

Two page sets: N synthetic ~50 KB sandbox contact pages, and the real-page corpus
(tests/contacts/corpus/real/: pages captured from the public web by others), each extracted with
the business's country unknown (the expensive case: the region is inferred from the page).

Baselines in the same run: the original system's extractor (one email regex and a US-only phone
regex over the raw HTML, first match only) — fast and wrong; and a bare lxml parse of the same
pages (the floor any tree-based extractor pays).
"""
import gzip
import re
import time
from pathlib import Path

from common import emit, setup

args = setup(__doc__)

from contacts.extract import extract_page  # noqa: E402
from contacts.extract_html import decode  # noqa: E402
from scrapersky.sandbox.websites import make_app  # noqa: E402

N = 500 if args.quick else 5_000
TARGET_BYTES = 50_000
FILLER = (
    "<section><h2>Our services</h2><p>We opened in 1998 and have served the neighbourhood since. Opening hours "
    "Mon-Fri 09:00-17:30, Sat 10:00-14:00. Prices from 12,50 EUR; order no. 2024-118-7731. Follow the signs "
    "from the station, 350 m, then turn left at number 42.</p><ul><li>Consulting</li><li>Repairs</li>"
    "<li>Delivery within 48 hours</li></ul></section>\n"
)


def site_pages(count: int) -> list[tuple[str, str, str]]:
    """Contact pages of sandbox sites (several countries and shapes), padded to ~50 KB."""
    app = make_app()
    pages = []
    tlds = ["com", "de", "co.uk", "es", "fr", "it", "nl", "com.au", "ca"]
    for i in range(count):
        host = f"bench{i % 400}-shop.{tlds[i % len(tlds)]}"
        path = "/contact"
        environ = {"REQUEST_METHOD": "GET", "PATH_INFO": path, "QUERY_STRING": "", "HTTP_HOST": host,
                   "SERVER_NAME": host, "SERVER_PORT": "443", "wsgi.url_scheme": "https"}
        status = []
        body = b"".join(app(environ, lambda s, h, *a: status.append(s)))
        if not status[0].startswith("200"):
            path = "/"
            environ["PATH_INFO"] = path
            body = b"".join(app(environ, lambda s, h, *a: status.append(s)))
        html = body.decode("utf-8", "replace")
        padding = FILLER * max(0, (TARGET_BYTES - len(html)) // len(FILLER))
        html = html.replace("</body>", padding + "</body>")
        pages.append((f"https://{host}{path}", host, html))
    return pages


REAL = Path(__file__).resolve().parent.parent / "tests" / "contacts" / "corpus" / "real"


def real_pages() -> list[tuple[str, str, str]]:
    import json

    pages = []
    for meta_path in sorted(REAL.glob("*.json")):
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        html = decode(gzip.decompress(meta_path.with_suffix(".html.gz").read_bytes()))
        pages.append((meta["page_url"], meta.get("site_domain") or "", html))
    return pages


def run_ours(pages, repeat: int = 1) -> tuple[float, int]:
    found = 0
    start = time.process_time()
    for _ in range(repeat):
        for url, host, html in pages:
            result = extract_page(html, url=url, site_domain=host or None)
            found += len(result.emails) + len(result.phones) + len(result.faxes)
    return time.process_time() - start, found // repeat


def run_lxml_parse(pages, repeat: int = 1) -> float:
    from lxml import etree

    parser = etree.HTMLParser(encoding="utf-8", huge_tree=True)
    start = time.process_time()
    for _ in range(repeat):
        for _url, _host, html in pages:
            etree.fromstring(html.encode("utf-8", "replace"), parser)
    return time.process_time() - start


pages = site_pages(N)
average_kb = sum(len(h) for _, _, h in pages) / len(pages) / 1000
ours, found = run_ours(pages)
parse_only = run_lxml_parse(pages)

real = real_pages()
real_repeat = 1 if args.quick else 5
real_kb = sum(len(h) for _, _, h in real) / max(1, len(real)) / 1000
real_ours, real_found = run_ours(real, real_repeat) if real else (0.0, 0)
real_parse = run_lxml_parse(real, real_repeat) if real else 0.0
real_n = len(real) * real_repeat

EMAIL = re.compile(r"[a-zA-Z0-9._%+-]+@[a-zA-Z0-9.-]+\.[a-zA-Z]{2,}")
US_PHONE = re.compile(r"\(?\d{3}\)?[-.\s]?\d{3}[-.\s]?\d{4}")
start = time.process_time()
naive_found = 0
for _, _, html in pages:
    naive_found += bool(EMAIL.search(html)) + bool(US_PHONE.search(html))
naive = time.process_time() - start

emit(
    "extraction",
    args.quick,
    pages=N,
    average_page_kb=round(average_kb, 1),
    cpu_seconds=round(ours, 3),
    pages_per_second_per_core=round(N / ours, 1),
    contacts_found=found,
    lxml_parse_only_pages_per_second=round(N / parse_only, 1),
    real_pages=len(real),
    real_average_page_kb=round(real_kb, 1),
    real_cpu_seconds=round(real_ours, 3),
    real_pages_per_second_per_core=round(real_n / real_ours, 1) if real_ours else None,
    real_contacts_found=real_found,
    real_lxml_parse_only_pages_per_second=round(real_n / real_parse, 1) if real_parse else None,
    baseline_original_regex_pages_per_second=round(N / naive, 1),
    baseline_original_regex_contacts_found=naive_found,
    target=">= 200 pages/s per core",
)
