import os
import signal
import socket
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
        stopping = False
        announced = False
        started = time.monotonic()

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
                # The banner comes once the web server answers, so that it is the last block on screen
                # (after the servers' start-up lines, which take a few seconds); after 30 s it comes anyway.
                waited = time.monotonic() - started
                if not stopping and not announced and ((waited > 3 and self._listening(port)) or waited > 30):
                    self._banner(port)
                    announced = True
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

    @staticmethod
    def _listening(port) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", int(port)), timeout=0.2):
                return True
        except OSError:
            return False

    def _banner(self, port) -> None:
        """Where to go and how to log in, printed last so that it is the block left on screen."""
        user = settings.ADMIN_USERNAME
        if os.environ.get("ADMIN_PASSWORD"):
            password = "the value of ADMIN_PASSWORD"
        else:  # never print a password this process does not know
            password = "printed above by ensure_admin when the account was created (set ADMIN_PASSWORD to choose it)"
        line = "-" * 72
        self.stdout.write(line)
        self.stdout.write(self.style.SUCCESS(f"ScraperSky is running on http://127.0.0.1:{port}/"))
        self.stdout.write(f"  Admin:     http://127.0.0.1:{port}/admin/   (Workflows: the operator page)")
        self.stdout.write(f"  API docs:  http://127.0.0.1:{port}/api/v3/docs/")
        self.stdout.write(f"  user:      {user}")
        self.stdout.write(f"  password:  {password}")
        if getattr(settings, "SANDBOX_ENABLED", False):
            self.stdout.write(self.style.WARNING(
                "  Sandbox:   no GOOGLE_MAPS_API_KEY, so Google Places, business websites and CRMs are local "
                "stand-ins on 127.0.0.1:" + ", ".join(str(getattr(settings, name, "?")) for name in
                                                     ("SANDBOX_PLACES_PORT", "SANDBOX_WEBSITES_PORT",
                                                      "SANDBOX_CRM_PORT"))
                + "; every admin page says so."))
        else:
            self.stdout.write("  Live mode: GOOGLE_MAPS_API_KEY is set; searches call Google and are billed.")
        self.stdout.write("  Ctrl-C stops the web server and the worker.")
        self.stdout.write(line)
