from django.core.management.base import BaseCommand, CommandError

from curation import registry, services


class Command(BaseCommand):
    help = "Return rows whose worker died (lease expired) to the queue, or to Error when attempts ran out."

    def add_arguments(self, parser):
        parser.add_argument("workflow", nargs="?", help="one workflow (default: all)")

    def handle(self, *args, **options):
        try:
            workflows = [registry.get(options["workflow"])] if options["workflow"] else registry.all_workflows()
        except registry.UnknownWorkflow as exc:
            raise CommandError(str(exc)) from exc
        for wf in workflows:
            result = services.processing_rescue(workflow=wf)
            self.stdout.write(f"{wf.name}: {result.requeued} requeued, {result.errored} errored (worker lost)")
