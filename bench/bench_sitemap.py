"""Benchmark 5 — sitemap import: a 50,000-URL gzipped sitemap into Page rows: seconds and peak RSS
of the worker process. Baseline in the same run: parsing the same file alone (no database), the floor.
"""
import json
import resource
import subprocess
import sys

from common import ROOT, Timer, emit, manage_env, setup

args = setup(__doc__)

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
    target="under 5 s and under 200 MB",
)
