import os
import signal
import subprocess
import sys
import time

from django.conf import settings
from django.core.management import get_commands
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Run the web server and a django-q2 worker (and the sandbox when enabled) in the foreground; Ctrl-C stops all."

    def add_arguments(self, parser):
        parser.add_argument("--port", default=os.environ.get("PORT", "8000"))

    def handle(self, *args, **options):
        port = options["port"]
        manage = [sys.executable, str(settings.BASE_DIR / "manage.py")]
        procs = []
        if getattr(settings, "SANDBOX_ENABLED", False) and "sandbox" in get_commands():
            procs.append(("sandbox", subprocess.Popen([*manage, "sandbox"])))
        procs.append(("web", subprocess.Popen([*manage, "runserver", f"127.0.0.1:{port}", "--noreload"])))
        procs.append(("worker", subprocess.Popen([*manage, "qcluster"])))
        self.stdout.write(self.style.SUCCESS(f"ScraperSky: admin http://127.0.0.1:{port}/admin/  API docs http://127.0.0.1:{port}/api/v3/docs/"))
        if getattr(settings, "SANDBOX_ENABLED", False):
            self.stdout.write(self.style.WARNING("Sandbox mode: no GOOGLE_MAPS_API_KEY, so Places, websites and CRMs are local stand-ins."))
        self.stdout.write("Press Ctrl-C to stop the web server and the worker.")
        stopping = False

        def stop(signum=None, frame=None):
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        try:
            while not stopping:
                for name, proc in procs:
                    if proc.poll() is not None:
                        self.stderr.write(f"{name} exited with code {proc.returncode}; stopping the others")
                        stopping = True
                time.sleep(0.5)
        finally:
            for _name, proc in procs:
                if proc.poll() is None:
                    proc.send_signal(signal.SIGTERM)
            deadline = time.monotonic() + 20
            for _name, proc in procs:
                try:
                    proc.wait(timeout=max(0.1, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    proc.kill()
        self.stdout.write("stopped.")
