"""Benchmark 6 — extraction: contacts from N stored ~50 KB pages, pages per second on one core.

Baseline in the same run: the original system's extractor (one email regex and a US-only phone
regex over the raw HTML, first match only) on the same pages — fast and wrong; the ratio shows
what our extraction costs.
"""
import re
import time

from common import emit, setup

args = setup(__doc__)

from contacts.extract import extract_contacts  # noqa: E402
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


pages = site_pages(N)
average_kb = sum(len(h) for _, _, h in pages) / len(pages) / 1000

found = 0
start = time.process_time()
for url, host, html in pages:
    result = extract_contacts(html, page_url=url, site_domain=host)
    found += len(result.emails) + len(result.phones)
ours = time.process_time() - start

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
    baseline_original_regex_pages_per_second=round(N / naive, 1),
    baseline_original_regex_contacts_found=naive_found,
    target=">= 200 pages/s per core",
)
