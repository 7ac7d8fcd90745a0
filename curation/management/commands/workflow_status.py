import json

from django.core.management.base import BaseCommand

from curation import selectors


class Command(BaseCommand):
    help = "The operator table: every workflow with its counts by status, oldest queued row and errors."

    def add_arguments(self, parser):
        parser.add_argument("--json", action="store_true")

    def handle(self, *args, **options):
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
