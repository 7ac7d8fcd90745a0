from django.core.management.base import BaseCommand

from curation.schedules import schedules_sync


class Command(BaseCommand):
    help = "Create/update the django-q2 schedules of every registered workflow and delete orphans (idempotent)."

    def handle(self, *args, **options):
        result = schedules_sync()
        self.stdout.write(
            f"schedules: {len(result.created)} created, {len(result.updated)} updated, "
            f"{len(result.unchanged)} unchanged, {len(result.deleted)} deleted"
        )
        for name in result.deleted:
            self.stdout.write(f"  deleted {name}")
