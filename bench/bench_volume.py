"""Volume: admin, API, status changes, claim and export on millions of rows (PostgreSQL).

    python bench/bench_volume.py            # 1M places, 500k businesses, 5M pages, 2M contacts (seeded once)
    python bench/bench_volume.py --quick    # a few thousand rows: proves the script works (CI)

The seeded database (BENCH_VOLUME_DATABASE_URL, default scrapersky_volume_<checkout>) is kept between runs
and reseeded only when the sizes change, because seeding millions of rows takes minutes. Every figure is the
median of three timed runs after one warm-up, in this process through Django's test client (no network).
Targets (issue #17): list pages and API pages < 500 ms, operator page < 1 s, claim < 10 ms, the 100,000-row
export streamed with flat memory.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import DEFAULT_URL, ROOT, emit  # noqa: E402

FULL = {"places": 1_000_000, "pages": 5_000_000, "contacts": 2_000_000}
QUICK = {"places": 3_000, "pages": 15_000, "contacts": 6_000}


def volume_url() -> str:
    checkout = "".join(c if c.isalnum() else "_" for c in ROOT.name.lower())
    return os.environ.get("BENCH_VOLUME_DATABASE_URL", DEFAULT_URL.replace("scrapersky_bench", f"scrapersky_volume_{checkout}"))


def prepare(sizes: dict, quick: bool) -> None:
    """Point Django at the volume database; (re)seed it when it does not hold exactly these sizes."""
    import psycopg
    from psycopg import sql

    url = volume_url()
    base, name = url.rsplit("/", 1)
    marker = ",".join(f"{k}={v}" for k, v in sorted(sizes.items()))
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
    seeded = None
    if exists:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("CREATE TABLE IF NOT EXISTS bench_volume_seed (sizes text)")
            row = conn.execute("SELECT sizes FROM bench_volume_seed").fetchone()
            seeded = row[0] if row else None
    if seeded != marker or quick:
        with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    os.environ["DATABASE_URL"] = url
    os.environ["DJANGO_SETTINGS_MODULE"] = "scrapersky.test_settings"
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)
    if seeded != marker or quick:
        started = time.monotonic()
        call_command("seed_volume", stdout=open(os.devnull, "w"), **sizes)
        print(f"seeded {marker} in {time.monotonic() - started:.0f} s", file=sys.stderr)
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("CREATE TABLE IF NOT EXISTS bench_volume_seed (sizes text)")
            conn.execute("DELETE FROM bench_volume_seed")
            conn.execute("INSERT INTO bench_volume_seed VALUES (%s)", [marker])


def timed(fn, runs: int = 3) -> float:
    """Median milliseconds of `runs` calls after one warm-up."""
    fn()
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - started) * 1000)
    return round(statistics.median(samples), 1)


def get_ok(client, url: str):
    def call():
        response = client.get(url)
        assert response.status_code == 200, f"{url}: HTTP {response.status_code}"
        if getattr(response, "streaming", False):
            for _ in response.streaming_content:
                pass
        return response
    return call


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    sizes = QUICK if args.quick else FULL
    prepare(sizes, args.quick)

    from django.contrib.auth import get_user_model
    from django.db import connection, transaction
    from django.test import Client
    from rest_framework.test import APIClient
    from rest_framework_simplejwt.tokens import RefreshToken

    from curation import registry, services

    user, _ = get_user_model().objects.get_or_create(
        username="volume-bench", defaults={"is_staff": True, "is_superuser": True})
    admin = Client()
    admin.force_login(user)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {RefreshToken.for_user(user).access_token}")

    figures: dict = {"rows": sizes}
    admin_ms: dict = {}
    for model_label in ("places.Place", "places.LocalBusiness", "pages.Domain", "pages.Page", "contacts.Contact"):
        app, model = model_label.lower().split(".")
        workflows = [w for w in registry.all_workflows() if w.model.lower() == model_label.lower()]
        base = f"/admin/{app}/{model}/"
        status = workflows[0].status_field
        admin_ms[model_label] = {
            "first_page": timed(get_ok(admin, base)),
            "status_filter": timed(get_ok(admin, f"{base}?{status}__exact=Error")),
            "search": timed(get_ok(admin, f"{base}?q=4242")),
        }
    figures["admin_changelist_ms"] = admin_ms
    figures["operator_page_ms"] = timed(get_ok(admin, "/admin/operator/"))

    deep_page = max(1, min(200, sizes["places"] // 100))  # page 200 at full size: an offset of 10,000 rows
    api_ms = {
        "places?deep_scan_processing_status=Error&ordering=-rating":
            timed(get_ok(api, "/api/v3/places/?deep_scan_processing_status=Error&ordering=-rating")),
        f"places?page={deep_page}": timed(get_ok(api, f"/api/v3/places/?page={deep_page}")),
        "pages?page_scrape_curation_status=Selected":
            timed(get_ok(api, "/api/v3/pages/?page_scrape_curation_status=Selected")),
        "contacts?kind=email&ordering=-last_seen_at": timed(get_ok(api, "/api/v3/contacts/?kind=email&ordering=-last_seen_at")),
        "local-businesses?search=4242": timed(get_ok(api, "/api/v3/local-businesses/?search=4242")),
    }
    figures["api_list_ms"] = api_ms

    place_wf = registry.get("deep_scan")
    Place = place_wf.model_class
    ids = list(Place.objects.filter(deep_scan_curation_status="New").values_list("pk", flat=True)[:10_000])

    def status_change():
        with transaction.atomic():
            services.curation_status_set(workflow=place_wf, ids=ids, status="Selected", source="bench")
            transaction.set_rollback(True)  # the same 10,000 rows each run
    figures["status_change_10k_ms"] = timed(status_change)
    figures["status_change_rows"] = len(ids)

    def claim():
        with transaction.atomic():
            services.processing_claim(workflow=place_wf, worker_id="bench:0")
            transaction.set_rollback(True)
    figures["claim_ms"] = timed(claim, runs=5)

    url = "/api/v3/contacts/export/?format=csv&is_role=true"  # seed_volume makes every 20th contact a role address
    tracemalloc.start()
    started = time.perf_counter()
    response = api.get(url)
    body = 0
    if getattr(response, "streaming", False):
        first_byte = None
        for chunk in response.streaming_content:
            first_byte = first_byte or time.perf_counter() - started
            body += len(chunk)
    else:
        first_byte = time.perf_counter() - started
        body = len(response.content)
    elapsed = time.perf_counter() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    figures["export"] = {"rows": sizes["contacts"] // 20, "bytes": body, "seconds": round(elapsed, 2),
                         "first_byte_s": round(first_byte or 0, 3), "python_peak_mb": round(peak / 2**20, 1)}
    figures["database"] = connection.vendor
    emit("volume", args.quick, **figures)


if __name__ == "__main__":
    main()
