"""Benchmark 5 — sitemap import: a 50,000-URL gzipped sitemap into Page rows, on PostgreSQL and on SQLite
(what `make run` uses): seconds and peak RSS of the worker process. Baseline in the same run: parsing the
same file alone (no database), the floor. Peer: ultimate-sitemap-parser on the same file (if installed:
bench/requirements.txt).
"""
import json
import resource
import shutil
import subprocess
import sys
import tempfile

from common import ROOT, Timer, emit, manage_env, setup

args = setup(__doc__)


def usp_peer(sandbox_url: str, host: str, env: dict) -> dict:
    """ultimate-sitemap-parser on the same bytes: seconds and peak RSS of its own process, or why not run."""
    code = (
        "import sys, time, resource, httpx, gzip\n"
        "from usp.fetch_parse import SitemapFetcher\n"
        "from usp.web_client.abstract_client import AbstractWebClient, AbstractWebClientSuccessResponse\n"
        "URL, HOST = sys.argv[1], sys.argv[2]\n"
        "class Resp(AbstractWebClientSuccessResponse):\n"
        "    def __init__(self, r): self.r = r\n"
        "    def status_code(self): return self.r.status_code\n"
        "    def status_message(self): return self.r.reason_phrase\n"
        "    def header(self, name): return self.r.headers.get(name)\n"
        "    def raw_data(self): return self.r.content\n"
        "    def url(self): return 'https://' + HOST + '/sitemap.xml.gz'\n"
        "class Client(AbstractWebClient):\n"
        "    def set_max_response_data_length(self, n): pass\n"
        "    def get(self, url): return Resp(httpx.get(URL, headers={'Host': HOST}))\n"
        "t = time.perf_counter()\n"
        "sitemap = SitemapFetcher(url='https://' + HOST + '/sitemap.xml.gz', recursion_level=0, web_client=Client()).sitemap()\n"
        "n = sum(1 for _ in sitemap.all_pages())\n"
        "print(n, time.perf_counter() - t, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)\n"
    )
    try:
        import usp  # noqa: F401
    except ImportError:
        return {"skipped": "ultimate-sitemap-parser is not installed (pip install -r bench/requirements.txt)"}
    proc = subprocess.run([sys.executable, "-c", code, sandbox_url, host], env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        return {"error": proc.stderr[-500:]}
    urls, seconds, rss_kb = proc.stdout.split()[-3:]
    return {"urls": int(urls), "seconds": round(float(seconds), 3), "peak_rss_mb": round(int(rss_kb) / 1024, 1)}


from django.db import connection  # noqa: E402
from django.utils import timezone  # noqa: E402

from curation import registry  # noqa: E402
from pages.models import Domain, Page, SitemapFile  # noqa: E402
from scrapersky.sandbox.server import serve_in_thread  # noqa: E402
from scrapersky.sandbox.websites import make_app  # noqa: E402

HOST = "gzip-quick-shop.com" if args.quick else "huge-bench-shop.com"  # huge-: 50,000 URLs
server = serve_in_thread(make_app())
env = {**manage_env(), "FETCH_HOST_MAP": f"*=127.0.0.1:{server.port}", "FETCH_ALLOW_PRIVATE": "127.0.0.0/8"}
url = f"https://{HOST}/sitemap.xml.gz"

with connection.cursor() as cursor:
    cursor.execute("TRUNCATE pages_domain, pages_sitemapfile, pages_page CASCADE")
wf = registry.get("sitemap_import")
now = timezone.now()
domain = Domain.objects.create(domain=HOST)
SitemapFile.objects.create(domain=domain, url=url, **{
    wf.curation_field: "Selected", wf.status_field: "Queued", wf.f("queued_at"): now, wf.f("available_at"): now})

# Floor: fetch + gunzip + parse of the same file, in a fresh process, no database writes.
floor_code = (
    "import sys, time, resource, httpx; sys.path.insert(0, %r);"
    "import django; django.setup();"  # pages.sitemaps reaches the models (shared politeness state) on import
    "from pages.sitemaps import parse_sitemap;"
    "t = time.perf_counter(); data = httpx.get(%r, headers={'Host': %r}).content;"
    "r = parse_sitemap(data, url=%r, max_urls=100000, max_decompressed_bytes=200 << 20);"
    "print(len(r.urls), time.perf_counter() - t, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)"
) % (str(ROOT), f"{server.base_url}/sitemap.xml.gz", HOST, url)
floor_out = subprocess.run([sys.executable, "-c", floor_code], env=env, capture_output=True, text=True, check=True).stdout.split()
floor_urls, floor_seconds, floor_rss_kb = int(floor_out[0]), float(floor_out[1]), int(floor_out[2])

command = [sys.executable, str(ROOT / "manage.py"), "run_workflow", "sitemap_import", "--json"]
with Timer() as wall:
    proc = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, text=True)
    out, _ = proc.communicate()
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)  # the largest child: the worker
report = json.loads(out.strip().splitlines()[-1])
pages = Page.objects.filter(domain=domain).count()

# The same import on SQLite (a fresh file, WAL, the settings `make run` uses), in its own process.
sqlite_dir = tempfile.mkdtemp(prefix="bench-sitemap-")
sqlite_env = {**env, "DATABASE_URL": f"sqlite:///{sqlite_dir}/bench.sqlite3"}
subprocess.run([sys.executable, str(ROOT / "manage.py"), "migrate", "--no-input", "-v", "0"], env=sqlite_env, check=True)
seed = ("from django.utils import timezone; from curation import registry; from pages.models import Domain, SitemapFile;"
        "wf = registry.get('sitemap_import'); now = timezone.now(); d = Domain.objects.create(domain=%r);"
        "SitemapFile.objects.create(domain=d, url=%r, **{wf.curation_field: 'Selected', wf.status_field: 'Queued',"
        " wf.f('queued_at'): now, wf.f('available_at'): now})") % (HOST, url)
subprocess.run([sys.executable, str(ROOT / "manage.py"), "shell", "-c", seed], env=sqlite_env, check=True)
sqlite_out = subprocess.run(command, env=sqlite_env, capture_output=True, text=True, check=True).stdout
sqlite_report = json.loads(sqlite_out.strip().splitlines()[-1])
sqlite_pages = subprocess.run(
    [sys.executable, str(ROOT / "manage.py"), "shell", "-c", "from pages.models import Page; print(Page.objects.count())"],
    env=sqlite_env, capture_output=True, text=True, check=True).stdout.split()[-1]
shutil.rmtree(sqlite_dir, ignore_errors=True)

# Peer: ultimate-sitemap-parser (bench/requirements.txt) reading the same file (fetch + gunzip + parse), its own
# process, no database: what a user would otherwise pick to read sitemaps.
peer = usp_peer(f"{server.base_url}/sitemap.xml.gz", HOST, env)
server.stop()
emit(
    "sitemap_import",
    args.quick,
    sitemap=url,
    pages_created=pages,
    engine_seconds=report["seconds"],
    wall_seconds_with_process_start=round(wall.seconds, 2),
    peak_rss_mb_worker_process=round(usage.ru_maxrss / 1024, 1),
    floor_parse_only_seconds=round(floor_seconds, 3),
    floor_parse_only_urls=floor_urls,
    floor_parse_only_peak_rss_mb=round(floor_rss_kb / 1024, 1),
    ratio_vs_parse_only=round(report["seconds"] / floor_seconds, 1),
    sqlite_engine_seconds=sqlite_report["seconds"],
    sqlite_pages_created=int(sqlite_pages),
    sqlite_ratio_vs_parse_only=round(sqlite_report["seconds"] / floor_seconds, 1),
    peer_ultimate_sitemap_parser=peer,
    target="under 5 s on PostgreSQL, under 8 s on SQLite, under 200 MB",
)
