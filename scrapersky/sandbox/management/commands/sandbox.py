import signal
import threading

from django.core.management.base import BaseCommand, CommandError

from scrapersky.sandbox.registry import SERVERS
from scrapersky.sandbox.server import serve_in_thread


class Command(BaseCommand):
    help = "Serve the offline sandbox (Places API, business websites, CRMs) on loopback until Ctrl-C."

    def handle(self, *args, **options):
        running = []
        for server in SERVERS:
            try:
                running.append((server, serve_in_thread(server.make_app(), port=server.port)))
            except OSError as exc:
                for _, r in running:
                    r.stop()
                raise CommandError(f"sandbox {server.name}: cannot listen on 127.0.0.1:{server.port} ({exc})") from exc
            self.stdout.write(f"sandbox: {server.name} on http://127.0.0.1:{server.port}")
        stop = threading.Event()
        signal.signal(signal.SIGINT, lambda *a: stop.set())
        signal.signal(signal.SIGTERM, lambda *a: stop.set())
        stop.wait()
        for _, r in running:
            r.stop()
