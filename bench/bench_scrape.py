"""Benchmark 4 — I/O-bound concurrency: page_scrape against sandbox sites that answer in 50 ms,
N pages over H hosts: pages per second with the declared hook threads (one worker process, then four)
vs the sequential path (one thread), while the per-host limit holds — with four processes too, which
proves the limit shared through the database (pages/politeness.py). Peer in the same run: Scrapy
crawling the same pages with the same per-host concurrency (bench/requirements.txt; skipped if absent).
"""
import json
import os
import resource
import subprocess
import sys
import tempfile
import threading

from common import ROOT, Timer, emit, manage_env, setup

args = setup(__doc__)

from django.db import connection  # noqa: E402
from django.utils import timezone  # noqa: E402

from curation import registry  # noqa: E402
from pages.models import Domain, Page  # noqa: E402
from pages.sitemaps import normalize_page_url  # noqa: E402
from scrapersky.sandbox.server import serve_in_thread  # noqa: E402
from scrapersky.sandbox.websites import make_app  # noqa: E402

HOSTS = 10 if args.quick else 50
PER_HOST = 10 if args.quick else 20
PATHS = ["/", "/contact", "/about", "/team", "/privacy", "/services", "/blog", "/locations",
         "/blog/opening-hours", "/blog/new-team-member", "/blog/summer-offer"]
PER_HOST_LIMIT = 2

class CountPerHost:
    """WSGI wrapper: the most requests any one host had in flight at once (the politeness limit)."""

    def __init__(self, app):
        self.app, self.lock, self.current, self.max = app, threading.Lock(), {}, {}

    def __call__(self, environ, start_response):
        host = environ.get("HTTP_HOST", "")
        with self.lock:
            self.current[host] = self.current.get(host, 0) + 1
            self.max[host] = max(self.max.get(host, 0), self.current[host])
        try:
            yield from self.app(environ, start_response)
        finally:
            with self.lock:
                self.current[host] -= 1


app = CountPerHost(make_app())
server = serve_in_thread(app)
env = {
    **manage_env(),
    "FETCH_HOST_MAP": f"*=127.0.0.1:{server.port}",
    "FETCH_ALLOW_PRIVATE": "127.0.0.0/8",
    "FETCH_PER_HOST_CONCURRENCY": str(PER_HOST_LIMIT),
    "FETCH_PER_HOST_DELAY": "0",
}


def reset() -> int:
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE pages_domain, pages_page, pages_pagecontent, contacts_contact CASCADE")
    now = timezone.now()
    wf = registry.get("page_scrape")
    pages = []
    for h in range(HOSTS):
        domain = Domain.objects.create(domain=f"lat50-bench{h:02d}-shop.com")
        urls = [f"https://{domain.domain}{p}" for p in PATHS]
        urls += [f"https://{domain.domain}/blog?page={k}" for k in range(PER_HOST - len(PATHS))]
        for url in urls[:PER_HOST]:
            pages.append(Page(domain=domain, url=normalize_page_url(url), **{
                wf.curation_field: "Selected", wf.status_field: "Queued", wf.f("queued_at"): now, wf.f("available_at"): now,
            }))
    Page.objects.bulk_create(pages)
    return len(pages)


def drain(concurrency: int, processes: int = 1) -> dict:
    n = reset()
    app.max.clear()
    command = [sys.executable, str(ROOT / "manage.py"), "run_workflow", "page_scrape", "--json", "--concurrency", str(concurrency)]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    with Timer() as wall:
        procs = [subprocess.Popen(command, env=env, stdout=subprocess.PIPE, text=True) for _ in range(processes)]
        reports = [json.loads(p.communicate()[0].strip().splitlines()[-1]) for p in procs]
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)  # the workers, start-up included
    seconds = max(r["seconds"] for r in reports)
    done = Page.objects.filter(page_scrape_processing_status="Completed").count()
    errors = list(Page.objects.filter(page_scrape_processing_status="Error").values_list("page_scrape_processing_error", flat=True)[:3])
    return {"max_in_flight_per_host": max(app.max.values(), default=0), "pages": n, "completed": done, "errors_sample": errors,
            "threads": concurrency, "processes": processes, "pages_per_second": round(done / seconds, 1),
            "engine_seconds": seconds, "wall_seconds": round(wall.seconds, 2),
            "worker_cpu_ms_per_page": round(cpu * 1000 / max(done, 1), 1)}


def scrapy_peer() -> dict:
    """Scrapy on the same pages (its own process), the same per-host limit, measured by the same counter."""
    try:
        import scrapy  # noqa: F401
    except ImportError:
        return {"skipped": "Scrapy is not installed (pip install -r bench/requirements.txt)"}
    reset()
    urls = list(Page.objects.values_list("url", flat=True))
    app.max.clear()
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as handle:
        handle.write("\n".join(urls))
    try:
        proc = subprocess.run([sys.executable, str(ROOT / "bench" / "peer_scrapy.py"), str(server.port), handle.name,
                               str(PER_HOST_LIMIT)], capture_output=True, text=True)
    finally:
        os.unlink(handle.name)
    if proc.returncode != 0 or not proc.stdout.strip():
        return {"error": proc.stderr[-800:]}
    return {**json.loads(proc.stdout.strip().splitlines()[-1]), "max_in_flight_per_host": max(app.max.values(), default=0)}


threads = registry.get("page_scrape").concurrency
concurrent = drain(threads)
four_processes = drain(threads, processes=4)
sequential = drain(1)
peer = scrapy_peer()
server.stop()
emit(
    "io_bound_page_scrape",
    args.quick,
    hosts=HOSTS,
    latency_ms=50,
    concurrent=concurrent,
    sequential=sequential,
    four_processes=four_processes,
    speedup=round(concurrent["pages_per_second"] / sequential["pages_per_second"], 1),
    speedup_four_processes=round(four_processes["pages_per_second"] / sequential["pages_per_second"], 1),
    peer_scrapy=peer,
    ratio_vs_scrapy=round(four_processes["pages_per_second"] / peer["pages_per_second"], 2)
    if "pages_per_second" in peer else None,
    per_host_limit=PER_HOST_LIMIT,
    target=">= 10x sequential while per-host limits hold",
)
