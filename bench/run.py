"""Run every benchmark (each in a fresh process) and print one JSON line per benchmark.

    python bench/run.py            # full sizes (PostgreSQL; a few minutes)
    python bench/run.py --quick    # small sizes: proves the scripts work (CI)

BENCH_DATABASE_URL chooses the database server (default: the local PostgreSQL,
database scrapersky_bench, recreated by every script).
"""
import json
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
SCRIPTS = ["bench_curation.py", "bench_queue.py", "bench_latency.py", "bench_scrape.py", "bench_sitemap.py",
           "bench_extract.py", "bench_volume.py", "bench_load.py", "bench_crm.py", "bench_coverage.py"]


def main() -> int:
    extra = [a for a in sys.argv[1:] if a == "--quick"]
    failed = []
    for script in SCRIPTS:
        proc = subprocess.run([sys.executable, str(HERE / script), *extra], cwd=HERE, capture_output=True, text=True)
        lines = [l for l in proc.stdout.splitlines() if l.startswith("{")]
        if proc.returncode != 0 or not lines:
            failed.append(script)
            print(json.dumps({"benchmark": script, "error": (proc.stderr or proc.stdout)[-2000:]}), flush=True)
            continue
        print(lines[-1], flush=True)
    if failed:
        print(f"benchmarks failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
