from django.apps import AppConfig
from django.utils.module_loading import autodiscover_modules


class CurationConfig(AppConfig):
    name = "curation"
    verbose_name = "Curation engine"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from curation import checks  # noqa: F401 - registers the system checks

        # Every app's workflows.py registers its declarations.
        autodiscover_modules("workflows")

        # Queueing rows wakes a worker (curation.tasks runs the engine, which builds on the services:
        # the services get the wake-up handed in rather than importing the tasks back).
        from curation import services, tasks

        services.waker_set(tasks.wake)
