import os
import signal
import socket
import subprocess
import sys
import threading
import time

from django.conf import settings
from django.core.management import get_commands
from django.core.management.base import BaseCommand

# How long each stage of a stop may take: the workers first (the supervisor stops its cluster in
# 2 s at most, then releases what it held), then the sandbox; a stage's stragglers are killed and
# get KILL_WAIT_SECONDS to go. Worst case 3.4 + 0.3 + 0.5 + 0.3 = 4.5 s: all gone within 5 s.
WORKER_STOP_SECONDS = 3.4
REST_STOP_SECONDS = 0.5
KILL_WAIT_SECONDS = 0.3


def _process_tree(root: int) -> dict[int, int]:
    """pid -> process group of `root` and every live process below it (Linux /proc; {} elsewhere)."""
    parents: dict[int, tuple[int, int]] = {}
    try:
        entries = os.listdir("/proc")
    except OSError:
        return {}
    for entry in entries:
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        fields = stat[stat.rfind(")") + 2:].split()  # state ppid pgrp ...
        if len(fields) > 2 and fields[0] != "Z":
            parents[int(entry)] = (int(fields[1]), int(fields[2]))
    tree = {root: parents[root][1]} if root in parents else {}
    frontier = {root}
    while frontier:
        frontier = {pid for pid, (ppid, _) in parents.items() if ppid in frontier and pid not in tree}
        tree.update({pid: parents[pid][1] for pid in frontier})
    return tree


def _load_prctl():
    try:
        import ctypes

        return ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):  # not Linux: the stop path below still stops the children
        return None


_PRCTL = _load_prctl()


def _die_with_parent() -> None:
    """In the child, before exec: get SIGTERM if runall itself dies (kill -9), so nothing is orphaned."""
    if _PRCTL is not None:
        _PRCTL(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


class Command(BaseCommand):
    help = ("Run the web server and the supervised workers (and the sandbox when enabled) in the foreground; "
            "Ctrl-C or SIGTERM stops them all within 5 s, the workers first.")

    def add_arguments(self, parser):
        parser.add_argument("--port", default=os.environ.get("PORT", "8000"))

    def handle(self, *args, **options):
        port = options["port"]
        manage = [sys.executable, str(settings.BASE_DIR / "manage.py")]
        sandbox = getattr(settings, "SANDBOX_ENABLED", False) and "sandbox" in get_commands()
        self._out_lock = threading.Lock()
        self._last_output = time.monotonic()
        self._worker_running = threading.Event()
        # A plain flag: a signal handler must not take a lock the interrupted main thread may hold
        # (Event.set() inside Event.wait() deadlocks).
        stopping = []

        def stop(signum=None, frame=None):
            stopping.append(signum)

        # Handlers first: a signal during start-up must still stop every child.
        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        procs: dict[str, subprocess.Popen] = {}
        if sandbox:
            procs["sandbox"] = self._spawn("sandbox", [*manage, "sandbox"])
        procs["web"] = self._spawn("web", [*manage, "runserver", f"127.0.0.1:{port}", "--noreload"])
        procs["worker"] = self._spawn("worker", [*manage, "run_workers"])
        ports = [int(port)] + ([int(getattr(settings, name)) for name in
                                ("SANDBOX_PLACES_PORT", "SANDBOX_WEBSITES_PORT", "SANDBOX_CRM_PORT")] if sandbox else [])
        started = time.monotonic()
        announced = False
        try:
            while not stopping:
                for name, proc in procs.items():
                    if proc.poll() is not None:
                        self._write(self.stderr, f"{name} exited with code {proc.returncode}; stopping the others")
                        stopping.append(None)
                # The banner is the last block of the start-up: once every server listens, the worker
                # cluster says it is running, and the children have been quiet for a second (their
                # output goes through this process, so nothing of theirs can come after it). After
                # 30 s it comes anyway.
                if not stopping and not announced:
                    ready = all(self._listening(p) for p in ports) and self._worker_running.is_set()
                    quiet = time.monotonic() - self._last_output > 1.0
                    if (ready and quiet) or time.monotonic() - started > 30:
                        self._banner(port)
                        announced = True
                time.sleep(0.2)
        finally:
            began = time.monotonic()
            self._stop(procs)
        self._write(self.stdout, f"stopped in {time.monotonic() - began:.1f}s.")
        # Every child is gone and our output is flushed: skip the interpreter's teardown, which takes
        # seconds on a loaded machine, so that the whole stop stays within 5 s.
        os._exit(0)

    # --- children -----------------------------------------------------------------------------
    def _spawn(self, name: str, cmd: list[str]) -> subprocess.Popen:
        # Each child leads its own process group: Ctrl-C (or a signal to make's group) reaches only
        # make and this process, which then stops the children in order (the sandbox after the workers).
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True,
                                preexec_fn=_die_with_parent, env={**os.environ, "PYTHONUNBUFFERED": "1"})
        threading.Thread(target=self._pump, args=(name, proc), daemon=True).start()
        return proc

    def _pump(self, name: str, proc: subprocess.Popen) -> None:
        for raw in iter(proc.stdout.readline, b""):
            line = raw.decode("utf-8", "replace").rstrip("\n")
            if name == "worker" and "running." in line and "Q Cluster" in line:
                self._worker_running.set()
            self._write(self.stdout, line)

    def _write(self, stream, line: str) -> None:
        with self._out_lock:
            self._last_output = time.monotonic()
            stream.write(line)
            stream.flush()

    def _stop(self, procs: dict[str, subprocess.Popen]) -> None:
        """Workers and web first (the workers release their rows while the sandbox still answers), then the sandbox.

        Each child's whole process tree is noted before it is signalled: the worker supervisor runs its
        cluster in a session of its own, so if the supervisor has to be killed, its cluster's processes
        (re-parented by then) are still found and killed with it, and none is left behind."""
        stages = [(["worker", "web"], WORKER_STOP_SECONDS), (["sandbox"], REST_STOP_SECONDS)]
        for names, seconds in stages:
            group = [procs[n] for n in names if n in procs]
            trees = {proc.pid: _process_tree(proc.pid) for proc in group}
            for proc in group:
                self._signal_group(proc, signal.SIGTERM)
            deadline = time.monotonic() + seconds
            for proc in group:
                try:
                    proc.wait(timeout=max(0.05, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    pass
                trees[proc.pid].update(_process_tree(proc.pid))  # processes started since (a restarted cluster)
            for proc in group:  # whatever is left of each child's tree (a stuck process, a grandchild)
                self._signal_group(proc, signal.SIGKILL)
                for pid, pgid in trees[proc.pid].items():
                    if pgid == os.getpgrp():
                        continue
                    for kill, target in ((os.killpg, pgid), (os.kill, pid)):
                        try:
                            kill(target, signal.SIGKILL)
                        except (ProcessLookupError, PermissionError):
                            pass
            for proc in group:
                try:
                    proc.wait(timeout=KILL_WAIT_SECONDS)
                except subprocess.TimeoutExpired:
                    pass

    @staticmethod
    def _signal_group(proc: subprocess.Popen, sig: int) -> None:
        try:
            os.killpg(proc.pid, sig)
        except (ProcessLookupError, PermissionError):
            pass

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
        lines = [
            line,
            self.style.SUCCESS(f"ScraperSky is running on http://127.0.0.1:{port}/"),
            f"  Admin:     http://127.0.0.1:{port}/admin/   (Workflows: the operator page)",
            f"  API docs:  http://127.0.0.1:{port}/api/v3/docs/",
            f"  user:      {user}",
            f"  password:  {password}",
        ]
        if getattr(settings, "SANDBOX_ENABLED", False):
            lines.append(self.style.WARNING(
                "  Sandbox:   no GOOGLE_MAPS_API_KEY, so Google Places, business websites and CRMs are local "
                "stand-ins on 127.0.0.1:" + ", ".join(str(getattr(settings, name, "?")) for name in
                                                     ("SANDBOX_PLACES_PORT", "SANDBOX_WEBSITES_PORT",
                                                      "SANDBOX_CRM_PORT"))
                + "; every admin page says so."))
        else:
            lines.append("  Live mode: GOOGLE_MAPS_API_KEY is set; searches call Google and are billed.")
        lines += ["  Ctrl-C stops the web server, the workers and the sandbox.", line]
        with self._out_lock:
            for text in lines:
                self.stdout.write(text)
            self.stdout.flush()
