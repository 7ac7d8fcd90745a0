"""manage.py startworkflow <app> <Model> <name> [--processing-only] [--after <workflow>]"""
import subprocess
import sys
from pathlib import Path

from django.apps import apps
from django.core.management.base import BaseCommand, CommandError

from curation import registry, scaffold


class Command(BaseCommand):
    help = ("Write a new workflow into an app: the model's workflow fields, the declaration, a hook to fill in "
            "(it fails rows with a clear error and `check` warns until it is written), the admin, the migration.")

    def add_arguments(self, parser):
        parser.add_argument("app", help="the app label, e.g. contacts")
        parser.add_argument("model", help="the model (CamelCase): an existing one gets the fields, else it is created")
        parser.add_argument("name", help="the workflow name (snake_case), e.g. contact_enrichment")
        parser.add_argument("--processing-only", action="store_true",
                            help="no curation status: rows are queued when they are created")
        parser.add_argument("--after", metavar="WORKFLOW", help="the workflow whose results feed this one")

    def handle(self, *args, app, model, name, processing_only, after, **options):
        try:
            config = apps.get_app_config(app)
        except LookupError:
            raise CommandError(f"No installed app {app!r}") from None
        model_exists = any(m.__name__ == model for m in config.get_models())
        try:
            plan = scaffold.plan_workflow(
                app_path=Path(config.path), app_label=config.label,
                model=model, name=name, processing_only=processing_only, after=after, model_exists=model_exists,
                known_workflows={wf.name for wf in registry.all_workflows()})
        except scaffold.ScaffoldError as exc:
            raise CommandError(str(exc)) from None
        for path in scaffold.apply(plan):
            self.stdout.write(f"wrote {path}")
        # A new process: this one imported the app's models before they were written.
        made = subprocess.run([sys.executable, "-m", "django", "makemigrations", config.label],
                              capture_output=True, text=True)
        self.stdout.write(made.stdout)
        if made.returncode:
            raise CommandError(f"makemigrations {config.label} failed (the files are written; fix and rerun "
                               f"makemigrations):\n{made.stderr}")
        for note in plan.notes:
            self.stdout.write(f"next: {note}")
