"""The worker supervisor (`manage.py run_workers`): a django-q2 cluster that heals itself and stops cleanly.

Why (docs/deployment.md "Self-healing"): django-q2's workers share one
`multiprocessing.Queue`; an idle worker blocks in `get()` *holding the queue's
read lock*. `kill -9` of that worker leaves the lock held forever: the
respawned workers wait on it, tasks pile up in the broker and nothing runs
(django-q2 #23, django-q #394 and #200; #339 is the same with the result
queue's write lock). The cluster's own guard sees live processes and never
recovers. So the supervisor does not rely on the pool being healthy:

- it runs the cluster (`manage.py qcluster`) as a child in its own process group;
- every few seconds it rescues rows itself: leases that expired, and rows held
  by worker processes of this machine that no longer exist (a kill -9) — no
  need to wait for the lease, and no scheduled task needed;
- it restarts the cluster at once when django-q2's guard reincarnates the
  cluster's monitor or pusher (its log line "reincarnated monitor|pusher … after
  sudden death"): an idle monitor dies inside the result queue's get() holding
  its read lock, so the new monitor never receives a result (tasks are not
  acknowledged, results not saved, and the workers' result pipes fill up until
  they hang); a pusher can die holding the task queue's write lock or tasks it
  dequeued but never passed on. The cluster's output goes through the
  supervisor for that (and is forwarded unchanged);
- it restarts the cluster when the queue is stalled (`selectors.queue_health`:
  due rows waiting longer than `stall_seconds` while no attempt of this
  machine's workers finished in that time and none is in flight), or when the
  cluster exited; then it wakes the workflows that have due rows;
- on SIGTERM/SIGINT it stops the cluster within `stop_grace` seconds: SIGTERM
  to the group (a running workflow run stops claiming and releases its
  unstarted rows), then SIGKILL to whatever is left, then it releases the rows
  the killed processes still held, without spending an attempt.
"""
from __future__ import annotations

import logging
import os
import signal
import socket
import re
import subprocess
import sys
import threading
import time
from typing import Callable

from django.db import InterfaceError, OperationalError, close_old_connections, connection

from curation import registry, selectors, services

logger = logging.getLogger(__name__)

# django-q2's guard (cluster.Sentinel.reincarnate) logs this when it replaces a dead monitor or pusher.
REINCARNATED_AUXILIARY = re.compile(rb"reincarnated (monitor|pusher) (\S+) after sudden death")


def group_pids(pgid: int) -> list[int]:
    """Live processes of a process group (Linux /proc; zombies excluded)."""
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        # "pid (comm) state ppid pgrp ...": comm may contain spaces, so split after the last ")".
        fields = stat[stat.rfind(")") + 2:].split()
        if len(fields) > 2 and fields[0] != "Z" and int(fields[2]) == pgid:
            pids.append(int(entry))
    return pids


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


class Supervisor:
    def __init__(
        self,
        *,
        command: list[str],
        stall_seconds: float = 90.0,
        check_seconds: float = 5.0,
        stop_grace: float = 2.0,
        env: dict | None = None,
        wake: Callable[[str], None] | None = None,
        log: Callable[[str], None] = logger.warning,
    ):
        self.command = command
        self.stall_seconds = stall_seconds
        self.check_seconds = check_seconds
        self.stop_grace = stop_grace
        self.env = env
        self.wake = wake  # injected (curation.tasks.wake): the supervisor does not import the task layer
        self.log = log
        self.host = socket.gethostname()
        self.proc: subprocess.Popen | None = None
        self.started_at = 0.0
        self.known_pids: set[int] = set()
        self.restarts = 0
        self._stopping = False
        self._fault: str | None = None  # set by the output reader: the cluster needs a restart

    # --- the cluster -------------------------------------------------------------------------------
    def start_cluster(self) -> None:
        close_old_connections()
        self._fault = None
        self.proc = subprocess.Popen(self.command, env=self.env, start_new_session=True,
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        self.started_at = time.monotonic()
        self.known_pids = {self.proc.pid}
        threading.Thread(target=self._forward, args=(self.proc,), daemon=True).start()
        self.log(f"worker cluster started (pid {self.proc.pid})")

    def _forward(self, proc: subprocess.Popen) -> None:
        """Pass the cluster's output on unchanged, and notice when its guard replaced the monitor or pusher."""
        out = getattr(sys.stdout, "buffer", None)
        for line in iter(proc.stdout.readline, b""):
            if out is not None:
                try:
                    out.write(line)
                    out.flush()
                except (OSError, ValueError):
                    out = None
            match = REINCARNATED_AUXILIARY.search(line)
            if match and proc is self.proc:
                self._fault = f"the cluster's {match.group(1).decode()} died and was replaced"
        proc.stdout.close()

    def _remember_pids(self) -> None:
        if self.proc is not None:
            self.known_pids.update(group_pids(self.proc.pid))

    def stop_cluster(self, why: str) -> None:
        """SIGTERM to the cluster's group, SIGKILL after `stop_grace` s, then release what its processes held."""
        if self.proc is None:
            return
        pgid = self.proc.pid
        self._remember_pids()
        started = time.monotonic()
        try:
            os.killpg(pgid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        deadline = started + self.stop_grace
        # The cluster's own parent process can hang in its stop handler (the sentinel it waits on died
        # holding the stop event's lock: django-q2 #66); once its children are gone it has nothing left
        # to do, so it is killed with whatever else remains.
        while time.monotonic() < deadline and set(group_pids(pgid)) - {pgid}:
            self._remember_pids()
            self.proc.poll()
            time.sleep(0.05)
        left = [pid for pid in group_pids(pgid) if pid != pgid]
        if group_pids(pgid):
            try:
                os.killpg(pgid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        try:
            self.proc.wait(timeout=0.5)
        except subprocess.TimeoutExpired:
            pass
        released = self._release_held(self.known_pids, why)
        self.log(f"worker cluster stopped ({why}) in {time.monotonic() - started:.1f}s"
                 f"{f'; {len(left)} process(es) killed' if left else ''}"
                 f"{f'; {released} row(s) they held released, no attempt spent' if released else ''}")
        self.proc = None

    def _release_held(self, pids, why: str) -> int:
        if not pids:
            return 0
        prefixes = [f"{self.host}:{pid}:" for pid in pids]
        try:
            return sum(services.processing_release_workers(workflow=wf, worker_prefixes=prefixes, note=why)
                       for wf in registry.all_workflows())
        except (OperationalError, InterfaceError) as exc:
            self.log(f"could not release the stopped workers' rows ({exc}); their leases will expire")
            connection.close()
            return 0

    # --- the watchdog ----------------------------------------------------------------------------------
    def check(self) -> None:
        """One round: restart a dead cluster, rescue rows, restart a stalled cluster."""
        if self.proc is not None and self.proc.poll() is not None:
            self.log(f"worker cluster exited with code {self.proc.returncode}; restarting it")
            self._release_held(self.known_pids, "the worker cluster exited")
            self.proc = None
        if self.proc is None:
            self.start_cluster()
            return
        self._remember_pids()
        self.known_pids = {pid for pid in self.known_pids if pid_alive(pid)} | {self.proc.pid}
        if self._fault and not self._stopping:
            # The replacement may wait forever on a queue lock the dead process held: only a fresh cluster
            # (new queues) is sure to work. Stopping releases the rows of its runs without spending attempts.
            fault, self.restarts = self._fault, self.restarts + 1
            self.log(f"{fault}: restarting the worker cluster")
            self.stop_cluster("worker cluster restarted")
            self.start_cluster()
            self.rescue()
            self.wake_due(selectors.queue_health(stall_seconds=0).waiting)  # every workflow with due rows
            return
        self.rescue()
        if self._stopping or time.monotonic() - self.started_at < self.stall_seconds:
            return  # give a fresh cluster time to show progress
        health = selectors.queue_health(stall_seconds=self.stall_seconds, worker_prefix=f"{self.host}:")
        if health.stalled:
            self.restarts += 1
            self.log("the queue is stalled (" + "; ".join(health.problems()) + "): restarting the worker cluster")
            self.stop_cluster("stalled cluster restarted")
            self.start_cluster()
            self.wake_due(health.waiting)

    def rescue(self) -> None:
        """Expired leases, and rows held by processes of this machine that are gone (kill -9, OOM)."""
        woken = set()
        for wf in registry.all_workflows():
            if self._stopping:
                return
            result = services.processing_rescue(workflow=wf)
            dead = services.processing_rescue_dead_workers(workflow=wf, host=self.host, alive=pid_alive)
            if dead:
                self.log(f"{wf.name}: {dead} row(s) held by a dead worker process queued again")
            if result.requeued or dead:
                woken.add(wf.name)
        self.wake_due(woken)

    def wake_due(self, names) -> None:
        if self.wake is None:
            return
        for name in names:
            self.wake(name)

    # --- the loop ------------------------------------------------------------------------------------------
    def request_stop(self, signum=None, frame=None) -> None:
        self._stopping = True

    def run(self) -> int:
        signal.signal(signal.SIGTERM, self.request_stop)
        signal.signal(signal.SIGINT, self.request_stop)
        self.start_cluster()
        next_check = time.monotonic() + self.check_seconds
        try:
            while not self._stopping:
                time.sleep(0.05)
                if time.monotonic() < next_check:
                    continue
                next_check = time.monotonic() + self.check_seconds
                try:
                    self.check()
                except (OperationalError, InterfaceError) as exc:  # the database is restarting: next round
                    self.log(f"watchdog round skipped: database unavailable ({exc})")
                    connection.close()
        finally:
            self.stop_cluster("shutdown")
            connection.close()
        return 0
