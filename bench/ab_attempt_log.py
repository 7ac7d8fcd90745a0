"""A/B in one run: the queue drain (1 process, batch 100, no-op hook) with the engine before the
attempt log (OLD_TREE) and with it (this checkout), alternated so both see the same machine load.

Not part of `make bench` (it needs a second checkout): `git archive df6cd4b | tar -x -C /tmp/old`,
link the virtualenv into it, then `OLD_TREE=/tmp/old .venv/bin/python bench/ab_attempt_log.py`.
"""
import json
import os
import subprocess
import sys

from common import ROOT, manage_env, setup

args = setup(__doc__)

from django.db import connection  # noqa: E402
from django.utils import timezone  # noqa: E402

from tests.testapp.models import Widget  # noqa: E402

N = 2_000 if args.quick else 20_000
OLD = os.environ["OLD_TREE"]


def reset() -> None:
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE testapp_widget, testapp_hookcall, curation_curationevent, curation_processingattempt")
    now = timezone.now()
    Widget.objects.bulk_create(
        [Widget(name=f"w{i}", behaviour="noop", widget_check_curation_status="Selected",
                widget_check_processing_status="Queued", widget_check_queued_at=now, widget_check_available_at=now)
         for i in range(N)], batch_size=5000)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE testapp_widget")


def drain(tree: str) -> float:
    reset()
    out = subprocess.run([sys.executable, f"{tree}/manage.py", "run_workflow", "widget_check", "--json", "--batch-size", "100"],
                         env=manage_env(), capture_output=True, text=True, check=True).stdout
    report = json.loads(out.strip().splitlines()[-1])
    assert report["completed"] == N, report
    return round(N / report["seconds"], 1)


rates = {"without_attempt_log": [], "with_attempt_log": []}
for _ in range(3):
    rates["without_attempt_log"].append(drain(OLD))
    rates["with_attempt_log"].append(drain(str(ROOT)))
print(json.dumps({"benchmark": "attempt_log_cost", "rows": N, **rates}))
