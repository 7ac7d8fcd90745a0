"""Benchmark 6 — extraction: contacts + metadata from stored pages, pages per second on one core.

Two page sets: N synthetic ~50 KB sandbox contact pages, and the real-page corpus
(tests/contacts/corpus/real/: pages captured from the public web by others), each extracted with
the business's country unknown (the expensive case: the region is inferred from the page).

CPU time (``time.process_time``), best of ROUNDS. The extractor is timed in worker processes
(``--worker``) so that another version of it can be timed the same way in the same run:
``EXTRACT_BASELINE_REF=<git ref>`` extracts that ref's ``contacts/`` and ``pages/`` into a
temporary folder and alternates its workers with the current code's (current, baseline, current,
baseline…), so both see the same machine load. The machine is shared: only ratios within one run
mean anything; the load average is reported.

Baselines in the same run: the original system's extractor (one email regex and a US-only phone
regex over the raw HTML, first match only) — fast and wrong; and a bare lxml parse of the same
pages (the floor any tree-based extractor pays).
"""
import gzip
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REAL = ROOT / "tests" / "contacts" / "corpus" / "real"


def _worker(tree: str, pages_path: str, passes: int) -> None:
    """Time the extractor found in ``tree`` on the pages in ``pages_path``; print one JSON line."""
    sys.path.insert(0, tree)
    from contacts import extract as extract_module

    assert Path(extract_module.__file__).resolve().is_relative_to(Path(tree).resolve()), extract_module.__file__
    pages = json.loads(Path(pages_path).read_text(encoding="utf-8"))
    times, found = [], 0
    for _ in range(passes):
        found = 0
        start = time.process_time()
        for url, host, html in pages:
            result = extract_module.extract_page(html, url=url, site_domain=host or None)
            found += len(result.emails) + len(result.phones) + len(getattr(result, "faxes", ()))
        times.append(time.process_time() - start)
    print(json.dumps({"times": times, "found": found}), flush=True)


if __name__ == "__main__" and sys.argv[1:2] == ["--worker"]:
    _worker(sys.argv[2], sys.argv[3], int(sys.argv[4]))
    sys.exit(0)

from common import emit, setup  # noqa: E402

args = setup(__doc__)

from contacts.extract_html import decode  # noqa: E402
from scrapersky.sandbox.websites import make_app  # noqa: E402

N = int(os.environ.get("EXTRACT_BENCH_PAGES") or (500 if args.quick else 5_000))
ROUNDS = 1 if args.quick else 3
REAL_PASSES = 1 if args.quick else 2
BASELINE_REF = os.environ.get("EXTRACT_BASELINE_REF", "")
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


def real_pages() -> list[tuple[str, str, str]]:
    pages = []
    for meta_path in sorted(REAL.glob("*.json")):
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        html = decode(gzip.decompress(meta_path.with_suffix(".html.gz").read_bytes()))
        pages.append((meta["page_url"], meta.get("site_domain") or "", html))
    return pages


def baseline_tree(ref: str, into: Path) -> str | None:
    """``contacts/`` and ``pages/`` of a git ref, extracted under ``into``; None when git cannot."""
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", ref, "contacts", "pages"], capture_output=True)
    if archive.returncode != 0:
        print(f"baseline {ref!r}: {archive.stderr.decode(errors='replace').strip()}", file=sys.stderr)
        return None
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive.stdout, check=True)
    return str(into)


def run_worker(tree: str, pages_path: Path, passes: int) -> dict:
    proc = subprocess.run(
        [sys.executable, __file__, "--worker", tree, str(pages_path), str(passes)],
        capture_output=True, text=True, cwd=str(ROOT), env={**os.environ, "PYTHONHASHSEED": "0"},
    )
    lines = [line for line in proc.stdout.splitlines() if line.startswith("{")]
    if proc.returncode != 0 or not lines:
        raise RuntimeError(f"extraction worker failed ({tree}):\n{proc.stderr[-3000:]}")
    return json.loads(lines[-1])


def run_lxml_parse(pages, repeat: int = 1) -> float:
    from lxml import etree

    parser = etree.HTMLParser(encoding="utf-8", huge_tree=True)
    start = time.process_time()
    for _ in range(repeat):
        for _url, _host, html in pages:
            etree.fromstring(html.encode("utf-8", "replace"), parser)
    return time.process_time() - start


def compare(sets: dict[str, Path], trees: dict[str, str], passes: dict[str, int]) -> dict:
    """Best pages/s of each tree on each page set, the trees' workers alternating round by round."""
    best: dict = {name: {tree: None for tree in trees} for name in sets}
    found: dict = {name: {} for name in sets}
    for _ in range(ROUNDS):
        for name, path in sets.items():
            count = len(json.loads(path.read_text(encoding="utf-8")))
            for tree, where in trees.items():
                out = run_worker(where, path, passes[name])
                rate = count / min(out["times"])
                best[name][tree] = max(best[name][tree] or 0.0, rate)
                found[name][tree] = out["found"]
    return {"best": best, "found": found}


load_before = os.getloadavg()
pages = site_pages(N)
real = real_pages()
average_kb = sum(len(h) for _, _, h in pages) / len(pages) / 1000
real_kb = sum(len(h) for _, _, h in real) / max(1, len(real)) / 1000

with tempfile.TemporaryDirectory(prefix="bench_extract_") as tmp:
    tmp_path = Path(tmp)
    sets = {"synthetic": tmp_path / "synthetic.json", "real": tmp_path / "real.json"}
    sets["synthetic"].write_text(json.dumps(pages), encoding="utf-8")
    sets["real"].write_text(json.dumps(real), encoding="utf-8")
    trees = {"current": str(ROOT)}
    if BASELINE_REF:
        (tmp_path / "baseline").mkdir()
        where = baseline_tree(BASELINE_REF, tmp_path / "baseline")
        if where:
            trees["baseline"] = where
    results = compare(sets, trees, {"synthetic": 1, "real": REAL_PASSES})

parse_only = run_lxml_parse(pages)
real_parse = run_lxml_parse(real, 3) if real else 0.0

EMAIL = re.compile(r"[a-zA-Z0-9._%+-]+@[a-zA-Z0-9.-]+\.[a-zA-Z]{2,}")
US_PHONE = re.compile(r"\(?\d{3}\)?[-.\s]?\d{3}[-.\s]?\d{4}")
start = time.process_time()
naive_found = 0
for _, _, html in pages:
    naive_found += bool(EMAIL.search(html)) + bool(US_PHONE.search(html))
naive = time.process_time() - start

best = results["best"]
figures = dict(
    pages=N,
    average_page_kb=round(average_kb, 1),
    pages_per_second_per_core=round(best["synthetic"]["current"], 1),
    contacts_found=results["found"]["synthetic"]["current"],
    lxml_parse_only_pages_per_second=round(N / parse_only, 1),
    real_pages=len(real),
    real_average_page_kb=round(real_kb, 1),
    real_pages_per_second_per_core=round(best["real"]["current"], 1),
    real_contacts_found=results["found"]["real"]["current"],
    real_lxml_parse_only_pages_per_second=round(len(real) * 3 / real_parse, 1) if real_parse else None,
    rounds=ROUNDS,
)
if "baseline" in best["real"]:
    figures.update(
        baseline_ref=BASELINE_REF,
        baseline_pages_per_second_per_core=round(best["synthetic"]["baseline"], 1),
        baseline_real_pages_per_second_per_core=round(best["real"]["baseline"], 1),
        speedup_synthetic=round(best["synthetic"]["current"] / best["synthetic"]["baseline"], 2),
        speedup_real=round(best["real"]["current"] / best["real"]["baseline"], 2),
        baseline_contacts_found=results["found"]["synthetic"]["baseline"],
        baseline_real_contacts_found=results["found"]["real"]["baseline"],
    )
emit(
    "extraction",
    args.quick,
    **figures,
    baseline_original_regex_pages_per_second=round(N / naive, 1),
    baseline_original_regex_contacts_found=naive_found,
    load_average_before=[round(x, 2) for x in load_before],
    load_average_after=[round(x, 2) for x in os.getloadavg()],
    target=">= 200 pages/s per core (real pages)",
)
