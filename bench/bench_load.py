"""The web under load: 50 API clients for 60 s against the production server while a qcluster drains a queue.

    python bench/bench_load.py            # 50 clients, 60 s, 4 gunicorn workers (locust, headless)
    python bench/bench_load.py --quick    # 5 clients, 8 s: proves the script works (CI)

What runs is what `make serve` runs (gunicorn with DEBUG off, whitenoise, pooled PostgreSQL connections),
on a free port against a database of its own seeded by `seed_volume`. Locust comes from
bench/requirements.txt. Reported: requests/s, p50/p95/p99 in ms, errors (must be 0) and the peak number of
PostgreSQL connections to the database during the run. Every process is started here and stopped here; the
load loop is bounded by locust's run time.
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import DEFAULT_URL, ROOT, emit  # noqa: E402

HERE = Path(__file__).resolve().parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_listening(port: int, proc: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the server exited with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"nothing listened on {port} after {timeout}s")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    clients, seconds = (5, 15) if args.quick else (50, 60)
    if not shutil.which("locust", path=str(Path(sys.executable).parent)):
        print("locust is not installed: pip install -r bench/requirements.txt", file=sys.stderr)
        emit("load", args.quick, skipped="locust is not installed (bench/requirements.txt)")
        return 0

    checkout = "".join(c if c.isalnum() else "_" for c in ROOT.name.lower())
    url = os.environ.get("BENCH_LOAD_DATABASE_URL", DEFAULT_URL.replace("scrapersky_bench", f"scrapersky_load_{checkout}"))
    import psycopg
    from psycopg import sql

    base, name = url.rsplit("/", 1)
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))

    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "scrapersky.settings", "DEBUG": "false",
        "SECRET_KEY": "load-benchmark-" + os.urandom(16).hex(), "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SECURE_SSL_REDIRECT": "false",  # plain HTTP on loopback; TLS is the proxy's job in production
        "API_THROTTLE_USER": os.environ.get("API_THROTTLE_USER", "100000/min"),  # measure the server, not the throttle
        "LOG_LEVEL": "WARNING", "GUNICORN_WORKERS": "4", "PORT": str(port),
    }
    manage = [sys.executable, str(ROOT / "manage.py")]
    run = lambda *a: subprocess.run([*manage, *a], env=env, check=True, cwd=ROOT, capture_output=True)  # noqa: E731
    run("migrate", "--no-input")
    sizes = ["--places", "5000", "--pages", "20000", "--contacts", "10000"] if args.quick else [
        "--places", "200000", "--pages", "500000", "--contacts", "200000"]
    run("seed_volume", *sizes)
    tokens = subprocess.run([*manage, "shell", "-c", _MINT.replace("@CLIENTS@", str(clients))], env=env, check=True,
                            cwd=ROOT, capture_output=True, text=True).stdout
    clients_file = Path(tempfile.mkdtemp()) / "clients.json"
    clients_file.write_text(tokens.strip().splitlines()[-1])

    procs: list[subprocess.Popen] = []
    peak = {"connections": 0}
    stop_polling = threading.Event()

    def poll_connections():
        with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
            while not stop_polling.is_set():
                n = conn.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = %s", [name]).fetchone()[0]
                peak["connections"] = max(peak["connections"], n)
                time.sleep(0.25)

    try:
        server = subprocess.Popen(["make", "-s", "serve-only"], env=env, cwd=ROOT, start_new_session=True,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        procs.append(server)
        wait_listening(port, server)
        _warm_up(port, clients_file)
        cluster = subprocess.Popen([*manage, "qcluster"], env=env, cwd=ROOT, start_new_session=True,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        procs.append(cluster)
        run("shell", "-c", _QUEUE)  # a backlog of domain extractions for the cluster to drain meanwhile
        poller = threading.Thread(target=poll_connections, daemon=True)
        poller.start()
        out = Path(tempfile.mkdtemp()) / "load"
        locust = subprocess.run(
            [str(Path(sys.executable).parent / "locust"), "-f", str(HERE / "locustfile.py"), "--headless",
             "-u", str(clients), "-r", str(clients), "-t", f"{seconds}s", "--host", f"http://127.0.0.1:{port}",
             "--csv", str(out), "--only-summary", "--stop-timeout", "5", "--loglevel", "WARNING"],
            env={**env, "LOAD_CLIENTS_FILE": str(clients_file),
                 "LOAD_PLACE_PAGES": "50" if args.quick else "2000"},
            capture_output=True, text=True, timeout=seconds + 120,
        )
        stop_polling.set()
        poller.join(timeout=5)
        drained = subprocess.run([*manage, "shell", "-c", _DRAINED], env=env, cwd=ROOT, capture_output=True,
                                 text=True).stdout.strip().splitlines()[-1]
        total = next(r for r in csv.DictReader(open(f"{out}_stats.csv")) if r["Name"] == "Aggregated")
        per_endpoint = {
            r["Name"]: {"requests": int(r["Request Count"]), "p50_ms": float(r["50%"]), "p95_ms": float(r["95%"]),
                        "p99_ms": float(r["99%"])}
            for r in csv.DictReader(open(f"{out}_stats.csv")) if r["Name"] != "Aggregated"
        }
        failures = [dict(r) for r in csv.DictReader(open(f"{out}_failures.csv"))]
        emit(
            "load", args.quick, clients=clients, seconds=seconds, gunicorn_workers=4,
            requests=int(total["Request Count"]), errors=int(total["Failure Count"]),
            requests_per_s=round(float(total["Requests/s"]), 1), p50_ms=float(total["50%"]),
            p95_ms=float(total["95%"]), p99_ms=float(total["99%"]), peak_pg_connections=peak["connections"],
            queue_drained_meanwhile=json.loads(drained), per_endpoint=per_endpoint, failures=failures[:5],
            locust_exit=locust.returncode,
        )
        return 0 if int(total["Failure Count"]) == 0 else 1
    finally:
        stop_polling.set()
        for proc in procs:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in procs:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


def _warm_up(port: int, clients_file: Path) -> None:
    """A few requests per worker before the clock starts: the first one of a process builds its caches."""
    import httpx

    token = json.loads(clients_file.read_text())[0]["token"]
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", headers={"Authorization": f"Bearer {token}"},
                      timeout=60) as client:
        for _ in range(12):
            response = client.get("/api/v3/places/?page=1")
            if response.status_code != 200:
                raise RuntimeError(f"warm-up: HTTP {response.status_code} {response.text[:200]}")


_MINT = """
import json
from django.contrib.auth import get_user_model
from rest_framework_simplejwt.tokens import RefreshToken
from places.models import LocalBusiness
User = get_user_model()
ids = [str(pk) for pk in LocalBusiness.objects.order_by("pk").values_list("pk", flat=True)[:@CLIENTS@ * 300]]
out = []
for n in range(@CLIENTS@):
    user, _ = User.objects.get_or_create(username=f"load{n}", defaults={"is_staff": True, "is_superuser": True})
    out.append({"token": str(RefreshToken.for_user(user).access_token), "ids": ids[n * 300:(n + 1) * 300]})
print(json.dumps(out))
"""

_QUEUE = """
from curation import registry, services
wf = registry.get("domain_extraction")
ids = list(wf.model_class.objects.filter(domain_extraction_curation_status="New").order_by("-pk")
           .values_list("pk", flat=True)[:20000])
for start in range(0, len(ids), 10000):
    services.curation_status_set(workflow=wf, ids=ids[start:start + 10000], status="Selected", source="bench")
"""

_DRAINED = """
import json
from curation import registry
wf = registry.get("domain_extraction")
m = wf.model_class.objects
print(json.dumps({s: m.filter(domain_extraction_processing_status=s).count() for s in ("Queued", "Processing", "Completed", "Error")}))
"""


if __name__ == "__main__":
    sys.exit(main())
