import json

from django.core.management.base import BaseCommand

from curation import selectors


class Command(BaseCommand):
    help = ("The operator table: every workflow with its counts by status, oldest queued row and errors. "
            "--check: a liveness check for orchestrators (exit 1 when the queue is stalled).")

    def add_arguments(self, parser):
        parser.add_argument("--json", action="store_true")
        parser.add_argument(
            "--check", action="store_true",
            help="Exit 1 when due rows have waited longer than --threshold seconds while nothing was processed in "
                 "that time (no attempt finished, no row in flight), or leases expired that long ago were never "
                 "rescued; exit 0 otherwise. Prints one line per problem.",
        )
        parser.add_argument("--threshold", type=float, default=120.0, help="Seconds (default 120).")

    def handle(self, *args, **options):
        if options["check"]:
            return self._check(options["threshold"])
        rows = selectors.workflows_overview()
        if options["json"]:
            self.stdout.write(json.dumps(rows, default=str))
            return
        header = f"{'workflow':<22}{'none':>7}{'queued':>8}{'proc':>6}{'done':>7}{'error':>7}{'oldest':>9}{'1h ok':>7}  errors"
        self.stdout.write(header)
        self.stdout.write("-" * len(header))
        for r in rows:
            c = r["processing_counts"]
            oldest = f"{r['oldest_queued_age_seconds']:.0f}s" if r["oldest_queued_age_seconds"] is not None else "-"
            errors = ", ".join(f"{k or '?'}={v}" for k, v in r["errors_by_class"].items()) or "-"
            self.stdout.write(
                f"{r['name']:<22}{c['none']:>7}{c['Queued']:>8}{c['Processing']:>6}{c['Completed']:>7}{c['Error']:>7}"
                f"{oldest:>9}{r['completed_last_hour']:>7}  {errors}"
            )
            if r["readiness_problem"]:
                self.stdout.write(self.style.WARNING(f"  {r['name']} cannot run: {r['readiness_problem']}"))

    def _check(self, threshold: float) -> None:
        health = selectors.queue_health(stall_seconds=threshold)
        if health.stalled:
            for line in health.problems():
                self.stderr.write(f"stalled: {line}")
            last = health.last_progress_at.isoformat() if health.last_progress_at else "none in the window"
            self.stderr.write(f"last finished attempt: {last}; rows in flight: {health.live_leases}")
            raise SystemExit(1)
        waiting = ", ".join(f"{k} {v:.0f}s" for k, v in sorted(health.waiting.items()))
        self.stdout.write("ok: the queue is moving" + (f" (waiting: {waiting}; work in progress)" if waiting else ""))
