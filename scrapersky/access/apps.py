from django.apps import AppConfig
from django.db.models.signals import post_migrate


class AccessConfig(AppConfig):
    name = "scrapersky.access"
    label = "access"
    verbose_name = "Access (groups and permissions)"

    def ready(self):
        from scrapersky.access.roles import sync_after_migrate

        # Every migrate (and every test-database flush) brings the shipped groups up to date with the models.
        post_migrate.connect(sync_after_migrate, dispatch_uid="scrapersky.access.groups")
