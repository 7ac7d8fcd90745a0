import os
import sys

from django.conf import settings
from django.core.management.base import BaseCommand

from curation.supervisor import Supervisor
from curation.tasks import wake


class Command(BaseCommand):
    help = ("Run a django-q2 cluster under a watchdog: rows of dead workers are rescued at once, a stalled "
            "cluster is restarted, and SIGTERM/SIGINT stop everything within a few seconds (docs/deployment.md).")

    def add_arguments(self, parser):
        parser.add_argument("--stall-seconds", type=float, default=float(os.environ.get("WORKER_STALL_SECONDS", 90)),
                            help="Restart the cluster when due rows wait this long with no progress (default 90).")
        parser.add_argument("--check-seconds", type=float, default=float(os.environ.get("WORKER_CHECK_SECONDS", 5)),
                            help="How often the watchdog looks (default 5).")
        parser.add_argument("--stop-grace", type=float, default=2.0,
                            help="Seconds a stopping cluster gets before it is killed (default 2).")

    def handle(self, *args, **options):
        supervisor = Supervisor(
            command=[sys.executable, str(settings.BASE_DIR / "manage.py"), "qcluster"],
            stall_seconds=options["stall_seconds"],
            check_seconds=options["check_seconds"],
            stop_grace=options["stop_grace"],
            wake=wake,
            log=lambda text: self.stderr.write(f"run_workers: {text}"),
        )
        supervisor.run()
        # The cluster is stopped and its rows released: skip the interpreter's teardown (seconds on a
        # loaded machine) so that a stop stays within its budget.
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)
