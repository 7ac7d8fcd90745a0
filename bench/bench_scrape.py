"""Benchmark 4 — the scrape chain against 1,000 sandbox pages over 50 hosts answering in 50 ms (issue #15).

Since #15 `page_scrape` only fetches and stores; the processing-only `contact_extraction` workflow parses each
stored page once for its metadata and contacts, in whichever worker process claims it. Measured in one run:

- the scrape stage (pages fetched and stored per second): sequential (one process, one thread) against the
  declared hook threads in one process, in the two worker processes a qcluster has by default
  (Q_WORKERS=2) and in four — target ≥ 10× sequential;
- the extraction stage on the stored pages (pages per second, CPU per page);
- before/after: the path before #15 (extraction inline in the fetch threads, `scrape_inline.py`), sequential
  and with the declared threads, against the chain now, end to end (pages until their contacts are
  recorded) in a real qcluster with two and four worker processes, woken as a curator's selection wakes it;
- CPU per page of every run (the worker processes' user + system time; start-up measured apart and
  subtracted in `cpu_ms_per_page`);
- the per-host limit (2): the sandbox counts the requests in flight per host in every run, four processes
  and the qcluster included (shared through PostgreSQL, pages/politeness.py);
- the peer: Scrapy on the same pages with the same per-host limit, held to it (bench/peer_scrapy.py: the
  asyncio reactor's slot race), and once on Scrapy's default reactor to show the anomaly.
"""
import json
import os
import resource
import signal
import subprocess
import sys
import tempfile
import threading
import time

from common import ROOT, Timer, database_url, emit, manage_env, setup

args = setup(__doc__)

from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402
from django.utils import timezone  # noqa: E402

from curation import registry, services, tasks  # noqa: E402
from pages.models import Domain, Page, PageContent  # noqa: E402
from pages.sitemaps import normalize_page_url  # noqa: E402
from scrapersky.sandbox.server import serve_in_thread  # noqa: E402
from scrapersky.sandbox.websites import make_app  # noqa: E402

HOSTS = 10 if args.quick else 50
PER_HOST = 10 if args.quick else 20
PATHS = ["/", "/contact", "/about", "/team", "/privacy", "/services", "/blog", "/locations",
         "/blog/opening-hours", "/blog/new-team-member", "/blog/summer-offer"]
PER_HOST_LIMIT = 2
E2E_TIMEOUT = 300


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

    def most(self) -> int:
        return max(self.max.values(), default=0)


app = CountPerHost(make_app())
server = serve_in_thread(app)
env = {
    **manage_env(),
    "FETCH_HOST_MAP": f"*=127.0.0.1:{server.port}",
    "FETCH_ALLOW_PRIVATE": "127.0.0.0/8",
    "FETCH_PER_HOST_CONCURRENCY": str(PER_HOST_LIMIT),
    "FETCH_PER_HOST_DELAY": "0",
    "REDIS_URL": "",  # the database backends: politeness in PostgreSQL, django-q2's ORM broker
}
SCRAPE, EXTRACT = registry.get("page_scrape"), registry.get("contact_extraction")


def reset(*, queued: bool = True) -> int:
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE pages_domain, pages_page, pages_pagecontent, contacts_contact, pages_hostpoliteness, "
                       "django_q_ormq, django_q_task CASCADE")
    now = timezone.now()
    queue = {SCRAPE.curation_field: "Selected", SCRAPE.status_field: "Queued", SCRAPE.f("queued_at"): now,
             SCRAPE.f("available_at"): now} if queued else {}
    pages = []
    for h in range(HOSTS):
        domain = Domain.objects.create(domain=f"lat50-bench{h:02d}-shop.com")
        urls = [f"https://{domain.domain}{p}" for p in PATHS]
        urls += [f"https://{domain.domain}/blog?page={k}" for k in range(PER_HOST - len(PATHS))]
        for url in urls[:PER_HOST]:
            pages.append(Page(domain=domain, url=normalize_page_url(url), **queue))
    Page.objects.bulk_create(pages)
    app.max.clear()
    return len(pages)


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_processes(command: list[str], processes: int) -> tuple[list[dict], float, float]:
    """Run `processes` copies of a draining command at once: their JSON reports, the wall time, their CPU."""
    before = children_cpu()
    with Timer() as wall:
        procs = [subprocess.Popen(command, env=env, stdout=subprocess.PIPE, text=True) for _ in range(processes)]
        reports = [json.loads(p.communicate()[0].strip().splitlines()[-1]) for p in procs]
    return reports, wall.seconds, children_cpu() - before


def startup_cpu() -> float:
    """CPU of one worker process that finds nothing to do (Django set-up, imports): subtracted per process."""
    Page.objects.all().delete()
    samples = [run_processes([sys.executable, str(ROOT / "manage.py"), "run_workflow", "page_scrape", "--json"], 1)[2]
               for _ in range(2)]
    return min(samples)


def drain(workflow, *, threads: int, processes: int = 1, inline: bool = False) -> dict:
    """Drain one stage with `processes` worker processes of `threads` hook threads (run_workflow, or the
    pre-#15 path with the extraction inline in the fetch threads)."""
    script = [str(ROOT / "bench" / "scrape_inline.py")] if inline else [str(ROOT / "manage.py"), "run_workflow"]
    command = [sys.executable, *script, workflow.name, "--json", "--concurrency", str(threads)]
    reports, wall, cpu = run_processes(command, processes)
    seconds = max(r["seconds"] for r in reports)
    model = workflow.model_class
    done = model.objects.filter(**{workflow.status_field: "Completed"}).count()
    errors = list(model.objects.filter(**{workflow.status_field: "Error"})
                  .values_list(workflow.error_field, flat=True)[:3])
    net = max(cpu - processes * STARTUP_CPU, 0.0)
    return {"workflow": workflow.name + (" (extraction inline)" if inline else ""), "threads": threads,
            "processes": processes, "completed": done, "errors_sample": errors,
            "pages_per_second": round(done / seconds, 1) if seconds else None, "engine_seconds": seconds,
            "wall_seconds": round(wall, 2), "cpu_ms_per_page": round(net * 1000 / max(done, 1), 1),
            "cpu_ms_per_page_with_startup": round(cpu * 1000 / max(done, 1), 1),
            "max_in_flight_per_host": app.most() if workflow is SCRAPE else None}


def contacts_recorded() -> int:
    return PageContent.objects.filter(contact_extraction_processing_status="Completed").count()


def qcluster_end_to_end(workers: int) -> dict:
    """A real qcluster (ORM broker) with `workers` worker processes; the pages are selected as a curator
    does (one status change, which wakes the cluster), and the clock runs until every page's contacts are
    recorded (its content's contact_extraction Completed)."""
    n = reset(queued=False)
    # the broker queue is named after the cluster: the same name as this process, which enqueues the wake-ups
    cluster_env = {**env, "Q_WORKERS": str(workers),
                   "Q_POLL": "0.05", "CURATION_WAKE_ON_QUEUE": "1", "CURATION_WAKE_COALESCE_SECONDS": "1"}
    settings.Q_CLUSTER = {**settings.Q_CLUSTER, "workers": workers}  # this process wakes like the web process
    cluster = subprocess.Popen([sys.executable, str(ROOT / "manage.py"), "qcluster"], env=cluster_env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        time.sleep(3)  # the cluster's processes start (its start-up is not the pipeline's time)
        ids = list(Page.objects.values_list("pk", flat=True))
        started = time.perf_counter()
        services.curation_status_set(workflow=SCRAPE, ids=ids, status="Selected", source="bench")
        tasks.wake(SCRAPE.name)  # what transaction.on_commit does in the web process (wake-up is off here)
        scraped_at = None
        deadline = started + E2E_TIMEOUT
        while time.perf_counter() < deadline:
            if scraped_at is None and not Page.objects.filter(
                    page_scrape_processing_status__in=["Queued", "Processing"]).exists():
                scraped_at = time.perf_counter() - started
            if contacts_recorded() + PageContent.objects.filter(
                    contact_extraction_processing_status="Error").count() >= n:
                break
            time.sleep(0.1)
        seconds = time.perf_counter() - started
    finally:
        os.killpg(cluster.pid, signal.SIGTERM)
        try:
            cluster.wait(60)
        except subprocess.TimeoutExpired:
            os.killpg(cluster.pid, signal.SIGKILL)
            cluster.wait()
        settings.Q_CLUSTER = {**settings.Q_CLUSTER, "workers": 1}
    done = contacts_recorded()  # (the cluster's CPU is not measured: its worker processes are not reaped through it)
    return {"workers": workers, "pages": n, "contacts_recorded_for": done, "seconds": round(seconds, 2),
            "scrape_stage_seconds": round(scraped_at, 2) if scraped_at else None,
            "pages_per_second_end_to_end": round(done / seconds, 1),
            "max_in_flight_per_host": app.most(),
            "scrape_errors": Page.objects.filter(page_scrape_processing_status="Error").count()}


def scrapy_peer(reactor: str = "") -> dict:
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
    before = children_cpu()
    try:
        proc = subprocess.run([sys.executable, str(ROOT / "bench" / "peer_scrapy.py"), str(server.port), handle.name,
                               str(PER_HOST_LIMIT), *([reactor] if reactor else [])], capture_output=True, text=True)
    finally:
        os.unlink(handle.name)
    if proc.returncode != 0 or not proc.stdout.strip():
        return {"error": proc.stderr[-800:]}
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    return {**result, "cpu_ms_per_page_with_startup": round((children_cpu() - before) * 1000 / max(result["pages"], 1), 1),
            "max_in_flight_per_host": app.most()}


def ratio(a, b):
    return round(a / b, 1) if a and b else None


if os.environ.get("BENCH_SCRAPE_ONLY") == "scrape":  # the scrape stage only: sequential vs 1, 2, 4 processes
    STARTUP_CPU = startup_cpu()
    load = {"before": os.getloadavg()}
    results = {}
    for name, threads_, processes_ in (("sequential", 1, 1), ("one_process", SCRAPE.concurrency, 1),
                                       ("two_processes", SCRAPE.concurrency, 2),
                                       ("four_processes", SCRAPE.concurrency, 4)):
        reset()
        results[name] = drain(SCRAPE, threads=threads_, processes=processes_)
    server.stop()
    load["after"] = os.getloadavg()
    emit("io_bound_page_scrape_stage", args.quick, pages=HOSTS * PER_HOST, load_average=load, **results,
         speedup={k: ratio(v["pages_per_second"], results["sequential"]["pages_per_second"]) for k, v in results.items()})
    sys.exit(0)

if os.environ.get("BENCH_SCRAPE_ONLY") == "cluster":  # end to end only, with its baseline (minutes, not a quarter hour)
    STARTUP_CPU = startup_cpu()
    load = {"before": os.getloadavg()}
    reset()
    results = {"before_inline_concurrent": drain(SCRAPE, threads=SCRAPE.concurrency, inline=True)}
    results |= {f"end_to_end_qcluster_{n}_workers": qcluster_end_to_end(n) for n in (2, 4)}
    server.stop()
    load["after"] = os.getloadavg()
    emit("io_bound_page_scrape_cluster", args.quick, pages=HOSTS * PER_HOST, load_average=load, **results,
         end_to_end_vs_before={n: ratio(results[f"end_to_end_qcluster_{n}_workers"]["pages_per_second_end_to_end"],
                                        results["before_inline_concurrent"]["pages_per_second"]) for n in (2, 4)})
    sys.exit(0)

load = {"before": os.getloadavg()}
STARTUP_CPU = startup_cpu()
threads = SCRAPE.concurrency

# --- before #15: extraction inline in the fetch threads (the same code path, the hand-over replaced) ----------
reset()
inline_sequential = drain(SCRAPE, threads=1, inline=True)
reset()
inline_concurrent = drain(SCRAPE, threads=threads, inline=True)

# --- the scrape stage now (fetch + store + queue the extraction) ----------------------------------------------
reset()
sequential = drain(SCRAPE, threads=1)
reset()
concurrent = drain(SCRAPE, threads=threads)
extraction = drain(EXTRACT, threads=EXTRACT.concurrency)  # the contents the last run stored
reset()
two_processes = drain(SCRAPE, threads=threads, processes=2)
extraction_two = drain(EXTRACT, threads=EXTRACT.concurrency, processes=2)
reset()
four_processes = drain(SCRAPE, threads=threads, processes=4)

# --- end to end in a real qcluster ------------------------------------------------------------------------------
cluster_two = qcluster_end_to_end(2)
cluster_four = qcluster_end_to_end(4)

# --- the peer ---------------------------------------------------------------------------------------------------
peer = scrapy_peer()
peer_default_reactor = scrapy_peer("asyncio")
server.stop()
load["after"] = os.getloadavg()

scrape_runs = [sequential, concurrent, two_processes, four_processes, inline_sequential, inline_concurrent]
emit(
    "io_bound_page_scrape",
    args.quick,
    hosts=HOSTS,
    pages=HOSTS * PER_HOST,
    latency_ms=50,
    per_host_limit=PER_HOST_LIMIT,
    load_average=load,
    worker_startup_cpu_ms=round(STARTUP_CPU * 1000),
    scrape_sequential=sequential,
    scrape_concurrent=concurrent,
    scrape_two_processes=two_processes,
    scrape_four_processes=four_processes,
    extraction_one_process=extraction,
    extraction_two_processes=extraction_two,
    before_inline_sequential=inline_sequential,
    before_inline_concurrent=inline_concurrent,
    end_to_end_qcluster_two_workers=cluster_two,
    end_to_end_qcluster_four_workers=cluster_four,
    speedup_scrape_one_process=ratio(concurrent["pages_per_second"], sequential["pages_per_second"]),
    speedup_scrape_two_processes=ratio(two_processes["pages_per_second"], sequential["pages_per_second"]),
    speedup_scrape_four_processes=ratio(four_processes["pages_per_second"], sequential["pages_per_second"]),
    speedup_before_inline=ratio(inline_concurrent["pages_per_second"], inline_sequential["pages_per_second"]),
    end_to_end_vs_before_sequential=ratio(cluster_two["pages_per_second_end_to_end"],
                                          inline_sequential["pages_per_second"]),
    end_to_end_vs_before_concurrent=ratio(cluster_two["pages_per_second_end_to_end"],
                                          inline_concurrent["pages_per_second"]),
    cpu_ms_per_page={"before_inline": inline_concurrent["cpu_ms_per_page"],
                     "scrape_stage": concurrent["cpu_ms_per_page"],
                     "extraction_stage": extraction["cpu_ms_per_page"]},
    max_in_flight_per_host=max([r["max_in_flight_per_host"] for r in scrape_runs]
                               + [cluster_two["max_in_flight_per_host"], cluster_four["max_in_flight_per_host"]]),
    peer_scrapy=peer,
    peer_scrapy_default_reactor=peer_default_reactor,
    ratio_vs_scrapy={"scrape_two_processes": ratio(two_processes["pages_per_second"], peer.get("pages_per_second")),
                     "end_to_end_two_workers": ratio(cluster_two["pages_per_second_end_to_end"],
                                                     peer.get("pages_per_second"))},
    database=database_url().rsplit("/", 1)[1],
    target=">= 10x sequential (scrape stage) while per-host limits hold",
)
