import dataclasses
import json
import signal

from django.core.management.base import BaseCommand, CommandError

from curation import engine, registry


class Command(BaseCommand):
    help = "Process a workflow's queued rows in this process (the same code the workers run)."

    def add_arguments(self, parser):
        parser.add_argument("workflow", help="workflow name, e.g. deep_scan")
        mode = parser.add_mutually_exclusive_group()
        mode.add_argument("--once", action="store_true", help="claim and run one batch only")
        mode.add_argument("--until-empty", action="store_true", help="drain the queue (the default)")
        parser.add_argument("--time-budget", type=float, default=None, help="stop claiming after this many seconds")
        parser.add_argument("--batch-size", type=int, default=None, help="rows per claim (default: the declaration's)")
        parser.add_argument("--concurrency", type=int, default=None, help="hook threads (default: the declaration's)")
        parser.add_argument("--json", action="store_true", help="print the report as JSON")

    def handle(self, *args, **options):
        try:
            wf = registry.get(options["workflow"])
        except registry.UnknownWorkflow as exc:
            raise CommandError(str(exc)) from exc
        if options["batch_size"] is not None:
            if options["batch_size"] < 1:
                raise CommandError("--batch-size must be at least 1")
            wf = dataclasses.replace(wf, batch_size=options["batch_size"])
        if options["concurrency"] is not None:
            if options["concurrency"] < 1:
                raise CommandError("--concurrency must be at least 1")
            wf = dataclasses.replace(wf, concurrency=options["concurrency"])
        # Ctrl-C / SIGTERM: finish the rows already started, give the others back.
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda signum, frame: engine.request_stop())
        time_budget = options["time_budget"]
        if time_budget is None and not options["once"]:
            time_budget = float("inf")  # a developer's drain is not bounded by the worker budget
        report = engine.workflow_run(wf, max_batches=1 if options["once"] else None, time_budget=time_budget)
        if options["json"]:
            self.stdout.write(json.dumps(report.as_dict()))
        else:
            self.stdout.write(
                f"{wf.name}: {report.batches} batch(es), {report.claimed} claimed, {report.completed} completed, "
                f"{report.retried} to retry, {report.errored} errored, {report.released} released, "
                f"{report.rescued} rescued in {report.seconds}s"
            )
            for line in report.errors:
                self.stdout.write(f"  error: {line}")
            if report.paused:
                self.stdout.write(self.style.WARNING(f"  paused: {report.paused}"))
